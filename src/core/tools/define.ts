/**
 * Tool definitions. A tool's zod schema is the single source of truth: the
 * registry parses model arguments with it, and the JSON Schema sent to the
 * providers is generated from it.
 *
 * Contract for `execute`: it receives already-parsed arguments, reaches the
 * workspace only through `ctx.sandbox`, and resolves with a ToolOutcome for
 * anything the model can act on (a SandboxToolError thrown inside is turned into
 * an error outcome here). Anything else it throws is an infrastructure failure
 * for the runtime's boundary.
 */
import { z } from 'zod';
import { SandboxToolError, type SandboxPort } from '../sandbox/port.ts';

export interface ToolContext {
  sandbox: SandboxPort;
  signal: AbortSignal;
  callId: string;
  onOutput?(stream: 'stdout' | 'stderr', chunk: string): void;
}

export interface ToolOutcome {
  output: string;
  isError: boolean;
  meta?: Record<string, unknown>;
}

export type ToolSchema = z.ZodObject;

interface ToolBase<S extends ToolSchema> {
  readonly name: string;
  readonly description: string;
  readonly schema: S;
  /** True when the tool changes nothing in the workspace. */
  readonly readOnly: boolean;
  /** Provider-ready JSON Schema: `{type:'object', properties, required, additionalProperties:false}`. */
  readonly inputSchema: Record<string, unknown>;
}

/** A tool the tool layer executes against the sandbox. */
export interface ActionTool<S extends ToolSchema = ToolSchema> extends ToolBase<S> {
  readonly kind: 'action';
  execute(args: z.output<S>, ctx: ToolContext): Promise<ToolOutcome>;
  /**
   * For a call cut off by the host's crash: its outcome if the sandbox can tell
   * without running anything again, else undefined. Optional.
   */
  recover?(args: z.output<S>, ctx: ToolContext): Promise<ToolOutcome | undefined>;
}

/** finish / delegate / ask_user: schema and description only; the runtime acts on them. */
export interface ControlTool<S extends ToolSchema = ToolSchema> extends ToolBase<S> {
  readonly kind: 'control';
}

export type Tool = ActionTool | ControlTool;

interface ToolDefinition<S extends ToolSchema> {
  name: string;
  description: string;
  schema: S;
  readOnly: boolean;
}

type Recover<S extends ToolSchema> = (args: z.output<S>, ctx: ToolContext) => Promise<ToolOutcome | undefined>;

export function defineTool<S extends ToolSchema>(
  def: ToolDefinition<S> & { execute: (args: z.output<S>, ctx: ToolContext) => Promise<ToolOutcome>; recover?: Recover<S> },
): ActionTool<S>;
export function defineTool<S extends ToolSchema>(def: ToolDefinition<S>): ControlTool<S>;
export function defineTool<S extends ToolSchema>(
  def: ToolDefinition<S> & { execute?: (args: z.output<S>, ctx: ToolContext) => Promise<ToolOutcome>; recover?: Recover<S> },
): ActionTool<S> | ControlTool<S> {
  const base = {
    name: def.name,
    description: def.description,
    schema: def.schema,
    readOnly: def.readOnly,
    inputSchema: providerInputSchema(def.name, def.schema),
  };
  const execute = def.execute;
  if (execute === undefined) return { ...base, kind: 'control' };
  return {
    ...base,
    kind: 'action',
    ...(def.recover ? { recover: def.recover } : {}),
    async execute(args, ctx) {
      try {
        return await execute(args, ctx);
      } catch (error) {
        if (error instanceof SandboxToolError) return { output: error.message, isError: true, meta: { code: error.code } };
        throw error;
      }
    },
  };
}

const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/**
 * JSON Schema for the providers. Input-side (fields with defaults stay optional),
 * without `$schema`, always with `required` (OpenAI and Anthropic both accept
 * this shape), and without the ±2^53 bounds zod adds to every integer, which
 * only cost tokens. Throws at definition time if the schema is not a strict object.
 */
function providerInputSchema(name: string, schema: ToolSchema): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  delete generated.$schema;
  if (generated.type !== 'object' || generated.additionalProperties !== false) {
    throw new Error(`Tool ${name}: schema must be a strict object (z.strictObject), got ${JSON.stringify(generated).slice(0, 200)}`);
  }
  const properties = (generated.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const property of Object.values(properties)) {
    for (const key of ['minimum', 'maximum'] as const) {
      if (typeof property[key] === 'number' && SAFE_INTEGER_BOUNDS.has(property[key])) delete property[key];
    }
  }
  return {
    type: 'object',
    ...(typeof generated.description === 'string' ? { description: generated.description } : {}),
    properties,
    required: Array.isArray(generated.required) ? generated.required : [],
    additionalProperties: false,
  };
}

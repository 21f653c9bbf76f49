/**
 * Which tools each role has, their specs for the model, and the parsing of a
 * model's tool call into validated arguments. Every failure of `prepareCall`
 * is written for the model: it goes back as an error tool result.
 */
import type { z } from 'zod';
import type { Role, ToolCallRecord } from '../events/schema.ts';
import type { ToolSpec } from '../model/types.ts';
import { runCommandTool } from './command.ts';
import { askUserTool, delegateTool, finishTool } from './control.ts';
import type { Tool } from './define.ts';
import { editFileTool, listFilesTool, readFileTool, searchFilesTool, writeFileTool } from './files.ts';

const ALL_TOOLS: readonly Tool[] = [
  readFileTool,
  listFilesTool,
  searchFilesTool,
  writeFileTool,
  editFileTool,
  runCommandTool,
  finishTool,
  delegateTool,
  askUserTool,
];

const READING = [readFileTool, listFilesTool, searchFilesTool];
const WORKING = [...READING, writeFileTool, editFileTool, runCommandTool, finishTool];

const BY_ROLE: Readonly<Record<Role, readonly Tool[]>> = {
  orchestrator: [...READING, delegateTool, askUserTool, finishTool],
  developer: WORKING,
  tester: WORKING,
};

export function toolsForRole(role: Role): readonly Tool[] {
  return BY_ROLE[role];
}

export function toolSpecs(role: Role): ToolSpec[] {
  return BY_ROLE[role].map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema }));
}

export type PreparedCall = { ok: true; tool: Tool; args: Record<string, unknown> } | { ok: false; error: string };

const EXCERPT_CHARS = 120;

export function prepareCall(role: Role, call: ToolCallRecord): PreparedCall {
  const available = BY_ROLE[role];
  const names = available.map((t) => t.name).join(', ');
  const tool = available.find((t) => t.name === call.name);
  if (tool === undefined) {
    const elsewhere = ALL_TOOLS.some((t) => t.name === call.name);
    return {
      ok: false,
      error: elsewhere
        ? `Tool "${call.name}" is not available to the ${role}. Your tools are: ${names}.`
        : `Unknown tool "${excerpt(call.name)}". Your tools are: ${names}.`,
    };
  }

  const text = call.argsText.trim() === '' ? '{}' : call.argsText;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return {
      ok: false,
      error: `The arguments for ${tool.name} are not valid JSON: ${JSON.stringify(excerpt(text))}. ` +
        `Send one JSON object matching ${signature(tool)}.`,
    };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: `The arguments for ${tool.name} must be a JSON object, got ${describeValue(raw)}. Expected ${signature(tool)}.` };
  }

  const parsed = tool.schema.safeParse(withoutNullOptionals(tool, raw as Record<string, unknown>));
  if (parsed.success) return { ok: true, tool, args: parsed.data };
  const problems = parsed.error.issues.map((issue) => `- ${describeIssue(issue, raw as Record<string, unknown>, tool)}`);
  return { ok: false, error: `Invalid arguments for ${tool.name}:\n${problems.join('\n')}\nExpected ${signature(tool)}.` };
}

/**
 * Models (OpenAI's especially) often send `null` for an optional argument they
 * mean to leave out; treat that as absent rather than spend a turn on it.
 */
function withoutNullOptionals(tool: Tool, input: Record<string, unknown>): Record<string, unknown> {
  const required = new Set(tool.inputSchema.required as string[]);
  return Object.fromEntries(Object.entries(input).filter(([key, value]) => value !== null || required.has(key)));
}

function describeIssue(issue: z.core.$ZodIssue, input: Record<string, unknown>, tool: Tool): string {
  const field = issue.path.map(String).join('.');
  const value = issue.path.length === 1 ? input[String(issue.path[0])] : undefined;
  const present = issue.path.length === 1 && Object.hasOwn(input, String(issue.path[0]));
  switch (issue.code) {
    case 'unrecognized_keys': {
      const accepted = Object.keys(tool.schema.shape).join(', ');
      return issue.keys.map((k) => `unexpected argument "${k}" (${tool.name} accepts only: ${accepted})`).join('\n- ');
    }
    case 'invalid_type':
      if (!present) return `missing required argument "${field}" (${expected(tool, field)})`;
      return `"${field}" must be ${expected(tool, field)}, got ${describeValue(value)}`;
    case 'invalid_value':
      return `"${field}" must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(value)}`;
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return `"${field}" must not be empty`;
      return `"${field}" must be ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}${unit(issue.origin)}, got ${describeValue(value)}`;
    case 'too_big':
      return `"${field}" must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}${unit(issue.origin)}, got ${describeValue(value)}`;
    case 'invalid_format':
      // Our schemas give every format check a message written for the model.
      return `"${field}" ${issue.message}`;
    default:
      return `"${field}": ${issue.message}`;
  }
}

function unit(origin: string): string {
  return origin === 'string' ? ' characters' : origin === 'array' ? ' items' : '';
}

/** The JSON Schema type of one field, as the model was told it. */
function expected(tool: Tool, field: string): string {
  const properties = tool.inputSchema.properties as Record<string, { type?: unknown; enum?: unknown[] }>;
  const property = properties[field];
  if (property?.enum !== undefined) return `one of ${property.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const type = property?.type;
  if (typeof type !== 'string') return 'a valid value';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** e.g. `{"path": string, "offset"?: integer}` */
function signature(tool: Tool): string {
  const properties = tool.inputSchema.properties as Record<string, { type?: unknown; enum?: unknown[] }>;
  const required = new Set(tool.inputSchema.required as string[]);
  const fields = Object.entries(properties).map(([name, p]) => {
    const type = p.enum !== undefined ? p.enum.map((v) => JSON.stringify(v)).join(' | ') : String(p.type ?? 'any');
    return `"${name}"${required.has(name) ? '' : '?'}: ${type}`;
  });
  return `{${fields.join(', ')}}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(excerpt(value))}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `${value}` : `the non-integer ${value}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function excerpt(text: string): string {
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}...` : text;
}

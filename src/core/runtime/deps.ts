/**
 * Ports the runtime is built from. Passed in by the composition root (the CLI,
 * the extension, a test); the runtime reaches for no singleton.
 */
import type { ProviderName, Role, ToolCallRecord, Usage } from '../events/schema.ts';
import type { ModelRequest, ModelTurnResult, StreamPart, ToolSpec } from '../model/types.ts';
import type { SandboxPort } from '../sandbox/port.ts';
import type { RunFilesPort } from '../sandbox/run-files.ts';
import type { Logger } from '../log/logger.ts';

export interface ModelCaller {
  call(
    provider: ProviderName,
    req: ModelRequest,
    signal: AbortSignal,
    hooks?: {
      onPart?(part: StreamPart): void;
      onRetry?(info: { attempt: number; errorKind: string; delayMs: number; status?: number }): void;
    },
  ): Promise<ModelTurnResult>;
}

export interface ToolOutcome {
  output: string;
  isError: boolean;
  meta?: Record<string, unknown>;
}

export interface ToolContext {
  sandbox: SandboxPort;
  signal: AbortSignal;
  callId: string;
  onOutput?(stream: 'stdout' | 'stderr', chunk: string): void;
}

export interface PreparedTool {
  name: string;
  readOnly: boolean;
  /** Absent for control tools (finish, delegate, ask_user), which the runtime handles. */
  execute?(args: never, ctx: ToolContext): Promise<ToolOutcome>;
  /** After a host crash: the call's outcome if the sandbox knows it without re-running. */
  recover?(args: never, ctx: ToolContext): Promise<ToolOutcome | undefined>;
}

export type PreparedCall = { ok: true; tool: PreparedTool; args: unknown } | { ok: false; error: string };

export interface ToolCatalog {
  specs(role: Role): ToolSpec[];
  prepare(role: Role, call: ToolCallRecord): PreparedCall;
}

export interface RuntimeDeps {
  /** Host path of the workspace; `.crewbox/` lives here. */
  workspace: string;
  sandbox: SandboxPort;
  /** The run's files and checkpoints (the Docker sandbox); absent in unit tests of the loop. */
  runFiles?: RunFilesPort;
  /** A model caller for one run: its retry gate is shared by all agents of that run only. */
  modelsForRun(): ModelCaller;
  tools: ToolCatalog;
  priceOf(model: string, usage: Usage): number;
  contextWindowOf(model: string): number | undefined;
  redact<T>(value: T): T;
  logger: Logger;
  now(): number;
}

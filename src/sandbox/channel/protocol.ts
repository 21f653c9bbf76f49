/**
 * The supervisor wire protocol, host side (sandbox/supervisor/PROTOCOL.md is
 * the prose). The zod schemas are the source of truth for what the host
 * accepts; types come from them. Params are typed here and checked by the
 * supervisor.
 */
import { z } from 'zod';

export const readySchema = z.object({
  event: z.literal('ready'),
  protocol: z.number(),
  version: z.string(),
  pid: z.number(),
  uid: z.number(),
  gid: z.number(),
  node: z.string(),
  root: z.string(),
  shell: z.string(),
  search: z.enum(['rg', 'js']),
});
export type SupervisorInfo = Omit<z.infer<typeof readySchema>, 'event'>;

export const PROTOCOL_VERSION = 1;

/** Every line the supervisor writes: a response, a notification or the ready line. */
export const incomingSchema = z.union([
  z.object({ id: z.number(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number().nullish(), ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
  z.object({ id: z.number(), event: z.literal('output'), stream: z.enum(['stdout', 'stderr']), chunk: z.string() }),
  z.object({ id: z.number(), event: z.literal('paused'), bytes: z.number() }),
  readySchema,
]);
export type Incoming = z.infer<typeof incomingSchema>;
export type Notification = Extract<Incoming, { event: 'output' } | { event: 'paused' }>;

const execResult = z.object({
  exitCode: z.number().nullable(),
  signal: z.string().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  timedOut: z.boolean(),
  aborted: z.boolean(),
  interrupted: z.boolean().optional(),
  durationMs: z.number(),
  dropped: z.object({ stdout: z.number(), stderr: z.number() }),
  cwd: z.string().optional(),
  replayed: z.boolean().optional(),
  joined: z.boolean().optional(),
});

const fileKind = z.enum(['file', 'symlink', 'dir', 'missing']);
const wireFile = z.object({
  path: z.string(),
  kind: fileKind,
  mode: z.number(),
  size: z.number().optional(),
  content: z.string().optional(),
  linkTarget: z.string().optional(),
  chunked: z.boolean().optional(),
});

export const resultSchemas = {
  ping: z.object({ pong: z.literal(true), active: z.number() }),
  version: readySchema.omit({ event: true }),
  exec: execResult,
  kill: z.object({ killed: z.boolean() }),
  read: z.object({ content: z.string(), size: z.number() }),
  write: z.object({ path: z.string(), bytes: z.number(), replayed: z.boolean().optional() }),
  list: z.object({
    entries: z.array(z.object({ path: z.string(), type: z.enum(['file', 'dir', 'symlink']), size: z.number().optional() })),
    truncated: z.boolean(),
  }),
  search: z.object({ matches: z.array(z.object({ path: z.string(), line: z.number(), text: z.string() })), engine: z.enum(['rg', 'js']) }),
  changes: z.object({ paths: z.array(z.string()), overflow: z.boolean(), watches: z.number(), files: z.array(wireFile).optional() }),
  readFiles: z.object({ files: z.array(wireFile) }),
  readChunk: z.object({ content: z.string(), size: z.number(), eof: z.boolean() }),
  listAll: z.object({
    entries: z.array(z.object({ path: z.string(), kind: fileKind.exclude(['missing']), mode: z.number(), size: z.number(), mtimeMs: z.number() })),
  }),
  deletePaths: z.object({ deleted: z.number() }),
  clear: z.object({ removed: z.number() }),
} as const;

export type OpName = keyof typeof resultSchemas;
export type OpResult<K extends OpName> = z.infer<(typeof resultSchemas)[K]>;
export type WireExecResult = OpResult<'exec'>;

export interface OpParams {
  ping: Record<string, never>;
  version: Record<string, never>;
  exec: { callId: string; command: string; timeoutMs: number; session?: string; replayOnly?: boolean };
  kill: { callId: string };
  read: { path: string; maxBytes?: number };
  write: { path: string; content: string; encoding?: 'utf8' | 'base64'; callId?: string };
  list: { path: string; depth: number; maxEntries?: number };
  search: { pattern: string; path: string; glob?: string; maxResults: number; maxFileBytes?: number };
  /** discard: the tracker forgets what it collected and answers no paths (after a copy-in: its own events). */
  /** read: also snapshot the changed paths (as readFiles) when there are at most maxPaths of them. */
  changes: { discard?: boolean; read?: { maxPaths: number; inlineMax?: number; budget?: number } };
  readFiles: { paths: string[]; inlineMax?: number; budget?: number };
  readChunk: { path: string; offset: number; length: number };
  listAll: Record<string, never>;
  deletePaths: { paths: string[] };
  clear: Record<string, never>;
}

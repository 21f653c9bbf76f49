/**
 * The event types that go to live listeners only and are never written to the
 * log (token deltas, streamed command output, sandbox progress). Zod-free, so
 * code that must load without building the event schemas (the chat webview's
 * startup) can import it; schema.ts re-exports it.
 */
import type { RunEventType } from './schema.ts';

export const EPHEMERAL_EVENT_TYPES: ReadonlySet<RunEventType> = new Set<RunEventType>(['model.delta', 'model.tool_delta', 'tool.output', 'sandbox.progress']);

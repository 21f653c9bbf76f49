/**
 * A fake LLM provider for tests: a real HTTP server speaking the OpenAI Chat
 * Completions and Anthropic Messages wire formats, driven by a responder.
 */
export { startFakeProvider, type FakeProvider, type FakeProviderOptions } from './server.ts';
export {
  countSamples,
  queueResponder,
  roleOf,
  scriptByRole,
  taskOf,
  turnIndex,
  type QueueResponder,
  type RoleScript,
  type ScriptContext,
  type ScriptEntry,
  type ScriptOptions,
} from './script.ts';
export type {
  FakeCut,
  FakeError,
  FakeErrorSpec,
  FakeRequest,
  FakeResponse,
  FakeStall,
  FakeToolCall,
  FakeTurn,
  Responder,
  WireProvider,
} from './types.ts';

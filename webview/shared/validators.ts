/**
 * The protocol's validators as a webview loads them: on demand, through
 * `connect` (vscode-api.ts), not at startup. zod-csp.ts comes first so zod is
 * in jitless mode before any schema is built; in the bundle this module and
 * everything it imports (zod, the message schemas, the RunEvent union) are
 * evaluated only when the loader runs.
 */
import './zod-csp.ts';

export { parseHostMessage, parseParams, parseResult } from '../../src/protocol/validate.ts';

// For the devtools' Performance panel and bench/webview.bench.ts: when the schemas were built.
performance.mark('crewbox:validators-built');

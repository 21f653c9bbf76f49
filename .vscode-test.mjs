// @vscode/test-cli configuration: `npm run test:vscode` runs test/vscode/ inside a
// VS Code that @vscode/test-electron downloads. That download fails on our machines
// (no VS Code download server), so CI runs the e2e tier in code-server instead
// (test/e2e, `npm run test:e2e`); this suite is for developers who can download VS Code.
// The tests are bundled to out/test/vscode/*.test.cjs first (see the test:vscode script).
import { defineConfig } from '@vscode/test-cli';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// A throwaway copy of a fixture, so runs never write .crewbox/ into the repo.
const workspace = mkdtempSync(path.join(tmpdir(), 'crewbox-test-electron-'));
cpSync('test/e2e/fixtures/two-bugs', workspace, { recursive: true });

export default defineConfig({
  label: 'extension',
  files: 'out/test/vscode/**/*.test.cjs',
  version: 'stable',
  extensionDevelopmentPath: '.',
  workspaceFolder: workspace,
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  mocha: { ui: 'bdd', timeout: 60_000 },
});

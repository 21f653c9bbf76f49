/**
 * `${...}` variables in devcontainer.json values. Only the ones that are safe
 * and meaningful in the sandbox are resolved:
 * - `localWorkspaceFolder` (the host path): only where the value is used on
 *   the host (image name, build paths and args), never in anything that ends
 *   up inside the container;
 * - `localWorkspaceFolderBasename`, `containerWorkspaceFolder` (/workspace),
 *   `containerWorkspaceFolderBasename` (workspace): everywhere.
 * `localEnv:`/`env:` are never resolved: host environment variables must not
 * reach the sandbox (API keys live there). `containerEnv:` and anything else
 * are unsupported. A value using an unsupported variable is reported, not
 * half-substituted.
 */
import path from 'node:path';

export const CONTAINER_WORKSPACE = '/workspace';

/** Where the substituted value will be used. */
export type VarScope = 'host' | 'container';

export type Substituted = { ok: true; value: string } | { ok: false; unsupported: string[] };

const VARIABLE = /\$\{([^}]*)\}/g;

function resolveVariable(name: string, scope: VarScope, workspace: string): string | undefined {
  switch (name) {
    case 'localWorkspaceFolder':
      return scope === 'host' ? workspace : undefined;
    case 'localWorkspaceFolderBasename':
      return path.basename(workspace);
    case 'containerWorkspaceFolder':
      return CONTAINER_WORKSPACE;
    case 'containerWorkspaceFolderBasename':
      return path.posix.basename(CONTAINER_WORKSPACE);
    default:
      return undefined;
  }
}

export function substituteVariables(value: string, scope: VarScope, workspace: string): Substituted {
  const unsupported: string[] = [];
  const replaced = value.replace(VARIABLE, (whole: string, name: string) => {
    const resolved = resolveVariable(name.trim(), scope, workspace);
    if (resolved === undefined) unsupported.push(whole);
    return resolved ?? whole;
  });
  return unsupported.length > 0 ? { ok: false, unsupported } : { ok: true, value: replaced };
}

/** Why a value with these variables was left out, as one sentence. */
export function unsupportedVariablesNote(key: string, unsupported: string[], scope: VarScope): string {
  const list = unsupported.join(', ');
  const hostEnv = unsupported.some((v) => /^\$\{\s*(localEnv|env):/.test(v));
  const supported = `${scope === 'host' ? '${localWorkspaceFolder}, ' : ''}\${localWorkspaceFolderBasename}, \${containerWorkspaceFolder} and \${containerWorkspaceFolderBasename}`;
  const reason = hostEnv ? 'host environment variables never enter the sandbox' : `Crewbox resolves only ${supported} there`;
  return `${key} uses ${list}, which Crewbox does not resolve (${reason}), so it was left out.`;
}

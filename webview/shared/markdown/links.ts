/**
 * The only URLs a rendered link may carry: absolute http, https and mailto.
 * Everything else (javascript:, data:, vbscript:, file:, relative paths,
 * command: URIs that would run VS Code commands) stays plain text.
 */
const ALLOWED_PROTOCOLS: ReadonlySet<string> = new Set(['http:', 'https:', 'mailto:']);

export function safeLinkHref(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  return ALLOWED_PROTOCOLS.has(url.protocol) ? url.href : undefined;
}

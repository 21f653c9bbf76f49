/**
 * Secret redaction for everything that leaves the process or reaches disk:
 * the event log, logs and exported traces.
 *
 * Contract:
 * - `redact` replaces every exact secret value it was given and every
 *   well-known credential shape with REDACTED; it never throws.
 * - `redactDeep` returns a redacted copy and never mutates its input.
 * - One precompiled regular expression does the whole scan, and every
 *   pattern in it runs in time linear in the text (no nested quantifiers),
 *   so it is cheap enough to run on every event the recorder writes.
 */

export const REDACTED = '[REDACTED]';

/** Shorter values are never collected as secrets: replacing them would wreck ordinary text. */
export const MIN_SECRET_LENGTH = 8;

export interface Redactor {
  redact(text: string): string;
  /** A redacted copy of JSON-like data (see `redactDeep` below for what is walked). */
  redactDeep<T>(value: T): T;
}

export interface RedactorOptions {
  /**
   * Exact secret values (API keys from the environment or SecretStorage),
   * used as given: only empty strings are dropped. Values from the
   * environment should come through `secretsFromEnv`, which skips short ones.
   */
  secrets?: readonly string[];
}

/** Both cases of each letter, so header names match case-insensitively without the `i` flag. */
function anyCase(word: string): string {
  return word.replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

// Token characters of bearer tokens, API keys and base64 credentials.
const TOKEN = String.raw`[\w.~+/=-]`;
// Requiring a digit spares prose and code ("Bearer authentication",
// "authorization = req.headers.authorization"); real tokens are random and
// show one early. The look-ahead is bounded so that text full of
// near-misses ("sk-sk-sk-…") stays linear rather than quadratic.
const DIGIT_AHEAD = 256;
const TOKEN_WITH_DIGIT = String.raw`(?=${TOKEN}{0,${DIGIT_AHEAD}}\d)${TOKEN}`;

// Header-style credentials: the name (and separator) is kept, the value goes.
// After an auth scheme the value is redacted whatever it looks like.
const HEADER_NAMES = ['proxy-authorization', 'authorization', 'x-api-key'].map(anyCase).join('|');
const AUTH_SCHEMES = ['basic', 'bearer', 'token', 'digest'].map(anyCase).join('|');
const HEADER =
  String.raw`(?<header>\b(?:${HEADER_NAMES})["']?[ \t]*[:=][ \t]*["']?)` +
  String.raw`(?:(?:${AUTH_SCHEMES})[ \t]+[^\s"'\`]{6,}[^\r\n"'\`]*|${TOKEN_WITH_DIGIT}{12,})`;
const BEARER = String.raw`(?<bearer>\b${anyCase('bearer')}[ \t]+)${TOKEN_WITH_DIGIT}{8,}`;

const KEY_SHAPES = [
  // A truncated block (no END line) is redacted to the end of the text.
  String.raw`-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY-----(?:[\s\S]*?-----END[A-Z0-9 ]{0,40}PRIVATE KEY-----|[\s\S]*)`,
  // OpenAI (sk-, sk-proj-, sk-svcacct-) and Anthropic (sk-ant-) keys. The
  // digit requirement spares hyphenated words such as "sk-learn-...".
  String.raw`\bsk-(?=[\w-]{0,${DIGIT_AHEAD}}\d)[\w-]{20,}`,
  String.raw`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`,
  String.raw`\bgh[pousr]_[A-Za-z0-9]{30,}`,
  String.raw`\bgithub_pat_\w{20,}`,
];

/**
 * Object keys whose string values are credentials whatever they look like
 * (`{ headers: { authorization: 'Basic …' } }`). Deliberately narrow: broad
 * suffixes such as `_key` would hit ordinary data (`primary_key`).
 */
const SENSITIVE_KEY = /^(?:authorization|proxy-authorization|x-api-key|api[-_]?key|password|passwd|client[-_]?secret|access[-_]?token|refresh[-_]?token)$/i;

export function createRedactor(options: RedactorOptions = {}): Redactor {
  const secrets = [...new Set(options.secrets ?? [])].filter((s) => s.length > 0);
  // Longest first, so a secret that contains another is replaced whole.
  secrets.sort((a, b) => b.length - a.length);
  const alternatives = [...secrets.map(escapeRegExp), HEADER, BEARER, ...KEY_SHAPES];
  const pattern = new RegExp(alternatives.join('|'), 'g');

  const replace = (match: string, ...rest: unknown[]): string => {
    const groups = rest[rest.length - 1] as { header?: string; bearer?: string };
    const kept = groups.header ?? groups.bearer;
    return kept === undefined ? REDACTED : kept + REDACTED;
  };

  const redact = (text: string): string => {
    return text.replace(pattern, replace);
  };

  const walk = (value: unknown, seen: WeakMap<object, unknown>): unknown => {
    if (typeof value === 'string') return redact(value);
    if (value === null || typeof value !== 'object') return value;
    if (value instanceof Date) return new Date(value.getTime());
    const known = seen.get(value);
    if (known !== undefined) return known;
    if (Array.isArray(value)) {
      const copy: unknown[] = [];
      seen.set(value, copy);
      for (const item of value) copy.push(walk(item, seen));
      return copy;
    }
    const copy: Record<string, unknown> = {};
    seen.set(value, copy);
    if (value instanceof Error) {
      // Errors keep name/message/stack as own non-enumerable properties.
      copy['name'] = value.name;
      copy['message'] = redact(value.message);
      if (value.stack !== undefined) copy['stack'] = redact(value.stack);
      if (value.cause !== undefined) copy['cause'] = walk(value.cause, seen);
    }
    for (const [key, item] of Object.entries(value)) {
      copy[key] = typeof item === 'string' && SENSITIVE_KEY.test(key) ? REDACTED : walk(item, seen);
    }
    return copy;
  };

  return {
    redact,
    /**
     * Strings are redacted; arrays and objects are copied (an object becomes a
     * plain object of its own enumerable properties; an Error also keeps name,
     * message, stack and cause); string values under credential-named keys are
     * replaced whole; shared references and cycles are preserved in the copy.
     */
    redactDeep: <T>(value: T): T => walk(value, new WeakMap()) as T,
  };
}

const SECRET_ENV_NAME = /(?:_KEY|_TOKEN|_SECRET|PASSWORD)$/i;

/**
 * Values of environment variables that hold credentials (names ending in
 * _KEY, _TOKEN, _SECRET or PASSWORD, which covers OPENAI_API_KEY and
 * ANTHROPIC_API_KEY). Values shorter than MIN_SECRET_LENGTH are skipped.
 */
export function secretsFromEnv(env: Readonly<Record<string, string | undefined>>): string[] {
  const found = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !SECRET_ENV_NAME.test(name)) continue;
    const trimmed = value.trim();
    if (trimmed.length >= MIN_SECRET_LENGTH) found.add(trimmed);
  }
  return [...found];
}

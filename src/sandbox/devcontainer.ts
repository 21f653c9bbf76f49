/**
 * devcontainer.json support: find it in a workspace, parse it as JSONC (the
 * only importer of jsonc-parser) and resolve what the sandbox honours:
 * `image`, `build` {dockerfile, context, args} (and the legacy top-level
 * `dockerFile`/`context`), `containerEnv`, `remoteUser`/`containerUser` and
 * `postCreateCommand`. Every other key present is listed in `ignored` so the
 * CLI and the extension can say so.
 *
 * Contract:
 * - Build paths are relative to the folder holding devcontainer.json and must
 *   stay inside the workspace (a repository must not be able to send host
 *   files such as ~/.ssh into an image the agents can read).
 * - `containerEnv` values are passed literally: they come from the workspace
 *   itself, which the agents can read anyway. Host environment variables
 *   (`${localEnv:...}`) are never resolved; see devcontainer-vars.ts.
 * - Invalid files throw SandboxSetupError('devcontainer_invalid') with one
 *   sentence naming the file and, for syntax errors, the line and column.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { substituteVariables, unsupportedVariablesNote, type VarScope } from './devcontainer-vars.ts';
import { SandboxSetupError } from './setup-error.ts';

/** Looked up in this order, relative to the workspace root. */
export const DEVCONTAINER_LOCATIONS = ['.devcontainer/devcontainer.json', '.devcontainer.json'] as const;

export interface DevcontainerBuild {
  /** Absolute host path of the Dockerfile. */
  dockerfile: string;
  /** Absolute host path of the build context folder. */
  context: string;
  args: Record<string, string>;
}

export interface PostCreateStep {
  /** The key in the object form; absent for the string and array forms. */
  name?: string;
  /** A string runs with `sh -c`; an array runs as argv without a shell, as the spec says. */
  command: string | string[];
}

export interface Devcontainer {
  /** Absolute host path of devcontainer.json. */
  file: string;
  /** The same, relative to the workspace (for messages). */
  relativeFile: string;
  image?: string;
  build?: DevcontainerBuild;
  containerEnv: Record<string, string>;
  /** remoteUser, else containerUser. */
  user?: string;
  postCreate: PostCreateStep[];
  /** Key paths present in the file that the sandbox does not honour, e.g. "forwardPorts", "build.target". */
  ignored: string[];
  /** Sentences explaining ignored values that are not plain unsupported keys. */
  warnings: string[];
}

/** Top-level keys that are honoured or are harmless metadata. */
const HONOURED = new Set(['name', '$schema', 'image', 'build', 'dockerFile', 'context', 'containerEnv', 'remoteUser', 'containerUser', 'postCreateCommand']);
const HONOURED_BUILD = new Set(['dockerfile', 'context', 'args']);

const PARSE_ERRORS: Record<string, string> = {
  InvalidSymbol: 'an unexpected character',
  InvalidNumberFormat: 'a malformed number',
  PropertyNameExpected: 'a property name is expected',
  ValueExpected: 'a value is expected',
  ColonExpected: 'a colon is expected',
  CommaExpected: 'a comma is expected',
  CloseBraceExpected: 'a closing brace is expected',
  CloseBracketExpected: 'a closing bracket is expected',
  EndOfFileExpected: 'nothing more is expected',
  InvalidCommentToken: 'a malformed comment',
  UnexpectedEndOfComment: 'a comment is not closed',
  UnexpectedEndOfString: 'a string is not closed',
  UnexpectedEndOfNumber: 'a number is cut off',
  InvalidUnicode: 'an invalid unicode escape',
  InvalidEscapeCharacter: 'an invalid escape character',
  InvalidCharacter: 'an invalid character in a string',
};

/** The first devcontainer.json of the workspace, as an absolute path, or undefined. */
export async function findDevcontainer(workspace: string): Promise<string | undefined> {
  for (const location of DEVCONTAINER_LOCATIONS) {
    const file = path.join(path.resolve(workspace), location);
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) return file;
  }
  return undefined;
}

/** Finds, reads and resolves the workspace's devcontainer.json; undefined when there is none. */
export async function loadDevcontainer(workspace: string): Promise<Devcontainer | undefined> {
  const root = path.resolve(workspace);
  const file = await findDevcontainer(root);
  if (!file) return undefined;
  const config = parseDevcontainer(await readFile(file, 'utf8'), { file, workspace: root });
  if (config.build) await checkBuildPaths(config, root);
  return config;
}

/** Pure part of loadDevcontainer: parses and resolves the text of `file`. */
export function parseDevcontainer(text: string, where: { file: string; workspace: string }): Devcontainer {
  const workspace = path.resolve(where.workspace);
  const file = path.resolve(where.file);
  const relativeFile = path.relative(workspace, file).split(path.sep).join('/');
  const invalid = (what: string): SandboxSetupError => new SandboxSetupError('devcontainer_invalid', `${relativeFile}: ${what}`);

  const errors: ParseError[] = [];
  const root: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true });
  const first = errors[0];
  if (first) {
    const { line, column } = lineColumn(text, first.offset);
    const code = printParseErrorCode(first.error);
    throw invalid(`not valid JSON: ${PARSE_ERRORS[code] ?? code} at line ${line}, column ${column}.`);
  }
  if (!isRecord(root)) throw invalid('the file must contain one JSON object.');

  const config: Devcontainer = { file, relativeFile, containerEnv: {}, postCreate: [], ignored: [], warnings: [] };
  const folder = path.dirname(file);
  const value = (key: string, raw: string, scope: VarScope): string | undefined => {
    const result = substituteVariables(raw, scope, workspace);
    if (result.ok) return result.value;
    config.ignored.push(key);
    config.warnings.push(unsupportedVariablesNote(key, result.unsupported, scope));
    return undefined;
  };
  const required = (key: string, raw: string): string => {
    const resolved = substituteVariables(raw, 'host', workspace);
    if (!resolved.ok) throw invalid(`${key} uses ${resolved.unsupported.join(', ')}, which Crewbox cannot resolve there; use a plain path or name.`);
    return resolved.value;
  };

  for (const key of Object.keys(root)) if (!HONOURED.has(key)) config.ignored.push(key);

  const build = optionalRecord(root, 'build', invalid);
  const legacyDockerfile = optionalString(root, 'dockerFile', invalid);
  const buildDockerfile = build && optionalString(build, 'dockerfile', invalid, 'build.');
  const dockerfile = buildDockerfile ?? legacyDockerfile;
  const dockerfileKey = buildDockerfile !== undefined ? 'build.dockerfile' : 'dockerFile';
  if (build || legacyDockerfile !== undefined) {
    if (dockerfile === undefined) throw invalid('"build" needs a "dockerfile" (relative to the folder of devcontainer.json).');
    if (build) for (const key of Object.keys(build)) if (!HONOURED_BUILD.has(key)) config.ignored.push(`build.${key}`);
    if (buildDockerfile !== undefined && legacyDockerfile !== undefined) config.ignored.push('dockerFile');
    const buildContext = build && optionalString(build, 'context', invalid, 'build.');
    const legacyContext = optionalString(root, 'context', invalid);
    const context = buildContext ?? legacyContext ?? '.';
    const contextKey = buildContext !== undefined ? 'build.context' : 'context';
    if (buildContext !== undefined && legacyContext !== undefined) config.ignored.push('context');
    const args: Record<string, string> = {};
    for (const [name, raw] of Object.entries(optionalStringRecord(build ?? {}, 'args', invalid, 'build.'))) {
      const resolved = value(`build.args.${name}`, raw, 'host');
      if (resolved !== undefined) args[name] = resolved;
    }
    config.build = {
      dockerfile: path.resolve(folder, required(dockerfileKey, dockerfile)),
      context: path.resolve(folder, required(contextKey, context)),
      args,
    };
    for (const [key, target] of [[dockerfileKey, config.build.dockerfile], [contextKey, config.build.context]] as const) {
      if (!isInside(workspace, target)) throw invalid(`${key} resolves to ${target}, outside the workspace; Crewbox builds only from files inside the workspace.`);
    }
    if (root['image'] !== undefined) config.ignored.push('image');
  } else {
    if (root['context'] !== undefined) config.ignored.push('context');
    const image = optionalString(root, 'image', invalid);
    if (image !== undefined) {
      if (image.trim() === '') throw invalid('"image" is empty.');
      config.image = required('image', image);
    }
  }

  for (const [name, raw] of Object.entries(optionalStringRecord(root, 'containerEnv', invalid))) {
    if (name === '' || name.includes('=')) throw invalid(`containerEnv has an invalid variable name ${JSON.stringify(name)}.`);
    const resolved = value(`containerEnv.${name}`, raw, 'container');
    if (resolved !== undefined) config.containerEnv[name] = resolved;
  }

  const remoteUser = optionalString(root, 'remoteUser', invalid);
  const containerUser = optionalString(root, 'containerUser', invalid);
  if (remoteUser !== undefined && containerUser !== undefined && remoteUser !== containerUser) {
    config.ignored.push('containerUser');
    config.warnings.push(`containerUser is ignored: the sandbox runs everything as remoteUser ${JSON.stringify(remoteUser)}.`);
  }
  const userKey = remoteUser !== undefined ? 'remoteUser' : 'containerUser';
  const rawUser = remoteUser ?? containerUser;
  if (rawUser !== undefined) {
    const user = value(userKey, rawUser.trim(), 'container');
    if (user === '') throw invalid(`"${userKey}" is empty.`);
    if (user !== undefined) config.user = user;
  }

  config.postCreate = postCreateSteps(root['postCreateCommand'], invalid, (key, raw) => value(key, raw, 'container'));
  return config;
}

function postCreateSteps(
  raw: unknown,
  invalid: (what: string) => SandboxSetupError,
  resolve: (key: string, raw: string) => string | undefined,
): PostCreateStep[] {
  if (raw === undefined || raw === null) return [];
  const one = (key: string, command: unknown, name?: string): PostCreateStep[] => {
    const named = name === undefined ? {} : { name };
    if (typeof command === 'string') {
      if (command.trim() === '') return [];
      const resolved = resolve(key, command);
      return resolved === undefined ? [] : [{ ...named, command: resolved }];
    }
    if (Array.isArray(command) && command.length > 0 && command.every((c): c is string => typeof c === 'string')) {
      const resolved = command.map((c) => resolve(key, c));
      if (resolved.some((c) => c === undefined)) return [];
      return [{ ...named, command: resolved as string[] }];
    }
    throw invalid(`"${key}" must be a command string or a non-empty array of strings.`);
  };
  if (isRecord(raw)) return Object.entries(raw).flatMap(([name, command]) => one(`postCreateCommand.${name}`, command, name));
  return one('postCreateCommand', raw);
}

/** The build context and Dockerfile must exist and, after resolving symlinks, stay inside the workspace. */
async function checkBuildPaths(config: Devcontainer, workspace: string): Promise<void> {
  const build = config.build;
  if (!build) return;
  const realWorkspace = await realpath(workspace);
  const checks = [
    { key: 'build.context', target: build.context, kind: 'folder' },
    { key: 'build.dockerfile', target: build.dockerfile, kind: 'file' },
  ] as const;
  for (const { key, target, kind } of checks) {
    const info = await stat(target).catch(() => undefined);
    if (!info || (kind === 'file' ? !info.isFile() : !info.isDirectory())) {
      throw new SandboxSetupError('devcontainer_invalid', `${config.relativeFile}: ${key} ${target} is not an existing ${kind}.`);
    }
    if (!isInside(realWorkspace, await realpath(target))) {
      throw new SandboxSetupError('devcontainer_invalid', `${config.relativeFile}: ${key} ${target} leads outside the workspace through a symlink; Crewbox builds only from files inside the workspace.`);
    }
  }
}

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let column = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      column = 1;
    } else column++;
  }
  return { line, column };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Invalid = (what: string) => SandboxSetupError;

function optionalString(obj: Record<string, unknown>, key: string, invalid: Invalid, prefix = ''): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`"${prefix}${key}" must be a string.`);
  return v;
}

function optionalRecord(obj: Record<string, unknown>, key: string, invalid: Invalid): Record<string, unknown> | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw invalid(`"${key}" must be an object.`);
  return v;
}

function optionalStringRecord(obj: Record<string, unknown>, key: string, invalid: Invalid, prefix = ''): Record<string, string> {
  const v = obj[key];
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw invalid(`"${prefix}${key}" must be an object of strings.`);
  for (const [name, item] of Object.entries(v)) {
    if (typeof item !== 'string') throw invalid(`"${prefix}${key}.${name}" must be a string.`);
  }
  return v as Record<string, string>;
}


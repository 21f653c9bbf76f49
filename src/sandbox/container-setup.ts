/**
 * Setup of a freshly created sandbox container, step by step (the container
 * manager calls them in this order):
 * 1. `resolveIdentity`: the user spec → uid/gid from the image's /etc/passwd
 *    and /etc/group; uid 0 is refused whatever its name.
 * 2. `prepareDirectories` (before start): /workspace owned by that user, and
 *    /opt/crewbox (root's; the supervisor and node live there) with
 *    /opt/crewbox/state (the user's, 0700, outside /workspace so nothing in it
 *    shows up in a diff). With every capability dropped nobody in the
 *    container can chown; the engine's archive extraction runs in the daemon
 *    and applies the owners written in the tar headers, also to directories
 *    that already exist in the image (verified on Docker 20.10).
 * 3. `ensureNode`: a Node ≥ 18 on the image's PATH, else the host's own node
 *    binary copied to /opt/crewbox/node. That binary is dynamically linked
 *    against glibc and libstdc++: it runs in glibc images of the same CPU
 *    architecture (Debian, Ubuntu, Fedora...), not in Alpine (musl), and not
 *    when the host is macOS/Windows; it is run once to verify, and a clear
 *    error says to install Node in the image otherwise.
 * 4. `runPostCreate`: the devcontainer's postCreateCommand steps, in order,
 *    as the sandbox user in /workspace; the first failure stops setup.
 * 5. `writeSetupRecord`: /opt/crewbox/setup.json, root-owned. A container
 *    without a valid record (setup was interrupted) is never reused.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import type { DockerEngine } from './docker/engine.ts';
import { isDockerError } from './docker/engine.ts';
import type { PostCreateStep } from './devcontainer.ts';
import { CONTAINER_WORKSPACE } from './devcontainer-vars.ts';
import { parseUserSpec, SETUP_VERSION } from './container-config.ts';
import { SandboxSetupError } from './setup-error.ts';
import { packTar, readFirstFile } from './tar-pack.ts';

export const CREWBOX_DIR = '/opt/crewbox';
export const STATE_DIR = '/opt/crewbox/state';
export const INJECTED_NODE_PATH = '/opt/crewbox/node';
export const SETUP_RECORD_PATH = '/opt/crewbox/setup.json';
export const MIN_NODE_MAJOR = 18;
/** How much of a postCreateCommand's output is kept in the setup record. */
const RECORDED_OUTPUT_CHARS = 64 * 1024;

export interface SandboxIdentity {
  /** The spec given to the engine ("crewbox", "node", "1000:1000"). */
  user: string;
  uid: number;
  gid: number;
}

const NodeRuntimeSchema = z.object({
  /** Absolute path inside the container. */
  path: z.string().startsWith('/'),
  /** e.g. "v20.11.1". */
  version: z.string(),
  /** True when the host's binary was copied in. */
  injected: z.boolean(),
});
export type NodeRuntime = z.infer<typeof NodeRuntimeSchema>;

const PostCreateResultSchema = z.object({
  name: z.string().optional(),
  command: z.union([z.string(), z.array(z.string())]),
  exitCode: z.number().nullable(),
  /** stdout then stderr, the last 64 KiB. */
  output: z.string(),
});
export type PostCreateResult = z.infer<typeof PostCreateResultSchema>;

/** /opt/crewbox/setup.json. */
const SetupRecordSchema = z.object({
  version: z.literal(SETUP_VERSION),
  uid: z.number().int(),
  gid: z.number().int(),
  node: NodeRuntimeSchema,
  postCreate: z.array(PostCreateResultSchema),
  completedAt: z.string(),
});
export type SetupRecord = z.infer<typeof SetupRecordSchema>;

/** The content of a file in the container, or undefined when it does not exist. */
async function readContainerFile(engine: DockerEngine, id: string, file: string): Promise<string | undefined> {
  try {
    const content = await readFirstFile(await engine.getArchive(id, file));
    return content?.toString('utf8');
  } catch (e) {
    if (isDockerError(e) && e.code === 'container_gone') return undefined;
    throw e;
  }
}

function lookup(table: string | undefined, name: string): string[] | undefined {
  for (const line of (table ?? '').split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name) return fields;
  }
  return undefined;
}

function numeric(s: string): number | undefined {
  return /^\d+$/.test(s) ? Number(s) : undefined;
}

export async function resolveIdentity(engine: DockerEngine, id: string, spec: string, source: string): Promise<SandboxIdentity> {
  const { user, group } = parseUserSpec(spec);
  const passwd = await readContainerFile(engine, id, '/etc/passwd');
  const entry = numeric(user) === undefined ? lookup(passwd, user) : undefined;
  const uid = numeric(user) ?? numeric(entry?.[2] ?? '');
  if (uid === undefined) throw new SandboxSetupError('user_unknown', `${source} names the user "${user}", which does not exist in the image; use a user the image defines or a numeric uid:gid.`);
  if (uid === 0) throw new SandboxSetupError('root_user', `${source} names the user "${spec}", which is root (uid 0) in the image, but the sandbox never runs as root; set a non-root remoteUser.`);
  let gid: number | undefined;
  if (group !== undefined && group !== '') {
    gid = numeric(group) ?? numeric(lookup(await readContainerFile(engine, id, '/etc/group'), group)?.[2] ?? '');
    if (gid === undefined) throw new SandboxSetupError('user_unknown', `${source} names the group "${group}", which does not exist in the image; use a group the image defines or a numeric gid.`);
  } else {
    const byUid = entry ?? (passwd ?? '').split('\n').map((l) => l.split(':')).find((f) => f[2] === String(uid));
    gid = numeric(byUid?.[3] ?? '') ?? uid;
  }
  return { user: spec, uid, gid };
}

/** Creates the sandbox's directories with their owners; works on a created container before it starts. */
export async function prepareDirectories(engine: DockerEngine, id: string, identity: SandboxIdentity): Promise<void> {
  const tar = packTar([
    { type: 'directory', name: `${CONTAINER_WORKSPACE.slice(1)}/`, mode: 0o755, uid: identity.uid, gid: identity.gid },
    { type: 'directory', name: `${CREWBOX_DIR.slice(1)}/`, mode: 0o755 },
    { type: 'directory', name: `${STATE_DIR.slice(1)}/`, mode: 0o700, uid: identity.uid, gid: identity.gid },
  ]);
  await engine.putArchive(id, '/', tar);
}

function nodeMajor(version: string): number | undefined {
  const match = /^v(\d+)\./.exec(version.trim());
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Runs a probe command; a command the image cannot start counts as a failed probe. */
async function probe(engine: DockerEngine, id: string, cmd: string[]): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  try {
    return await engine.execCollect(id, { cmd, workingDir: '/' });
  } catch (e) {
    if (isDockerError(e) && e.code === 'engine') return { exitCode: null, stdout: '', stderr: e.message };
    throw e;
  }
}

export async function ensureNode(engine: DockerEngine, id: string, opts: { hostNode: string; imageRef: string; onProgress?: (message: string) => void }): Promise<NodeRuntime> {
  const found = await probe(engine, id, ['sh', '-c', 'command -v node && node --version']);
  if (found.exitCode === 0) {
    const [nodePath = '', version = ''] = found.stdout.trim().split('\n').map((l) => l.trim());
    const major = nodeMajor(version);
    if (nodePath.startsWith('/') && major !== undefined && major >= MIN_NODE_MAJOR) return { path: nodePath, version, injected: false };
  }
  opts.onProgress?.(`The image has no Node.js ${MIN_NODE_MAJOR}+; copying Crewbox's own Node.js into ${INJECTED_NODE_PATH}`);
  const size = (await stat(opts.hostNode)).size;
  await engine.putArchive(id, CREWBOX_DIR, packTar([{ type: 'file', name: 'node', mode: 0o755, size, content: () => createReadStream(opts.hostNode) }]));
  const check = await probe(engine, id, [INJECTED_NODE_PATH, '--version']);
  const version = check.stdout.trim();
  const major = nodeMajor(version);
  if (check.exitCode !== 0 || major === undefined || major < MIN_NODE_MAJOR) {
    const detail = (check.stderr || check.stdout).trim().split('\n')[0] ?? '';
    throw new SandboxSetupError(
      'node_unavailable',
      `The image ${opts.imageRef} has no Node.js ${MIN_NODE_MAJOR} or newer, and Crewbox's own Node.js (${opts.hostNode}) does not run in it${detail ? ` (${detail})` : ''}; it needs a glibc-based Linux image of the host's CPU architecture, so install Node.js ${MIN_NODE_MAJOR}+ in the image instead.`,
    );
  }
  return { path: INJECTED_NODE_PATH, version, injected: true };
}

function tail(text: string, chars: number): string {
  return text.length <= chars ? text : `…${text.slice(text.length - chars)}`;
}

export async function runPostCreate(
  engine: DockerEngine,
  id: string,
  steps: readonly PostCreateStep[],
  opts: { configFile: string; onProgress?: (message: string) => void },
): Promise<PostCreateResult[]> {
  const results: PostCreateResult[] = [];
  for (const step of steps) {
    const shown = typeof step.command === 'string' ? step.command : step.command.join(' ');
    opts.onProgress?.(`Running postCreateCommand${step.name ? ` "${step.name}"` : ''}: ${shown}`);
    const cmd = typeof step.command === 'string' ? ['sh', '-c', step.command] : step.command;
    const run = await engine.execCollect(id, { cmd, workingDir: CONTAINER_WORKSPACE });
    const output = tail(run.stdout + run.stderr, RECORDED_OUTPUT_CHARS);
    results.push({ ...(step.name === undefined ? {} : { name: step.name }), command: step.command, exitCode: run.exitCode, output });
    if (run.exitCode !== 0) {
      const last = tail(output.trimEnd(), 2000);
      throw new SandboxSetupError(
        'post_create_failed',
        `The postCreateCommand${step.name ? ` "${step.name}"` : ''} of ${opts.configFile} failed with exit code ${run.exitCode ?? 'unknown'}; fix it and try again.${last ? `\nIts output ends with:\n${last}` : ''}`,
      );
    }
  }
  return results;
}

export async function writeSetupRecord(engine: DockerEngine, id: string, record: SetupRecord): Promise<void> {
  const content = Buffer.from(`${JSON.stringify(record, null, 2)}\n`);
  const name = SETUP_RECORD_PATH.slice(CREWBOX_DIR.length + 1);
  await engine.putArchive(id, CREWBOX_DIR, packTar([{ type: 'file', name, mode: 0o644, size: content.length, content }]));
}

/** The setup record, or undefined when setup never completed or was done by another setup version. */
export async function readSetupRecord(engine: DockerEngine, id: string): Promise<SetupRecord | undefined> {
  const text = await readContainerFile(engine, id, SETUP_RECORD_PATH);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = SetupRecordSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

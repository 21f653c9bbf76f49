/**
 * One sandbox container per workspace: found by the `dev.crewbox.workspace`
 * label, reused across runs, reloads and processes while its
 * `dev.crewbox.config` hash matches (started again if it was stopped), and
 * removed and recreated when anything that defines it changed.
 *
 * Always hardened: a non-root user, every capability dropped,
 * no-new-privileges, network none unless `network: true`, memory/CPU/pids
 * limits, no mounts at all (so no Docker socket and no host path), and an
 * environment made only of the devcontainer's containerEnv plus LANG. The
 * host environment passed in `env` is read for CREWBOX_BASE_IMAGE only.
 *
 * A new container is set up before it is handed out (see container-setup.ts):
 * directories, a Node ≥ 18 for the supervisor, postCreateCommand, then a
 * setup record. Any setup failure removes the container, so a half-set-up
 * container is never reused.
 * Engine calls cannot be cancelled; `signal` is checked between steps.
 *
 * Known limits: the container runs `sleep infinity` through the image's
 * ENTRYPOINT (the engine adapter cannot override it), so a devcontainer image
 * whose entrypoint does not exec its arguments will not stay up. HOME comes
 * from the user's passwd entry; the 1000:1000 fallback without one gets "/".
 * Under VS Code, process.execPath is the editor, not node: pass `hostNode`.
 */
import path from 'node:path';
import type { DockerEngine } from './docker/engine.ts';
import { loadDevcontainer, type Devcontainer } from './devcontainer.ts';
import {
  assertNotRoot,
  configHash,
  containerName,
  containerSpec,
  DEFAULT_IMAGE_USER,
  FALLBACK_USER,
  LABELS,
  resolveLimits,
  sandboxEnv,
  SETUP_VERSION,
  workspaceLabel,
  type ContainerConfig,
  type SandboxLimits,
} from './container-config.ts';
import {
  ensureNode,
  prepareDirectories,
  readSetupRecord,
  resolveIdentity,
  runPostCreate,
  STATE_DIR,
  writeSetupRecord,
  type PostCreateResult,
  type SandboxIdentity,
  type SetupRecord,
} from './container-setup.ts';
import { defaultImagePlan, devcontainerImagePlan, ensureDefaultImage, ensureDevcontainerImage, ensureNamedImage, type ImageSource, type SandboxImage } from './image.ts';
import { throwIfAborted } from './setup-error.ts';

export interface SandboxProgress {
  phase: 'image' | 'container' | 'node' | 'post-create';
  message: string;
}

export interface SandboxOptions {
  workspace: string;
  /** The Crewbox installation; the default image is built from its `sandbox/` folder. */
  installDir: string;
  network: boolean;
  limits?: Partial<SandboxLimits>;
  /**
   * Where the image comes from: absent, the workspace's devcontainer.json if
   * it has one, else the default image; 'default', the default image (the
   * devcontainer is ignored); any other value, that image, run as a non-root
   * user (the VS Code setting crewbox.sandbox.image).
   */
  image?: string;
  /** Read for CREWBOX_BASE_IMAGE only (default: process.env); never passed into the container. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface EnsureOptions extends SandboxOptions {
  /** Extra labels for a new container (e.g. dev.crewbox.test=1); not part of its configuration. */
  labels?: Record<string, string>;
  /** Re-run the image build even when its tag exists. */
  rebuild?: boolean;
  /** The Node.js binary to copy in when the image has none (default: process.execPath). */
  hostNode?: string;
  /** Runs on a new container after node is ready and before postCreateCommand (e.g. to copy the workspace in). */
  beforePostCreate?: (container: { id: string; identity: SandboxIdentity }) => Promise<void>;
  onProgress?: (p: SandboxProgress) => void;
  signal?: AbortSignal;
}

export interface SandboxContainer {
  id: string;
  name: string;
  /** Image reference (tag) and the id the container was created from. */
  image: string;
  imageId: string;
  imageSource: ImageSource;
  /** The user spec the container runs as, and its numeric ids. */
  user: string;
  uid: number;
  gid: number;
  workspace: string;
  workspaceLabel: string;
  configHash: string;
  network: boolean;
  limits: SandboxLimits;
  /** Whether this call created it (false: an existing container was reused). */
  created: boolean;
  /** devcontainer.json keys present but not honoured, e.g. "forwardPorts", "build.target". */
  ignored: string[];
  /** Sentences about values left out (unsupported variables, containerUser overridden). */
  warnings: string[];
  devcontainerFile?: string;
  /** Absolute path of a Node ≥ 18 inside the container, for the supervisor. */
  nodePath: string;
  nodeVersion: string;
  nodeInjected: boolean;
  /** A directory only the sandbox user can write, outside /workspace. */
  stateDir: string;
  /** The postCreateCommand steps run when the container was created. */
  postCreate: PostCreateResult[];
}

interface Plan {
  workspace: string;
  label: string;
  devcontainer: Devcontainer | undefined;
  userSource: string;
  config: Omit<ContainerConfig, 'imageRef' | 'imageId'>;
}

async function plan(opts: SandboxOptions): Promise<Plan> {
  const workspace = path.resolve(opts.workspace);
  const devcontainer = opts.image ? imageChoice(opts.image) : await loadDevcontainer(workspace);
  const defaultImage = !devcontainer?.build && !devcontainer?.image;
  const user = devcontainer?.user ?? (defaultImage ? DEFAULT_IMAGE_USER : FALLBACK_USER);
  const userSource = devcontainer?.user !== undefined ? devcontainer.relativeFile : 'The sandbox';
  assertNotRoot(user, userSource);
  return {
    workspace,
    label: workspaceLabel(workspace),
    devcontainer,
    userSource,
    config: {
      user,
      env: sandboxEnv(devcontainer?.containerEnv),
      network: opts.network,
      limits: resolveLimits(opts.limits),
      devcontainer: devcontainer ? { postCreate: devcontainer.postCreate } : null,
      setupVersion: SETUP_VERSION,
    },
  };
}

/** The image setting as the devcontainer it stands for (nothing but an image), or none for the default image. */
function imageChoice(image: string): Devcontainer | undefined {
  if (image === 'default') return undefined;
  const source = 'the crewbox.sandbox.image setting';
  return { file: '', relativeFile: source, image, containerEnv: {}, postCreate: [], ignored: [], warnings: [] };
}

async function provideImage(engine: DockerEngine, p: Plan, opts: SandboxOptions & { rebuild?: boolean; onLine?: (line: string) => void }): Promise<SandboxImage> {
  const build = { ...(opts.rebuild === undefined ? {} : { rebuild: opts.rebuild }), ...(opts.onLine ? { onLine: opts.onLine } : {}) };
  if (p.devcontainer?.build) return ensureDevcontainerImage(engine, { ...build, workspaceLabel: p.label, build: p.devcontainer.build });
  if (p.devcontainer?.image) return ensureNamedImage(engine, p.devcontainer.image, p.devcontainer.relativeFile);
  return ensureDefaultImage(engine, { ...build, sandboxDir: path.join(opts.installDir, 'sandbox'), env: opts.env ?? process.env });
}

/** The image the plan needs, if it is already local (nothing is built). */
async function existingImage(engine: DockerEngine, p: Plan, opts: SandboxOptions): Promise<{ ref: string; id: string } | undefined> {
  const ref = p.devcontainer?.build
    ? (await devcontainerImagePlan(p.label, p.devcontainer.build)).ref
    : (p.devcontainer?.image ?? (await defaultImagePlan(engine, path.join(opts.installDir, 'sandbox'), opts.env ?? process.env)).ref);
  return (await engine.imageExists(ref)) ? { ref, id: await engine.imageId(ref) } : undefined;
}

/** Builds (or finds) the image the workspace's sandbox needs: `crewbox sandbox build`. */
export async function buildSandboxImage(
  engine: DockerEngine,
  opts: SandboxOptions & { rebuild?: boolean; onProgress?: (p: SandboxProgress) => void },
): Promise<SandboxImage & { ignored: string[]; warnings: string[] }> {
  const p = await plan(opts);
  const image = await provideImage(engine, p, { ...opts, onLine: (message) => opts.onProgress?.({ phase: 'image', message }) });
  return { ...image, ignored: p.devcontainer?.ignored ?? [], warnings: p.devcontainer?.warnings ?? [] };
}

/**
 * Calls for the same workspace in this process run one after another (the
 * second then finds and reuses what the first created). Across processes the
 * container name is the lock: a second creator gets a DockerError.
 */
const inFlight = new Map<string, Promise<unknown>>();

function oneAtATime<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = inFlight.get(key) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(task);
  inFlight.set(key, next);
  const forget = (): void => {
    if (inFlight.get(key) === next) inFlight.delete(key);
  };
  next.then(forget, forget);
  return next;
}

export function ensureContainer(engine: DockerEngine, opts: EnsureOptions): Promise<SandboxContainer> {
  return oneAtATime(workspaceLabel(path.resolve(opts.workspace)), () => ensureContainerNow(engine, opts));
}

async function ensureContainerNow(engine: DockerEngine, opts: EnsureOptions): Promise<SandboxContainer> {
  const progress = (phase: SandboxProgress['phase'], message: string): void => opts.onProgress?.({ phase, message });
  throwIfAborted(opts.signal, 'preparing the sandbox');
  const p = await plan(opts);
  const image = await provideImage(engine, p, { ...opts, onLine: (line) => progress('image', line) });
  const config: ContainerConfig = { ...p.config, imageRef: image.ref, imageId: image.id };
  const hash = configHash(config);
  const describe = (id: string, record: SetupRecord, created: boolean): SandboxContainer => ({
    id,
    name: containerName(p.label),
    image: image.ref,
    imageId: image.id,
    imageSource: image.source,
    user: config.user,
    uid: record.uid,
    gid: record.gid,
    workspace: p.workspace,
    workspaceLabel: p.label,
    configHash: hash,
    network: config.network,
    limits: config.limits,
    created,
    ignored: p.devcontainer?.ignored ?? [],
    warnings: p.devcontainer?.warnings ?? [],
    ...(p.devcontainer?.file ? { devcontainerFile: p.devcontainer.file } : {}),
    nodePath: record.node.path,
    nodeVersion: record.node.version,
    nodeInjected: record.node.injected,
    stateDir: STATE_DIR,
    postCreate: record.postCreate,
  });

  throwIfAborted(opts.signal, 'looking for the sandbox container');
  const existing = await engine.listContainers({ [LABELS.workspace]: p.label });
  for (const candidate of existing) {
    if (candidate.labels[LABELS.config] !== hash) continue;
    const record = await readSetupRecord(engine, candidate.id);
    if (!record) continue;
    if (!candidate.running) {
      progress('container', 'Starting the sandbox container');
      await engine.startContainer(candidate.id);
    }
    for (const other of existing) if (other.id !== candidate.id) await engine.removeContainer(other.id);
    return describe(candidate.id, record, false);
  }
  for (const old of existing) {
    progress('container', 'Removing the old sandbox container (its configuration changed)');
    await engine.removeContainer(old.id);
  }

  throwIfAborted(opts.signal, 'creating the sandbox container');
  progress('container', `Creating the sandbox container from ${image.ref}`);
  const labels = {
    ...opts.labels,
    [LABELS.workspace]: p.label,
    [LABELS.config]: hash,
    [LABELS.workspacePath]: p.workspace,
    [LABELS.createdAt]: new Date().toISOString(),
    [LABELS.user]: config.user,
    [LABELS.network]: String(config.network),
    [LABELS.image]: image.ref,
  };
  const id = await engine.createContainer(containerSpec(config, labels, containerName(p.label)));
  try {
    const identity = await resolveIdentity(engine, id, config.user, p.userSource);
    await prepareDirectories(engine, id, identity);
    await engine.startContainer(id);
    const node = await ensureNode(engine, id, { hostNode: opts.hostNode ?? process.execPath, imageRef: image.ref, onProgress: (m) => progress('node', m) });
    throwIfAborted(opts.signal, 'setting up the sandbox container');
    await opts.beforePostCreate?.({ id, identity });
    const postCreate = p.devcontainer ? await runPostCreate(engine, id, p.devcontainer.postCreate, { configFile: p.devcontainer.relativeFile, onProgress: (m) => progress('post-create', m) }) : [];
    const record: SetupRecord = { version: SETUP_VERSION, uid: identity.uid, gid: identity.gid, node, postCreate, completedAt: new Date().toISOString() };
    await writeSetupRecord(engine, id, record);
    return describe(id, record, true);
  } catch (e) {
    await engine.removeContainer(id).catch(() => undefined);
    throw e;
  }
}

export interface SandboxStatus {
  workspace: string;
  workspaceLabel: string;
  exists: boolean;
  id?: string;
  name?: string;
  running?: boolean;
  /** Image reference the container was created from. */
  image?: string;
  user?: string;
  network?: boolean;
  createdAt?: string;
  configHash?: string;
  /** Whether setup completed (a container without it is recreated on next use). */
  setupComplete?: boolean;
  /** Only when `expected` was given: would ensureContainer reuse it as is? */
  upToDate?: boolean;
}

/** The workspace's sandbox container as it is now; with `expected`, also whether it matches that configuration. Builds nothing. */
export async function sandboxStatus(engine: DockerEngine, workspace: string, expected?: Omit<SandboxOptions, 'workspace'>): Promise<SandboxStatus> {
  const abs = path.resolve(workspace);
  const label = workspaceLabel(abs);
  const [found] = await engine.listContainers({ [LABELS.workspace]: label });
  if (!found) return { workspace: abs, workspaceLabel: label, exists: false };
  const labels = found.labels;
  const status: SandboxStatus = {
    workspace: abs,
    workspaceLabel: label,
    exists: true,
    id: found.id,
    name: containerName(label),
    running: found.running,
    setupComplete: (await readSetupRecord(engine, found.id)) !== undefined,
    ...(labels[LABELS.image] !== undefined ? { image: labels[LABELS.image] } : {}),
    ...(labels[LABELS.user] !== undefined ? { user: labels[LABELS.user] } : {}),
    ...(labels[LABELS.network] !== undefined ? { network: labels[LABELS.network] === 'true' } : {}),
    ...(labels[LABELS.createdAt] !== undefined ? { createdAt: labels[LABELS.createdAt] } : {}),
    ...(labels[LABELS.config] !== undefined ? { configHash: labels[LABELS.config] } : {}),
  };
  if (expected) {
    const p = await plan({ ...expected, workspace: abs });
    const image = await existingImage(engine, p, { ...expected, workspace: abs });
    status.upToDate = image !== undefined && status.setupComplete === true && configHash({ ...p.config, imageRef: image.ref, imageId: image.id }) === status.configHash;
  }
  return status;
}

/** Removes every sandbox container of the workspace; returns their ids. Images are kept. */
export async function removeSandbox(engine: DockerEngine, workspace: string): Promise<string[]> {
  const found = await engine.listContainers({ [LABELS.workspace]: workspaceLabel(path.resolve(workspace)) });
  for (const c of found) await engine.removeContainer(c.id);
  return found.map((c) => c.id);
}

/**
 * The sandbox's image: the default dev image built from the installation's
 * `sandbox/` folder, a devcontainer `build`, or a devcontainer `image`.
 *
 * Tags name their inputs, so a changed input means a new image and an
 * unchanged one is never rebuilt:
 * - default: `crewbox-sandbox:<hash of the build context after .dockerignore,
 *   the base image reference and, when it is local, the base image id>`;
 *   the base is the BASE_IMAGE build argument, from `CREWBOX_BASE_IMAGE`.
 * - devcontainer build: `crewbox-dev-<workspace label>:<hash of the
 *   Dockerfile, its place in the context and the build args>`. Other files of
 *   the context are not hashed (that could mean reading the whole workspace):
 *   `rebuild` re-runs the build, which Docker's layer cache keeps cheap.
 * - devcontainer image: used as is; it must already be local (the engine
 *   adapter has no pull).
 * Build output lines go to `onLine` as they arrive.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DockerError, type DockerEngine } from './docker/engine.ts';
import type { DevcontainerBuild } from './devcontainer.ts';
import { hashBuildContext, packBuildContext, readBuildContext, type BuildContext } from './build-context.ts';

export const DEFAULT_BASE_IMAGE = 'debian:bookworm';
export const SANDBOX_IMAGE_REPOSITORY = 'crewbox-sandbox';
/** The default image's Dockerfile, inside the sandbox folder. */
export const SANDBOX_DOCKERFILE = 'Dockerfile';

export type ImageSource = 'default' | 'devcontainer-build' | 'devcontainer-image';

export interface SandboxImage {
  ref: string;
  /** Engine image id (sha256:...). */
  id: string;
  source: ImageSource;
  /** Whether this call built it. */
  built: boolean;
}

export interface BuildOptions {
  /** Build even when the tag exists (picks up changes the tag does not cover). */
  rebuild?: boolean;
  onLine?: (line: string) => void;
}

/** CREWBOX_BASE_IMAGE, else debian:bookworm. */
export function baseImageFrom(env: Readonly<Record<string, string | undefined>>): string {
  const configured = env['CREWBOX_BASE_IMAGE']?.trim();
  return configured ? configured : DEFAULT_BASE_IMAGE;
}

function shortHash(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/** The default image's tag for the current sandbox folder and base, and the context to build it from. */
export async function defaultImagePlan(engine: DockerEngine, sandboxDir: string, env: Readonly<Record<string, string | undefined>>): Promise<{ ref: string; base: string; baseIsLocal: boolean; context: BuildContext }> {
  const base = baseImageFrom(env);
  const context = await readBuildContext(sandboxDir, path.join(sandboxDir, SANDBOX_DOCKERFILE));
  const baseIsLocal = await engine.imageExists(base);
  const baseId = baseIsLocal ? await engine.imageId(base) : '';
  const ref = `${SANDBOX_IMAGE_REPOSITORY}:${shortHash(await hashBuildContext(context), base, baseId)}`;
  return { ref, base, baseIsLocal, context };
}

export async function ensureDefaultImage(
  engine: DockerEngine,
  opts: BuildOptions & { sandboxDir: string; env?: Readonly<Record<string, string | undefined>> },
): Promise<SandboxImage> {
  const plan = await defaultImagePlan(engine, opts.sandboxDir, opts.env ?? process.env);
  if (!opts.rebuild && (await engine.imageExists(plan.ref))) return { ref: plan.ref, id: await engine.imageId(plan.ref), source: 'default', built: false };
  opts.onLine?.(`Building the sandbox image ${plan.ref} on ${plan.base}`);
  try {
    await engine.buildImage(packBuildContext(plan.context), { tag: plan.ref, dockerfile: plan.context.dockerfile, buildArgs: { BASE_IMAGE: plan.base } }, (p) => opts.onLine?.(p.line));
  } catch (e) {
    // Decided from the engine's state, not the build's message: the base was not
    // local before and still is not, so pulling it is what failed.
    if (!plan.baseIsLocal && !(await engine.imageExists(plan.base))) {
      throw new DockerError(
        'image_missing',
        `The base image ${plan.base} is not available locally and could not be pulled; set CREWBOX_BASE_IMAGE to a local image or run .ci/setup-docker.sh.`,
        { cause: e },
      );
    }
    throw e;
  }
  return { ref: plan.ref, id: await engine.imageId(plan.ref), source: 'default', built: true };
}

/** The tag of a devcontainer build for this workspace and the context to build it from. */
export async function devcontainerImagePlan(workspaceLabel: string, build: DevcontainerBuild): Promise<{ ref: string; context: BuildContext }> {
  const context = await readBuildContext(build.context, build.dockerfile);
  const dockerfileText = await readFile(build.dockerfile);
  const args = JSON.stringify(Object.entries(build.args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const ref = `crewbox-dev-${workspaceLabel}:${shortHash(dockerfileText.toString('base64'), context.dockerfile, args)}`;
  return { ref, context };
}

export async function ensureDevcontainerImage(
  engine: DockerEngine,
  opts: BuildOptions & { workspaceLabel: string; build: DevcontainerBuild },
): Promise<SandboxImage> {
  const plan = await devcontainerImagePlan(opts.workspaceLabel, opts.build);
  if (!opts.rebuild && (await engine.imageExists(plan.ref))) return { ref: plan.ref, id: await engine.imageId(plan.ref), source: 'devcontainer-build', built: false };
  opts.onLine?.(`Building the devcontainer image ${plan.ref} from ${opts.build.dockerfile}`);
  await engine.buildImage(packBuildContext(plan.context), { tag: plan.ref, dockerfile: plan.context.dockerfile, buildArgs: opts.build.args }, (p) => opts.onLine?.(p.line));
  return { ref: plan.ref, id: await engine.imageId(plan.ref), source: 'devcontainer-build', built: true };
}

/** A devcontainer `image`, which must already be local. */
export async function ensureNamedImage(engine: DockerEngine, ref: string, configFile: string): Promise<SandboxImage> {
  if (!(await engine.imageExists(ref))) {
    throw new DockerError('image_missing', `The image ${ref} named in ${configFile} is not available locally; pull or build it (e.g. "docker pull ${ref}") and try again.`);
  }
  return { ref, id: await engine.imageId(ref), source: 'devcontainer-image', built: false };
}

/**
 * The container lifecycle against the real Docker Engine. What the engine
 * did is checked with the docker CLI (`docker inspect`, `docker exec`), not
 * through the code under test. Every container carries dev.crewbox.test=1
 * and lives in a fresh temp workspace; all are removed at the end, with the
 * devcontainer images built here.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DockerEngine, isDockerError } from '../../src/sandbox/docker/engine.ts';
import { ensureContainer, removeSandbox, sandboxStatus, type EnsureOptions, type SandboxContainer, type SandboxProgress } from '../../src/sandbox/container-manager.ts';
import { LABELS, workspaceLabel } from '../../src/sandbox/container-config.ts';
import { INJECTED_NODE_PATH } from '../../src/sandbox/container-setup.ts';
import { ensureDefaultImage } from '../../src/sandbox/image.ts';
import { isSandboxSetupError } from '../../src/sandbox/setup-error.ts';

const INSTALL_DIR = path.resolve(import.meta.dirname, '../..');
const BASE_IMAGE = process.env['CREWBOX_BASE_IMAGE'] ?? 'crewbox-base:bookworm';
const ENV = { CREWBOX_BASE_IMAGE: BASE_IMAGE };
const TEST_LABELS = { 'dev.crewbox.test': '1' };

interface Inspect {
  Id: string;
  Config: { User: string; Env: string[]; Labels: Record<string, string> };
  State: { Running: boolean };
  HostConfig: { CapDrop: string[] | null; SecurityOpt: string[] | null; NetworkMode: string; Memory: number; NanoCpus: number; PidsLimit: number; Privileged: boolean; Binds: string[] | null; Mounts?: unknown[] | null };
  Mounts: unknown[];
}

function inspect(id: string): Inspect {
  const [info] = JSON.parse(execFileSync('docker', ['inspect', id], { encoding: 'utf8' })) as Inspect[];
  assert.ok(info);
  return info;
}

function dockerExec(id: string, script: string, user?: string): { status: number | null; stdout: string; stderr: string } {
  const args = ['exec', ...(user ? ['-u', user] : []), id, 'sh', '-c', script];
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

function containerExists(id: string): boolean {
  return spawnSync('docker', ['inspect', id], { encoding: 'utf8' }).status === 0;
}

describe('container manager (Docker)', function () {
  this.timeout(600_000);
  const engine = new DockerEngine();
  const workspaces: string[] = [];
  const images: string[] = [];

  function newWorkspace(): string {
    const ws = realpathSync(mkdtempSync(path.join(tmpdir(), 'crewbox-cm-')));
    workspaces.push(ws);
    return ws;
  }

  function ensure(workspace: string, extra: Partial<EnsureOptions> = {}): Promise<SandboxContainer> {
    return ensureContainer(engine, { workspace, installDir: INSTALL_DIR, network: false, env: ENV, labels: TEST_LABELS, ...extra });
  }

  after(async () => {
    for (const ws of workspaces) {
      await removeSandbox(engine, ws);
      rmSync(ws, { recursive: true, force: true });
    }
    for (const ref of images) spawnSync('docker', ['rmi', '-f', ref]);
  });

  describe('default image', () => {
    let ws: string;
    let first: SandboxContainer;

    before(async () => {
      ws = newWorkspace();
      process.env['OPENAI_API_KEY'] = 'sk-test-must-not-leak';
      try {
        first = await ensure(ws);
      } finally {
        delete process.env['OPENAI_API_KEY'];
      }
    });

    it('creates a hardened container', () => {
      assert.equal(first.created, true);
      assert.equal(first.workspaceLabel, workspaceLabel(ws));
      const info = inspect(first.id);
      assert.equal(info.State.Running, true);
      assert.deepEqual(info.HostConfig.CapDrop, ['ALL']);
      assert.ok(info.HostConfig.SecurityOpt?.includes('no-new-privileges'), String(info.HostConfig.SecurityOpt));
      assert.equal(info.HostConfig.NetworkMode, 'none');
      assert.equal(info.HostConfig.Memory, 4 * 1024 ** 3);
      assert.equal(info.HostConfig.NanoCpus, 2e9);
      assert.equal(info.HostConfig.PidsLimit, 512);
      assert.equal(info.HostConfig.Privileged, false);
      assert.deepEqual(info.HostConfig.Binds ?? [], []);
      assert.deepEqual(info.Mounts, []);
      assert.equal(info.Config.User, 'crewbox');
      assert.equal(info.Config.Labels[LABELS.workspace], first.workspaceLabel);
      assert.equal(info.Config.Labels[LABELS.config], first.configHash);
      assert.equal(info.Config.Labels['dev.crewbox.test'], '1');
    });

    it('runs as a non-root user that owns /workspace, with no Docker socket and no network', () => {
      assert.equal(dockerExec(first.id, 'id -u').stdout, '1000');
      assert.equal(first.uid, 1000);
      assert.equal(dockerExec(first.id, 'touch /workspace/probe && stat -c %u /workspace/probe').stdout, '1000');
      assert.notEqual(dockerExec(first.id, 'test -e /var/run/docker.sock').status, 0);
      assert.notEqual(dockerExec(first.id, 'touch /opt/crewbox/x').status, 0, '/opt/crewbox is not writable by the sandbox user');
      assert.equal(dockerExec(first.id, 'touch /opt/crewbox/state/x && echo ok').stdout, 'ok');
      assert.deepEqual(dockerExec(first.id, 'ls /sys/class/net').stdout.split(/\s+/), ['lo']);
    });

    it('keeps the host environment out', () => {
      const env = inspect(first.id).Config.Env;
      assert.ok(!env.some((e) => e.startsWith('OPENAI_API_KEY=')), env.join(' '));
      assert.ok(env.includes('LANG=C.UTF-8'));
      assert.doesNotMatch(dockerExec(first.id, 'env').stdout, /OPENAI_API_KEY|sk-test-must-not-leak/);
    });

    it("uses the image's Node.js", () => {
      assert.equal(first.nodeInjected, false);
      assert.equal(dockerExec(first.id, `${first.nodePath} -e 'process.stdout.write(String(process.versions.node.split(".")[0] >= 18))'`).stdout, 'true');
    });

    it('reuses the container, and starts it again when stopped', async () => {
      const again = await ensure(ws);
      assert.equal(again.id, first.id);
      assert.equal(again.created, false);
      assert.equal(again.nodePath, first.nodePath);
      execFileSync('docker', ['stop', '-t', '0', first.id]);
      const restarted = await ensure(ws);
      assert.equal(restarted.id, first.id);
      assert.equal(inspect(first.id).State.Running, true);
      const status = await sandboxStatus(engine, ws, { installDir: INSTALL_DIR, network: false, env: ENV });
      assert.equal(status.exists, true);
      assert.equal(status.id, first.id);
      assert.equal(status.running, true);
      assert.equal(status.user, 'crewbox');
      assert.equal(status.network, false);
      assert.equal(status.setupComplete, true);
      assert.equal(status.upToDate, true);
      assert.equal((await sandboxStatus(engine, ws, { installDir: INSTALL_DIR, network: true, env: ENV })).upToDate, false);
    });

    it('replaces a container whose setup never completed', async () => {
      // Root in the container owns /opt/crewbox (no capability needed to delete there).
      assert.equal(dockerExec(first.id, 'rm /opt/crewbox/setup.json && echo removed', 'root').stdout, 'removed');
      assert.equal((await sandboxStatus(engine, ws)).setupComplete, false);
      const replaced = await ensure(ws);
      assert.notEqual(replaced.id, first.id);
      assert.equal(replaced.created, true);
      assert.equal(containerExists(first.id), false);
      first = replaced;
    });

    it('recreates the container when its configuration changes', async () => {
      const progress: SandboxProgress[] = [];
      const networked = await ensure(ws, { network: true, limits: { pids: 256 }, onProgress: (p) => progress.push(p) });
      assert.notEqual(networked.id, first.id);
      assert.equal(networked.created, true);
      assert.equal(containerExists(first.id), false, 'the old container is removed');
      const info = inspect(networked.id);
      assert.equal(info.HostConfig.NetworkMode, 'bridge');
      assert.equal(info.HostConfig.PidsLimit, 256);
      assert.ok(progress.some((p) => p.phase === 'container' && /configuration changed/.test(p.message)));
      const ids = await removeSandbox(engine, ws);
      assert.deepEqual(ids, [networked.id]);
      assert.equal(containerExists(networked.id), false);
      assert.equal((await sandboxStatus(engine, ws)).exists, false);
    });
  });

  it('serialises concurrent calls for one workspace in a process', async () => {
    const ws = newWorkspace();
    const [a, b] = await Promise.all([ensure(ws), ensure(ws)]);
    assert.equal(a.id, b.id);
    assert.deepEqual([a.created, b.created], [true, false]);
    assert.equal((await engine.listContainers({ [LABELS.workspace]: workspaceLabel(ws) })).length, 1);
  });

  describe('devcontainer.json', () => {
    const dockerfile = [
      `FROM ${BASE_IMAGE}`,
      'LABEL dev.crewbox.test=1',
      'ARG GREETING=unset',
      // /workspace exists and belongs to root, as in many images; setup must hand it over.
      'RUN useradd --create-home --uid 1234 dev && mkdir /workspace && echo "$GREETING" > /greeting',
      // A second name for uid 0, to check that root is refused by uid and not only by name.
      "RUN echo 'toor:x:0:0::/root:/bin/sh' >> /etc/passwd",
      '',
    ].join('\n');

    function devcontainerWorkspace(config: string): string {
      const ws = newWorkspace();
      mkdirSync(path.join(ws, '.devcontainer'));
      writeFileSync(path.join(ws, '.devcontainer', 'Dockerfile'), dockerfile);
      writeFileSync(path.join(ws, '.devcontainer', 'devcontainer.json'), config);
      return ws;
    }

    it('honours build, containerEnv, remoteUser and postCreateCommand, injects Node.js and reports what it ignores', async () => {
      const ws = devcontainerWorkspace(`{
        // built from a tiny Dockerfile on the base image, which has no Node.js
        "build": { "dockerfile": "Dockerfile", "context": ".", "args": { "GREETING": "hello" } },
        "containerEnv": { "APP_MODE": "test", "SRC": "\${containerWorkspaceFolder}/src" },
        "remoteUser": "dev",
        "postCreateCommand": { "whoami": "id -un > /workspace/made-by && echo \\"$APP_MODE $SRC\\" > /workspace/env", "greet": ["cat", "/greeting"] },
        "forwardPorts": [3000],
        "customizations": { "vscode": { "extensions": [] } },
      }`);
      const progress: SandboxProgress[] = [];
      const c = await ensure(ws, { onProgress: (p) => progress.push(p) });
      images.push(c.image);
      assert.equal(c.imageSource, 'devcontainer-build');
      assert.match(c.image, new RegExp(`^crewbox-dev-${c.workspaceLabel}:[0-9a-f]{16}$`));
      assert.equal(c.user, 'dev');
      assert.equal(c.uid, 1234);
      assert.deepEqual(c.ignored.sort(), ['customizations', 'forwardPorts']);
      assert.equal(c.devcontainerFile, path.join(ws, '.devcontainer', 'devcontainer.json'));

      const info = inspect(c.id);
      assert.equal(info.Config.User, 'dev');
      assert.ok(info.Config.Env.includes('APP_MODE=test'));
      assert.ok(info.Config.Env.includes('SRC=/workspace/src'));
      assert.deepEqual(info.HostConfig.CapDrop, ['ALL']);
      assert.equal(info.HostConfig.NetworkMode, 'none');

      assert.equal(dockerExec(c.id, 'stat -c %U /workspace').stdout, 'dev');
      assert.equal(dockerExec(c.id, 'cat /workspace/made-by').stdout, 'dev');
      assert.equal(dockerExec(c.id, 'cat /workspace/env').stdout, 'test /workspace/src');
      assert.equal(dockerExec(c.id, 'echo $HOME').stdout, '/home/dev');
      assert.deepEqual(
        c.postCreate.map((r) => [r.name, r.exitCode, r.output.trim()]),
        [
          ['whoami', 0, ''],
          ['greet', 0, 'hello'],
        ],
      );
      assert.ok(progress.some((p) => p.phase === 'post-create' && p.message.includes('"greet"')));

      assert.equal(c.nodeInjected, true);
      assert.equal(c.nodePath, INJECTED_NODE_PATH);
      assert.notEqual(dockerExec(c.id, 'command -v node').status, 0, 'the image itself has no node');
      assert.equal(dockerExec(c.id, `${INJECTED_NODE_PATH} -e 'process.stdout.write(process.version)'`).stdout, process.version);
      assert.ok(progress.some((p) => p.phase === 'node'));

      const again = await ensure(ws);
      assert.equal(again.id, c.id);
      assert.equal(again.created, false);
      assert.equal(again.nodePath, INJECTED_NODE_PATH);
      assert.equal(dockerExec(c.id, 'cat /workspace/made-by').stdout, 'dev', 'postCreateCommand is not run again');
    });

    it('follows the image setting: "default" ignores devcontainer.json, a named image replaces it; limits reach the container', async () => {
      const ws = devcontainerWorkspace(`{ "build": { "dockerfile": "Dockerfile" }, "containerEnv": { "FROM_DEVCONTAINER": "1" }, "remoteUser": "dev" }`);
      const limits = { memoryBytes: 512 * 1024 ** 2, cpus: 1.5, pids: 128 };
      const byDefault = await ensure(ws, { image: 'default', limits });
      assert.equal(byDefault.imageSource, 'default');
      assert.equal(byDefault.devcontainerFile, undefined);
      const info = inspect(byDefault.id);
      assert.ok(!info.Config.Env.some((e) => e.startsWith('FROM_DEVCONTAINER=')), 'devcontainer.json was ignored');
      assert.equal(info.HostConfig.Memory, limits.memoryBytes);
      assert.equal(info.HostConfig.NanoCpus, 1.5e9);
      assert.equal(info.HostConfig.PidsLimit, 128);

      // A named image (here the default image by its tag) replaces the devcontainer; the container is recreated.
      const named = await ensure(ws, { image: byDefault.image, limits });
      assert.notEqual(named.id, byDefault.id, 'a changed image choice recreates the container');
      assert.equal(named.image, byDefault.image);
      assert.notEqual(named.user, 'root');
      assert.ok(!inspect(named.id).Config.Env.some((e) => e.startsWith('FROM_DEVCONTAINER=')));
    });

    it('refuses root by uid even under another name, and leaves no container', async () => {
      const ws = devcontainerWorkspace('{"build": {"dockerfile": "Dockerfile"}, "remoteUser": "toor"}');
      await assert.rejects(ensure(ws), (e) => isSandboxSetupError(e) && e.code === 'root_user' && /uid 0/.test(e.message));
      assert.deepEqual(await engine.listContainers({ [LABELS.workspace]: workspaceLabel(ws) }), []);
      const named = devcontainerWorkspace('{"build": {"dockerfile": "Dockerfile"}, "remoteUser": "root"}');
      await assert.rejects(ensure(named), (e) => isSandboxSetupError(e) && e.code === 'root_user');
      assert.deepEqual(await engine.listContainers({ [LABELS.workspace]: workspaceLabel(named) }), []);
      // Both workspaces built (or found) the same Dockerfile under their own tags.
      for (const w of [ws, named]) images.push(...execFileSync('docker', ['images', '-q', '--filter', `reference=crewbox-dev-${workspaceLabel(w)}`], { encoding: 'utf8' }).split('\n').filter(Boolean));
    });

    it('fails with the output of a failing postCreateCommand and removes the container', async () => {
      const ws = newWorkspace();
      writeFileSync(path.join(ws, '.devcontainer.json'), '{"postCreateCommand": "echo preparing; echo broken dependency >&2; exit 3"}');
      await assert.rejects(ensure(ws), (e) => {
        assert.ok(isSandboxSetupError(e), String(e));
        assert.equal(e.code, 'post_create_failed');
        assert.match(e.message, /^The postCreateCommand of \.devcontainer\.json failed with exit code 3; fix it and try again\./);
        assert.match(e.message, /preparing\nbroken dependency/);
        return true;
      });
      assert.deepEqual(await engine.listContainers({ [LABELS.workspace]: workspaceLabel(ws) }), []);
    });
  });

  describe('images', () => {
    it('says clearly when the base image is missing and cannot be pulled', async () => {
      await assert.rejects(
        ensureDefaultImage(engine, { sandboxDir: path.join(INSTALL_DIR, 'sandbox'), env: { CREWBOX_BASE_IMAGE: 'crewbox-test-missing-base:none' } }),
        (e) =>
          isDockerError(e) &&
          e.code === 'image_missing' &&
          e.message === 'The base image crewbox-test-missing-base:none is not available locally and could not be pulled; set CREWBOX_BASE_IMAGE to a local image or run .ci/setup-docker.sh.',
      );
    });

    it('says clearly when a devcontainer image is not local', async () => {
      const ws = newWorkspace();
      writeFileSync(path.join(ws, '.devcontainer.json'), '{"image": "crewbox-test-absent:1"}');
      await assert.rejects(ensure(ws), (e) => isDockerError(e) && e.code === 'image_missing' && /crewbox-test-absent:1 named in \.devcontainer\.json is not available locally/.test(e.message));
    });
  });
});

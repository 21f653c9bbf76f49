import assert from 'node:assert/strict';
import path from 'node:path';
import {
  assertNotRoot,
  canonicalJson,
  configHash,
  containerSpec,
  DEFAULT_LIMITS,
  resolveLimits,
  sandboxEnv,
  SETUP_VERSION,
  workspaceLabel,
  type ContainerConfig,
} from '../../src/sandbox/container-config.ts';
import { isSandboxSetupError } from '../../src/sandbox/setup-error.ts';

function aConfig(overrides: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    imageRef: 'crewbox-sandbox:abc',
    imageId: 'sha256:1111',
    user: 'crewbox',
    env: { LANG: 'C.UTF-8', A: '1' },
    network: false,
    limits: { ...DEFAULT_LIMITS },
    devcontainer: null,
    setupVersion: SETUP_VERSION,
    ...overrides,
  };
}

describe('container configuration', () => {
  describe('workspaceLabel', () => {
    it('is 16 hex digits of the absolute path, whatever way the path is written', () => {
      const label = workspaceLabel('/home/dev/project');
      assert.match(label, /^[0-9a-f]{16}$/);
      assert.equal(workspaceLabel('/home/dev/project/'), label);
      assert.equal(workspaceLabel('/home/dev/other/../project'), label);
      assert.equal(workspaceLabel(path.relative(process.cwd(), '/home/dev/project')), label);
      assert.notEqual(workspaceLabel('/home/dev/project2'), label);
    });
  });

  describe('configHash', () => {
    it('does not depend on key order', () => {
      const a = aConfig({ env: { A: '1', B: '2' }, limits: { memoryBytes: 1 << 30, cpus: 1, pids: 100 } });
      const b = aConfig({ env: { B: '2', A: '1' }, limits: { pids: 100, cpus: 1, memoryBytes: 1 << 30 } });
      assert.equal(configHash(a), configHash(b));
      assert.equal(configHash(aConfig()), configHash(aConfig()));
    });

    it('changes with everything that defines the container', () => {
      const base = configHash(aConfig());
      const variants: Array<[string, Partial<ContainerConfig>]> = [
        ['image id', { imageId: 'sha256:2222' }],
        ['image ref', { imageRef: 'crewbox-sandbox:def' }],
        ['user', { user: '1000:1000' }],
        ['env value', { env: { LANG: 'C.UTF-8', A: '2' } }],
        ['env key', { env: { LANG: 'C.UTF-8', A: '1', B: '' } }],
        ['network', { network: true }],
        ['memory', { limits: { ...DEFAULT_LIMITS, memoryBytes: DEFAULT_LIMITS.memoryBytes * 2 } }],
        ['cpus', { limits: { ...DEFAULT_LIMITS, cpus: 1 } }],
        ['pids', { limits: { ...DEFAULT_LIMITS, pids: 256 } }],
        ['devcontainer', { devcontainer: { postCreate: [{ command: 'make' }] } }],
        ['setup version', { setupVersion: SETUP_VERSION + 1 }],
      ];
      const seen = new Set([base]);
      for (const [what, change] of variants) {
        const hash = configHash(aConfig(change));
        assert.ok(!seen.has(hash), `${what} must change the hash`);
        seen.add(hash);
      }
    });

    it('keeps array order significant (postCreateCommand steps run in order)', () => {
      const one = aConfig({ devcontainer: { postCreate: [{ command: 'a' }, { command: 'b' }] } });
      const two = aConfig({ devcontainer: { postCreate: [{ command: 'b' }, { command: 'a' }] } });
      assert.notEqual(configHash(one), configHash(two));
    });

    it('canonical JSON sorts keys at every depth and drops undefined', () => {
      assert.equal(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 0 }], c: undefined } }), '{"a":{"d":[2,{"x":0,"y":1}]},"b":1}');
    });
  });

  describe('limits', () => {
    it('defaults to 4 GiB, 2 CPUs and 512 processes, and takes overrides', () => {
      assert.deepEqual(resolveLimits(), { memoryBytes: 4 * 1024 ** 3, cpus: 2, pids: 512 });
      assert.deepEqual(resolveLimits({ cpus: 0.5, pids: undefined }), { memoryBytes: 4 * 1024 ** 3, cpus: 0.5, pids: 512 });
    });

    it('refuses limits that make no sense', () => {
      for (const bad of [{ memoryBytes: 1000 }, { memoryBytes: 1.5e9 + 0.5 }, { cpus: 0 }, { cpus: Number.NaN }, { pids: 0 }, { pids: 10.5 }]) {
        assert.throws(() => resolveLimits(bad), (e) => isSandboxSetupError(e) && e.code === 'invalid_limits', JSON.stringify(bad));
      }
    });
  });

  describe('user', () => {
    it('refuses root by name or uid', () => {
      for (const spec of ['root', '0', '000', 'root:root', '0:0', '0:1000']) {
        assert.throws(() => assertNotRoot(spec, '.devcontainer.json'), (e) => isSandboxSetupError(e) && e.code === 'root_user' && e.message.includes('.devcontainer.json'), spec);
      }
      for (const spec of ['crewbox', '1000:1000', '1000:0', 'rootless', '10']) assertNotRoot(spec, 'x');
    });
  });

  describe('environment', () => {
    it('is LANG plus containerEnv only, never the host environment', () => {
      process.env['OPENAI_API_KEY'] = 'sk-host-secret';
      try {
        assert.deepEqual(sandboxEnv(), { LANG: 'C.UTF-8' });
        assert.deepEqual(sandboxEnv({ APP_ENV: 'dev', LANG: 'en_US.UTF-8' }), { APP_ENV: 'dev', LANG: 'en_US.UTF-8' });
      } finally {
        delete process.env['OPENAI_API_KEY'];
      }
    });
  });

  describe('containerSpec', () => {
    it('pins the image id, mounts nothing and maps the limits', () => {
      const config = aConfig({ network: true, limits: { memoryBytes: 2 * 1024 ** 3, cpus: 1.5, pids: 300 } });
      const spec = containerSpec(config, { 'dev.crewbox.workspace': 'x' }, 'crewbox-x');
      assert.equal(spec.image, 'sha256:1111');
      assert.equal(spec.name, 'crewbox-x');
      assert.equal(spec.user, 'crewbox');
      assert.equal(spec.network, true);
      assert.equal(spec.memoryBytes, 2 * 1024 ** 3);
      assert.equal(spec.nanoCpus, 1_500_000_000);
      assert.equal(spec.pidsLimit, 300);
      assert.equal(spec.readOnlyMounts, undefined);
      assert.equal(spec.volumes, undefined);
      assert.equal(spec.workingDir, '/workspace');
      assert.deepEqual(spec.env, config.env);
      assert.notEqual(spec.env, config.env, 'a copy, not the config object');
    });
  });
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findDevcontainer, loadDevcontainer, parseDevcontainer, type Devcontainer } from '../../src/sandbox/devcontainer.ts';
import { isSandboxSetupError } from '../../src/sandbox/setup-error.ts';

const WS = '/home/dev/project';
const FILE = `${WS}/.devcontainer/devcontainer.json`;

function parsed(text: string, file = FILE): Devcontainer {
  return parseDevcontainer(text, { file, workspace: WS });
}

function invalid(text: string, file = FILE): string {
  try {
    parsed(text, file);
  } catch (e) {
    assert.ok(isSandboxSetupError(e), `expected a SandboxSetupError, got ${String(e)}`);
    assert.equal(e.code, 'devcontainer_invalid');
    return e.message;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be refused`);
}

describe('devcontainer.json', () => {
  describe('parsing', () => {
    it('reads JSONC with comments and trailing commas', () => {
      const config = parsed(`// a dev container
{
  /* the image */
  "image": "node:20",
  "containerEnv": { "A": "1", "B": "two", }, // trailing comma above
  "remoteUser": "node",
  "postCreateCommand": "npm ci",
}`);
      assert.equal(config.image, 'node:20');
      assert.equal(config.build, undefined);
      assert.deepEqual(config.containerEnv, { A: '1', B: 'two' });
      assert.equal(config.user, 'node');
      assert.deepEqual(config.postCreate, [{ command: 'npm ci' }]);
      assert.deepEqual(config.ignored, []);
      assert.equal(config.file, FILE);
      assert.equal(config.relativeFile, '.devcontainer/devcontainer.json');
    });

    it('resolves build paths against the folder of devcontainer.json, with args and variables', () => {
      const config = parsed(`{
        "image": "unused:1",
        "build": { "dockerfile": "Dockerfile", "context": "..", "args": { "VARIANT": "3.12", "ROOT": "\${localWorkspaceFolder}" }, "target": "dev" }
      }`);
      assert.deepEqual(config.build, {
        dockerfile: `${WS}/.devcontainer/Dockerfile`,
        context: WS,
        args: { VARIANT: '3.12', ROOT: WS },
      });
      assert.equal(config.image, undefined);
      assert.deepEqual(config.ignored.sort(), ['build.target', 'image']);
    });

    it('defaults the build context to the folder of devcontainer.json', () => {
      assert.equal(parsed('{"build": {"dockerfile": "Dockerfile"}}').build?.context, `${WS}/.devcontainer`);
      assert.equal(parsed('{"build": {"dockerfile": "Dockerfile"}}', `${WS}/.devcontainer.json`).build?.context, WS);
    });

    it('honours the legacy top-level dockerFile and context', () => {
      const config = parsed('{"dockerFile": "docker/Dev.Dockerfile", "context": "docker"}');
      assert.deepEqual(config.build, { dockerfile: `${WS}/.devcontainer/docker/Dev.Dockerfile`, context: `${WS}/.devcontainer/docker`, args: {} });
      assert.deepEqual(config.ignored, []);
    });

    it('prefers build.dockerfile and build.context over the legacy keys and reports those', () => {
      const config = parsed('{"dockerFile": "Old", "context": "old", "build": {"dockerfile": "New", "context": "new"}}');
      assert.equal(config.build?.dockerfile, `${WS}/.devcontainer/New`);
      assert.equal(config.build?.context, `${WS}/.devcontainer/new`);
      assert.deepEqual(config.ignored.sort(), ['context', 'dockerFile']);
    });

    it('reads postCreateCommand as a string, an argv array, or named commands', () => {
      assert.deepEqual(parsed('{"postCreateCommand": ["pip", "install", "-e", "."]}').postCreate, [{ command: ['pip', 'install', '-e', '.'] }]);
      assert.deepEqual(parsed('{"postCreateCommand": {"deps": "npm ci", "tools": ["make", "tools"]}}').postCreate, [
        { name: 'deps', command: 'npm ci' },
        { name: 'tools', command: ['make', 'tools'] },
      ]);
      assert.deepEqual(parsed('{"postCreateCommand": "  "}').postCreate, []);
      assert.deepEqual(parsed('{}').postCreate, []);
    });

    it('lists every key it does not honour', () => {
      const config = parsed(`{
        "name": "dev", "image": "x:1",
        "forwardPorts": [3000], "mounts": [], "features": {}, "runArgs": ["--privileged"],
        "customizations": {"vscode": {}}, "remoteEnv": {"A": "b"}, "workspaceFolder": "/src",
        "onCreateCommand": "x", "postStartCommand": "y", "initializeCommand": "rm -rf ~", "privileged": true
      }`);
      assert.deepEqual(config.ignored.sort(), [
        'customizations',
        'features',
        'forwardPorts',
        'initializeCommand',
        'mounts',
        'onCreateCommand',
        'postStartCommand',
        'privileged',
        'remoteEnv',
        'runArgs',
        'workspaceFolder',
      ]);
    });

    it('uses remoteUser over containerUser and says so when they differ', () => {
      const both = parsed('{"remoteUser": "dev", "containerUser": "app"}');
      assert.equal(both.user, 'dev');
      assert.deepEqual(both.ignored, ['containerUser']);
      assert.match(both.warnings[0] ?? '', /remoteUser "dev"/);
      assert.equal(parsed('{"containerUser": "app"}').user, 'app');
      assert.equal(parsed('{"remoteUser": "dev", "containerUser": "dev"}').ignored.length, 0);
    });
  });

  describe('variables', () => {
    it('resolves the container workspace variables in container values', () => {
      const config = parsed(`{
        "containerEnv": { "SRC": "\${containerWorkspaceFolder}/src", "NAME": "\${localWorkspaceFolderBasename}-\${containerWorkspaceFolderBasename}" },
        "postCreateCommand": "cd \${containerWorkspaceFolder} && make"
      }`);
      assert.deepEqual(config.containerEnv, { SRC: '/workspace/src', NAME: 'project-workspace' });
      assert.deepEqual(config.postCreate, [{ command: 'cd /workspace && make' }]);
    });

    it('never resolves host environment variables: the value is left out and reported', () => {
      const config = parsed(`{
        "containerEnv": { "TOKEN": "\${localEnv:OPENAI_API_KEY}", "HOME_COPY": "\${env:HOME}", "KEEP": "yes" },
        "remoteUser": "\${localEnv:USER}",
        "postCreateCommand": { "ok": "true", "leak": "echo \${localEnv:SECRET}" }
      }`);
      assert.deepEqual(config.containerEnv, { KEEP: 'yes' });
      assert.equal(config.user, undefined);
      assert.deepEqual(config.postCreate, [{ name: 'ok', command: 'true' }]);
      assert.deepEqual(config.ignored.sort(), ['containerEnv.HOME_COPY', 'containerEnv.TOKEN', 'postCreateCommand.leak', 'remoteUser']);
      assert.equal(config.warnings.length, 4);
      for (const w of config.warnings) assert.match(w, /host environment variables never enter the sandbox/);
      assert.ok(!JSON.stringify(config).includes(process.env['HOME'] ?? '/root'), 'no host value leaked');
    });

    it('keeps the host path out of container values', () => {
      const config = parsed('{"containerEnv": {"WS": "${localWorkspaceFolder}"}}');
      assert.deepEqual(config.containerEnv, {});
      assert.deepEqual(config.ignored, ['containerEnv.WS']);
      assert.match(config.warnings[0] ?? '', /does not resolve/);
    });

    it('refuses an image or build path it cannot resolve', () => {
      assert.match(invalid('{"image": "${localEnv:REGISTRY}/app"}'), /image uses \$\{localEnv:REGISTRY\}/);
      assert.match(invalid('{"build": {"dockerfile": "${devcontainerId}.Dockerfile"}}'), /build\.dockerfile uses/);
    });
  });

  describe('errors', () => {
    it('gives the line and column of a syntax error', () => {
      const message = invalid('{\n  "image": "x"\n  "remoteUser": "dev"\n}');
      assert.equal(message, '.devcontainer/devcontainer.json: not valid JSON: a comma is expected at line 3, column 3.');
      assert.match(invalid('{\n "image": "x",\n "a": [1, 2\n}'), /at line 4, column 1\./);
      assert.match(invalid('{"image": "x" /* open'), /comment is not closed at line 1, column 15/);
    });

    it('refuses a file that is not one object', () => {
      assert.match(invalid('[]'), /must contain one JSON object/);
      assert.match(invalid(''), /must contain one JSON object/);
      assert.match(invalid('// only a comment'), /must contain one JSON object/);
    });

    it('names the key with a wrong type', () => {
      assert.match(invalid('{"image": 3}'), /"image" must be a string/);
      assert.match(invalid('{"image": ""}'), /"image" is empty/);
      assert.match(invalid('{"build": "Dockerfile"}'), /"build" must be an object/);
      assert.match(invalid('{"build": {"context": ".."}}'), /"build" needs a "dockerfile"/);
      assert.match(invalid('{"build": {"dockerfile": "D", "args": {"N": 3}}}'), /"build\.args\.N" must be a string/);
      assert.match(invalid('{"containerEnv": {"PORT": 3000}}'), /"containerEnv\.PORT" must be a string/);
      assert.match(invalid('{"containerEnv": ["A=1"]}'), /"containerEnv" must be an object of strings/);
      assert.match(invalid('{"remoteUser": 1000}'), /"remoteUser" must be a string/);
      assert.match(invalid('{"remoteUser": " "}'), /"remoteUser" is empty/);
      assert.match(invalid('{"postCreateCommand": 7}'), /"postCreateCommand" must be a command string/);
      assert.match(invalid('{"postCreateCommand": {"a": [1]}}'), /"postCreateCommand\.a" must be/);
      assert.match(invalid('{"postCreateCommand": []}'), /non-empty array/);
    });

    it('refuses build paths outside the workspace', () => {
      assert.match(invalid('{"build": {"dockerfile": "Dockerfile", "context": "../.."}}'), /build\.context resolves to \/home\/dev, outside the workspace/);
      assert.match(invalid('{"dockerFile": "/etc/Dockerfile"}'), /dockerFile resolves to \/etc\/Dockerfile, outside the workspace/);
    });
  });

  describe('on disk', () => {
    let ws: string;
    beforeEach(() => {
      ws = realpathSync(mkdtempSync(path.join(tmpdir(), 'crewbox-devcontainer-')));
    });
    afterEach(() => rmSync(ws, { recursive: true, force: true }));

    it('finds .devcontainer/devcontainer.json first, then .devcontainer.json, else nothing', async () => {
      assert.equal(await findDevcontainer(ws), undefined);
      assert.equal(await loadDevcontainer(ws), undefined);
      writeFileSync(path.join(ws, '.devcontainer.json'), '{"image": "b:1"}');
      assert.equal((await loadDevcontainer(ws))?.image, 'b:1');
      mkdirSync(path.join(ws, '.devcontainer'));
      writeFileSync(path.join(ws, '.devcontainer', 'devcontainer.json'), '{"image": "a:1"}');
      assert.equal(await findDevcontainer(ws), path.join(ws, '.devcontainer', 'devcontainer.json'));
      assert.equal((await loadDevcontainer(ws))?.image, 'a:1');
    });

    it('checks that the Dockerfile and context exist', async () => {
      mkdirSync(path.join(ws, '.devcontainer'));
      writeFileSync(path.join(ws, '.devcontainer', 'devcontainer.json'), '{"build": {"dockerfile": "Dockerfile"}}');
      await assert.rejects(loadDevcontainer(ws), (e) => isSandboxSetupError(e) && /build\.dockerfile .*Dockerfile is not an existing file/.test(e.message));
      writeFileSync(path.join(ws, '.devcontainer', 'Dockerfile'), 'FROM scratch\n');
      const config = await loadDevcontainer(ws);
      assert.equal(config?.build?.dockerfile, path.join(ws, '.devcontainer', 'Dockerfile'));
    });

    it('refuses a build context that leaves the workspace through a symlink', async () => {
      const outside = realpathSync(mkdtempSync(path.join(tmpdir(), 'crewbox-outside-')));
      try {
        writeFileSync(path.join(outside, 'Dockerfile'), 'FROM scratch\n');
        symlinkSync(outside, path.join(ws, 'ctx'));
        writeFileSync(path.join(ws, '.devcontainer.json'), '{"build": {"dockerfile": "ctx/Dockerfile", "context": "ctx"}}');
        await assert.rejects(loadDevcontainer(ws), (e) => isSandboxSetupError(e) && e.code === 'devcontainer_invalid' && /outside the workspace through a symlink/.test(e.message));
      } finally {
        rmSync(outside, { recursive: true, force: true });
      }
    });
  });
});

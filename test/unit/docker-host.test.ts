import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectionOptions } from '../../src/sandbox/docker/engine.ts';

describe('DOCKER_HOST from the given environment', () => {
  it('maps every form to dockerode options', () => {
    assert.deepEqual(connectionOptions(undefined, {}), { socketPath: '/var/run/docker.sock' });
    assert.deepEqual(connectionOptions('unix:///run/user/1000/docker.sock', {}), { socketPath: '/run/user/1000/docker.sock' });
    assert.deepEqual(connectionOptions('tcp://10.0.0.5', {}), { protocol: 'http', host: '10.0.0.5', port: 2375 });
    assert.deepEqual(connectionOptions('tcp://docker:2380', {}), { protocol: 'http', host: 'docker', port: 2380 });
    assert.deepEqual(connectionOptions('ssh://me@build-host', {}), { protocol: 'ssh', host: 'build-host', port: 22, username: 'me' });
  });

  it('uses TLS client certificates from DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is set', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crewbox-certs-'));
    try {
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(path.join(dir, f), f);
      const o = connectionOptions('tcp://docker', { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
      assert.equal(o.protocol, 'https');
      assert.equal(o.port, 2376);
      assert.equal(String(o.key), 'key.pem');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

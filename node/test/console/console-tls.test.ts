import { X509Certificate } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { createSelfSignedCertificate } from '../../src/identity/tls.js';
import { TracenetNode } from '../../src/node.js';
import { makeDataDir, testConfig, testLogger } from '../support/nodes.js';

/** The certificate the console at `address` presents, as PEM-independent fingerprint. */
function presented(address: string): Promise<string> {
  const at = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: address.slice(0, at), port: Number(address.slice(at + 1)), rejectUnauthorized: false },
      () => {
        resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
        socket.end();
      },
    );
    socket.on('error', reject);
  });
}

describe('the console certificate (console.tls)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function open(tls: { certificate: string; key: string }, dataDir: string) {
    const node = await TracenetNode.open({
      dataDir,
      config: testConfig({ console: { ...DEFAULT_CONFIG.console, listen: '127.0.0.1:0', tls } }),
      logger: testLogger(),
    });
    cleanups.push(async () => {
      await node.stop().catch(() => undefined);
    });
    return node;
  }

  it("serves the configured certificate, and the node's own when none is configured", async () => {
    const dataDir = await makeDataDir('FRA');
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const agency = await createSelfSignedCertificate('tracenet.police.example', 30);
    await writeFile(join(dataDir, 'console.crt'), agency.certificatePem);
    await writeFile(join(dataDir, 'console.key'), agency.privateKeyPem, { mode: 0o600 });
    const configured = await open({ certificate: 'console.crt', key: 'console.key' }, dataDir);
    await configured.start();
    expect(await presented(configured.consoleAddress)).toBe(new X509Certificate(agency.certificatePem).fingerprint256);
    await configured.stop();

    const own = await open({ certificate: '', key: '' }, dataDir);
    await own.start();
    expect(await presented(own.consoleAddress)).toBe(
      new X509Certificate(own.identity.tls.certificatePem).fingerprint256,
    );
  });

  it('refuses to start with a certificate but no key, or a key readable by others, naming the key', async () => {
    const agency = await createSelfSignedCertificate('tracenet.police.example', 30);
    const dir = async () => {
      const dataDir = await makeDataDir('FRA');
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      await writeFile(join(dataDir, 'console.crt'), agency.certificatePem);
      await writeFile(join(dataDir, 'console.key'), agency.privateKeyPem, { mode: 0o644 });
      return dataDir;
    };
    const alone = await open({ certificate: 'console.crt', key: '' }, await dir());
    await expect(alone.start()).rejects.toMatchObject({ field: 'console.tls.key', rule: 'console_tls' });
    const readable = await open({ certificate: 'console.crt', key: 'console.key' }, await dir());
    await expect(readable.start()).rejects.toMatchObject({ rule: 'key_file_mode' });
  });
});

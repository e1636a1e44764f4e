/**
 * The Authority port at the edge (issue 14, sections 1 and 4; docs/protocol.md 7.1): a call
 * without the bearer token is refused from its metadata before a byte of its request is read, so
 * stalled tokenless streams cost nothing; the port is plaintext on loopback only, and served over
 * TLS elsewhere, which the CLI speaks (the SDK's side is sdk/test/tls.test.ts). Nodes run as their
 * own processes and are measured there.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initSodium } from '../../src/crypto/sodium.js';
import { createSelfSignedCertificate } from '../../src/identity/tls.js';
import { ProcessBed, readAudit, requireBuiltCli, until } from '../integration/processes.js';
import { attack, rssMiB, sampleRss } from './support.js';
import { EXIT } from '../../src/cli/exit-codes.js';

const bed = new ProcessBed();

beforeAll(async () => {
  requireBuiltCli();
  await initSodium();
});

afterAll(() => bed.cleanup());

describe('the Authority port (issue 14, sections 1 and 4)', () => {
  it('refuses 150 stalled streams without token from their metadata, before reading them: memory stays bounded', async () => {
    const node = await bed.start(await bed.init('BEL'), { env: { TRACENET_LOG_LEVEL: 'error' } });
    // Warm-up: one served call.
    expect((await node.client.call('getNodeInfo', {})).participantId).toBe('BEL');
    const baseline = await rssMiB(node.pid);
    const rss = sampleRss(node.pid);
    // 5 connections × 30 streams, each announcing a message of 4 MiB - 1 bytes and stalling before its end.
    const flood = attack({
      target: node.runtime.authority,
      mode: 'stall',
      connections: 5,
      addresses: 5,
      streams: 30,
      path: '/tracenet.v1.Authority/GetNodeInfo',
      durationMs: 8000,
    });
    await until(() => (flood.latest()?.streams ?? 0) >= 150, '150 streams opened');
    // Still serving meanwhile.
    expect((await node.client.call('getNodeInfo', {})).participantId).toBe('BEL');
    const report = await flood.done;
    const growthMiB = (await rss.stop()) - baseline;
    // Every stream was answered UNAUTHENTICATED (16) while its message was still being sent.
    expect(report.statuses['16'] ?? 0).toBeGreaterThanOrEqual(150);
    expect(report.answeredEarly).toBe(report.statuses['16']);
    expect(growthMiB).toBeLessThan(64);
  }, 60_000);

  it('refuses to start with a non-loopback authority.listen without TLS, and says why', async () => {
    const dataDir = await bed.init('KEN');
    const refused = await bed.cli([
      'start',
      '--data',
      dataDir,
      '--federation-listen',
      '127.0.0.1:0',
      '--authority-listen',
      '0.0.0.0:0',
    ]);
    expect(refused.code).toBe(EXIT.usage);
    expect(refused.stderr).toMatch(
      /^tracenet: INVALID_FIELD: authority\.listen is 0\.0\.0\.0:0, not a loopback address, and authority\.tls names no certificate: the Authority port carries the node's whole authority/,
    );
    // A certificate without its key is refused too.
    const half = await bed.cli(['start', '--data', dataDir, '--authority-listen', '127.0.0.1:0'], {
      env: { TRACENET_AUTHORITY_TLS_CERTIFICATE: 'tls.crt' },
    });
    expect(half.code).toBe(EXIT.usage);
    expect(half.stderr).toContain('authority.tls.certificate and authority.tls.key go together');
  });

  it('serves TLS when authority.tls is set; the CLI trusts the node certificate and presents the client certificate the port requires', async () => {
    const dataDir = await bed.init('NLD');
    const server = await createSelfSignedCertificate('NLD', 30);
    const client = await createSelfSignedCertificate('officer', 30);
    const stranger = await createSelfSignedCertificate('stranger', 30);
    await writeFile(join(dataDir, 'authority.crt'), server.certificatePem);
    await writeFile(join(dataDir, 'keys', 'authority.key'), server.privateKeyPem, { mode: 0o600 });
    await writeFile(join(dataDir, 'clients.pem'), client.certificatePem);
    for (const [name, material] of [
      ['officer', client],
      ['stranger', stranger],
    ] as const) {
      await writeFile(join(dataDir, `${name}.crt`), material.certificatePem);
      await writeFile(join(dataDir, `${name}.key`), material.privateKeyPem, { mode: 0o600 });
    }
    await writeFile(
      join(dataDir, 'config.json'),
      JSON.stringify({
        authority: { tls: { certificate: 'authority.crt', key: 'keys/authority.key', clientCa: 'clients.pem' } },
      }),
    );
    const node = await bed.start(dataDir, { env: { TRACENET_LOG_LEVEL: 'error' } });
    expect(node.runtime.authorityCertificate).toBe(join(dataDir, 'authority.crt'));

    const as = (name: string) => ({
      TRACENET_CLI_CERTIFICATE: join(dataDir, `${name}.crt`),
      TRACENET_CLI_KEY: join(dataDir, `${name}.key`),
    });
    const status = await bed.cli(['status', '--data', dataDir, '--json'], { env: as('officer') });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ participantId: 'NLD' });
    // Without a client certificate, or with one the port does not trust, and in plaintext: no answer.
    for (const env of [{}, as('stranger')]) {
      const refused = await bed.cli(['status', '--data', dataDir], { env });
      expect(refused.code).toBe(EXIT.unreachable);
      expect(refused.stderr).toMatch(/^tracenet: UNAVAILABLE/);
    }
    await expect(node.client.call('getNodeInfo', {}, 3000)).rejects.toMatchObject({ codeName: 'UNAVAILABLE' });

    expect((await node.stop()).code).toBe(0);
    const counted = (await readAudit(dataDir)).filter((e) => e.type === 'refusals.counted');
    expect(counted.reduce((n, e) => n + Number(e['refused.tls.client_certificate'] ?? 0), 0)).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

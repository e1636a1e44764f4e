/**
 * A real full disk (docs/operations.md, "Storage faults"): a `tracenet start` process keeps its data
 * directory on a small tmpfs mounted for the test. Filling that file system makes LevelDB refuse
 * writes; the node must refuse Deliver with UNAVAILABLE / STORAGE_UNAVAILABLE, report NOT_SERVING,
 * stay up, and take messages again by itself once space is freed. Every acknowledged message must
 * survive a crash afterwards (LevelDB log recovery included).
 *
 * Mounting needs root (CI runs as root); elsewhere this file is skipped and
 * `store-faults.test.ts` covers the same behaviour through the store's fault seam.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { ErrorCode, readErrorDetail, ReceiptBody, ReceiptStatus, type Receipt } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../src/audit/verify.js';
import { initSodium } from '../../src/crypto/sodium.js';
import { dataPaths, loadIdentity, type NodeIdentity } from '../../src/identity/data-dir.js';
import { openStore } from '../../src/store/store.js';
import { isAlive, ProcessBed, readSublevel, until, type NodeProcess } from '../integration/processes.js';
import { makeParty, RawFederationClient, rejectionOf, sealFrom, type Party } from '../support/parties.js';
import { checkHealth, NOT_SERVING, SERVING } from './health-client.js';

const bed = new ProcessBed();
let mountPoint = '';

function tryMount(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mounted =
  process.platform === 'linux' &&
  process.getuid?.() === 0 &&
  tryMount((mountPoint = join('/tmp', `tracenet-full-disk-${process.pid}`)));

/** Fills the file system with `filler` until it refuses even a single byte. */
function fillDisk(filler: string): void {
  for (const size of [1 << 20, 1 << 12, 1]) {
    try {
      for (;;) appendFileSync(filler, Buffer.alloc(size));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    }
  }
}

describe.skipIf(!mounted)('a node on a full disk (real tmpfs)', () => {
  let node: NodeProcess;
  let identity: NodeIdentity;
  let party: Party;
  let client: RawFederationClient;
  const filler = () => join(mountPoint, 'filler');

  beforeAll(async () => {
    await initSodium();
    const dataDir = join(mountPoint, 'data');
    await bed.cliOk(['init', '--id', 'KEN', '--data', dataDir]);
    identity = await loadIdentity(dataDir);
    party = await makeParty('FRA', Date.now());
    await bed.cliOk(['peers', 'add', dataPaths(party.dataDir).card, '--data', dataDir]);
    node = await bed.start(dataDir, { env: { TRACENET_LOG_LEVEL: 'warn' } });
    client = new RawFederationClient(node.runtime.federation, identity.tlsCertificatePem, party.identity.tls);
  });

  afterAll(async () => {
    client?.close();
    await bed.cleanup();
    await party?.cleanup();
    try {
      execFileSync('umount', [mountPoint], { stdio: 'ignore' });
      rmSync(mountPoint, { recursive: true, force: true });
    } catch {
      // Left for the machine's cleanup; never fails the test run.
    }
  });

  const accepted = (receipt: Receipt) =>
    ReceiptBody.decode(receipt.body).status === ReceiptStatus.RECEIPT_STATUS_ACCEPTED;
  const deliver = () => {
    const sealed = sealFrom(party.identity, identity, Date.now());
    return { sealed, result: client.deliver(sealed.bytes) };
  };

  it('refuses with STORAGE_UNAVAILABLE while full, and takes messages again once space is freed', async () => {
    const acknowledged: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const { sealed, result } = deliver();
      expect(accepted(await result)).toBe(true);
      acknowledged.push(sealed.envelope.header.toString('base64'));
    }
    expect(await checkHealth(node.runtime.authority)).toBe(SERVING);

    fillDisk(filler());
    // LevelDB's log may still have room in its last page: deliver until the store refuses.
    let refusal: ServiceError | undefined;
    let refusedBytes: Buffer | undefined;
    for (let i = 0; i < 200 && refusal === undefined; i += 1) {
      const { sealed, result } = deliver();
      try {
        expect(accepted(await result)).toBe(true);
        acknowledged.push(sealed.envelope.header.toString('base64'));
      } catch (error) {
        refusal = error as ServiceError;
        refusedBytes = sealed.bytes;
      }
    }
    expect(refusal, 'the store never refused a write on a full disk').toBeDefined();
    expect(refusal?.code).toBe(GrpcStatus.UNAVAILABLE);
    const detail = readErrorDetail(refusal?.metadata);
    expect(detail).toMatchObject({ code: ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE, retryable: true });

    // While the disk stays full: every message is refused the same way, health says NOT_SERVING, the node lives.
    const again = (await rejectionOf(deliver().result)) as ServiceError;
    expect(readErrorDetail(again.metadata)?.code).toBe(ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE);
    await until(async () => (await checkHealth(node.runtime.authority)) === NOT_SERVING, 'health NOT_SERVING', 5000);
    expect(isAlive(node.pid)).toBe(true);

    rmSync(filler());
    // No restart: the store recovers by itself and health follows.
    await until(
      async () => (await checkHealth(node.runtime.authority)) === SERVING,
      'health SERVING after space was freed',
      10_000,
    );
    // The envelope refused during the outage was not remembered: its retry is accepted now.
    const retried = await client.deliver(refusedBytes ?? Buffer.alloc(0));
    expect(accepted(retried)).toBe(true);
    for (let i = 0; i < 5; i += 1) {
      const { sealed, result } = deliver();
      expect(accepted(await result)).toBe(true);
      acknowledged.push(sealed.envelope.header.toString('base64'));
    }
    expect(isAlive(node.pid)).toBe(true);

    // A crash now: LevelDB replays its log at the next open. Nothing acknowledged may be missing.
    await node.kill();
    const inbox = await readSublevel(node.dataDir, 'inbox');
    const stored = new Set(inbox.map((m) => String(m.header)));
    const lost = acknowledged.filter((header) => !stored.has(header));
    expect(lost, `${lost.length} acknowledged messages lost of ${acknowledged.length}`).toEqual([]);
    expect(inbox.length).toBe(acknowledged.length + 1);
    const store = await openStore(dataPaths(node.dataDir).store);
    try {
      expect(await verifyAuditLog(store, identity.keys.signingPublicKey)).toMatchObject({ ok: true });
    } finally {
      await store.close();
    }
  });
});

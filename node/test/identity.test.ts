import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { ErrorCode, PeerCard, PeerCardBody, TracenetError } from '@tracenet/proto';
import { initSodium } from '../src/crypto/sodium.js';
import { dataPaths, initDataDir, issuePeerCard, loadIdentity } from '../src/identity/data-dir.js';
import { keyIdOf } from '../src/crypto/key-pairs.js';
import { parsePeerCardFile, signPeerCard, toPeerCardFile, verifyPeerCard } from '../src/identity/peer-card.js';
import { strictBase64 } from '../src/util/base64.js';
import { startNode, type TestNode } from './support/nodes.js';
import { makeParty, rejectionOf, type Party } from './support/parties.js';

const NOW = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

const temporary: string[] = [];
afterEach(async () => {
  await Promise.all(temporary.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tracenet-identity-'));
  temporary.push(dir);
  return dir;
}

function expectCode(thrown: unknown, code: ErrorCode): TracenetError {
  expect(thrown).toBeInstanceOf(TracenetError);
  const error = thrown as TracenetError;
  expect(error.codeName).toBe(ErrorCode[code].replace('ERROR_CODE_', ''));
  return error;
}

function refusal(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A card whose body carries `value` in int64 field `fieldNo` (11 valid_from_ms, 12 valid_until_ms,
 * 13 issued_at_ms), encoded by hand: the generated encoder takes numbers only. Decoding the body is
 * the first check (2.3), so the signature is never looked at.
 */
function cardWithInt64(body: PeerCardBody, fieldNo: 11 | 12 | 13, value: bigint): PeerCard {
  const cleared = {
    ...body,
    ...(fieldNo === 11 ? { validFromMs: 0 } : fieldNo === 12 ? { validUntilMs: 0 } : { issuedAtMs: 0 }),
  };
  const writer = new BinaryWriter();
  writer.raw(PeerCardBody.encode(cleared).finish());
  writer.tag(fieldNo, WireType.Varint).int64(value);
  return { body: Buffer.from(writer.finish()), signature: Buffer.alloc(64) };
}

describe('data directory', () => {
  it('writes key files with mode 0600 and the keys directory with 0700, whatever the umask', async () => {
    await initSodium();
    const dataDir = join(await tempDir(), 'node');
    const previous = process.umask(0);
    try {
      await initDataDir({ dataDir, participantId: 'FRA', endpoints: ['127.0.0.1:7443'], nowMs: NOW });
    } finally {
      process.umask(previous);
    }
    const paths = dataPaths(dataDir);
    expect(await mode(dataDir)).toBe(0o700);
    expect(await mode(paths.keysDir)).toBe(0o700);
    for (const file of [paths.signingKey, paths.encryptionKey, paths.tlsKey, paths.authorityToken])
      expect(await mode(file), file).toBe(0o600);
    const identity = await loadIdentity(dataDir);
    expect(identity.participantId).toBe('FRA');
    expect(identity.keyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('refuses to load a key file that group or others can read', async () => {
    await initSodium();
    const dataDir = join(await tempDir(), 'node');
    await initDataDir({ dataDir, participantId: 'FRA', endpoints: ['127.0.0.1:7443'], nowMs: NOW });
    const paths = dataPaths(dataDir);
    for (const [file, fileMode] of [
      [paths.signingKey, 0o644],
      [paths.encryptionKey, 0o640],
      [paths.tlsKey, 0o604],
    ] as const) {
      await chmod(file, fileMode);
      const error = expectCode(await rejectionOf(loadIdentity(dataDir)), ErrorCode.ERROR_CODE_INVALID_FIELD);
      expect(error.rule).toBe('key_file_mode');
      expect(error.field).toBe(file);
      expect(error.message).toContain(`chmod 600 ${file}`);
      await chmod(file, 0o600);
    }
    await expect(loadIdentity(dataDir)).resolves.toMatchObject({ participantId: 'FRA' });
  });

  it('refuses an empty directory, a second init and an invalid participant id', async () => {
    await initSodium();
    const dir = await tempDir();
    expectCode(await rejectionOf(loadIdentity(dir)), ErrorCode.ERROR_CODE_NOT_FOUND);
    const dataDir = join(dir, 'node');
    await initDataDir({ dataDir, participantId: 'org:UN-POE', endpoints: ['127.0.0.1:7443'], nowMs: NOW });
    const signingKey = await readFile(dataPaths(dataDir).signingKey, 'utf8');
    const again = expectCode(
      await rejectionOf(initDataDir({ dataDir, participantId: 'FRA', endpoints: ['127.0.0.1:7443'], nowMs: NOW })),
      ErrorCode.ERROR_CODE_INVALID_FIELD,
    );
    expect(again.rule).toBe('already_initialised');
    expect(await readFile(dataPaths(dataDir).signingKey, 'utf8')).toBe(signingKey);
    const bad = expectCode(
      await rejectionOf(
        initDataDir({ dataDir: join(dir, 'other'), participantId: 'France', endpoints: [], nowMs: NOW }),
      ),
      ErrorCode.ERROR_CODE_INVALID_FIELD,
    );
    expect(bad.rule).toBe('participant_id');
    const name = expectCode(
      await rejectionOf(
        initDataDir({
          dataDir: join(dir, 'named'),
          participantId: 'FRA',
          displayName: 'France\u001b[2J',
          endpoints: [],
          nowMs: NOW,
        }),
      ),
      ErrorCode.ERROR_CODE_INVALID_FIELD,
    );
    expect([name.field, name.rule]).toEqual(['name', 'control_character']);
    expectCode(await rejectionOf(loadIdentity(join(dir, 'named'))), ErrorCode.ERROR_CODE_NOT_FOUND);
  });

  it('refuses key files that do not match identity.json', async () => {
    await initSodium();
    const [a, b] = [join(await tempDir(), 'a'), join(await tempDir(), 'b')];
    await initDataDir({ dataDir: a, participantId: 'FRA', endpoints: ['127.0.0.1:7443'], nowMs: NOW });
    await initDataDir({ dataDir: b, participantId: 'FRA', endpoints: ['127.0.0.1:7443'], nowMs: NOW });
    await writeFile(dataPaths(a).encryptionKey, await readFile(dataPaths(b).encryptionKey), { mode: 0o600 });
    const error = expectCode(await rejectionOf(loadIdentity(a)), ErrorCode.ERROR_CODE_INVALID_FIELD);
    expect(error.rule).toBe('key_id');
  });
});

describe('the TLS certificate (docs/protocol.md 2.5)', () => {
  it('serves both ends of a Federation connection and names tracenet-peer, the server name clients send', async () => {
    await initSodium();
    const dataDir = join(await tempDir(), 'node');
    const { identity } = await initDataDir({
      dataDir,
      participantId: 'FRA',
      endpoints: ['127.0.0.1:7443'],
      nowMs: Date.now(),
    });
    const certificate = new X509Certificate(identity.tlsCertificatePem);
    // serverAuth and clientAuth: gRPC C-core and OpenSSL refuse a client certificate without clientAuth.
    expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(certificate.subjectAltName).toBe('DNS:tracenet-peer, DNS:localhost, IP Address:127.0.0.1');
    expect(certificate.checkHost('tracenet-peer')).toBe('tracenet-peer');
    expect(certificate.ca).toBe(false);
  });
});

describe('peer cards', () => {
  let fra: Party;
  let other: Party;

  beforeAll(async () => {
    [fra, other] = await Promise.all([makeParty('FRA', NOW), makeParty('KEN', NOW)]);
  });
  afterAll(async () => {
    await Promise.all([fra.cleanup(), other.cleanup()]);
  });

  /** FRA's card body changed by `change` and signed again with FRA's key. */
  function resigned(change: (body: PeerCardBody) => PeerCardBody): PeerCard {
    return signPeerCard(change(PeerCardBody.decode(fra.card.body)), fra.identity.keys.signingSecretKey);
  }

  function expectInvalid(card: PeerCard, field: string, rule: string, nowMs = NOW): void {
    const error = expectCode(
      refusal(() => verifyPeerCard(card, nowMs)),
      ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
    );
    expect(error.field).toBe(field);
    expect(error.rule).toBe(rule);
  }

  it('accepts a card as issued', () => {
    const body = verifyPeerCard(fra.card, NOW);
    expect(body).toMatchObject({ participantId: 'FRA', keyId: fra.identity.keyId, endpoints: ['127.0.0.1:1'] });
  });

  it('refuses a tampered body', () => {
    const body = Buffer.from(fra.card.body);
    const at = body.indexOf(Buffer.from('127.0.0.1:1'));
    body[at + 10] = '2'.charCodeAt(0);
    expectInvalid({ ...fra.card, body }, 'card.signature', 'signature');
  });

  it('refuses a card signed by a key other than the one it names', () => {
    const forged = signPeerCard(PeerCardBody.decode(fra.card.body), other.identity.keys.signingSecretKey);
    expectInvalid(forged, 'card.signature', 'signature');
  });

  it('refuses a wrong key id', () => {
    expectInvalid(
      resigned((b) => ({ ...b, keyId: other.identity.keyId })),
      'card.key_id',
      'key_id',
    );
  });

  it('refuses a card outside its validity', () => {
    const body = PeerCardBody.decode(fra.card.body);
    expectInvalid(fra.card, 'card.valid_until_ms', 'validity', body.validUntilMs);
    expectInvalid(fra.card, 'card.valid_until_ms', 'validity', body.validUntilMs + DAY);
    expectInvalid(fra.card, 'card.valid_until_ms', 'validity', body.validFromMs - 1);
    expect(() => verifyPeerCard(fra.card, body.validUntilMs - 1)).not.toThrow();
  });

  it('refuses a TLS fingerprint that does not match the certificate', () => {
    expectInvalid(
      resigned((b) => ({ ...b, tlsCertificateSha256: Buffer.alloc(32, 1) })),
      'card.tls_certificate_sha256',
      'fingerprint',
    );
    expectInvalid(
      resigned((b) => ({ ...b, tlsCertificate: Buffer.alloc(0) })),
      'card.tls_certificate',
      'required',
    );
  });

  it('refuses other broken fields', () => {
    expectInvalid(
      resigned((b) => ({ ...b, version: 2 })),
      'card.version',
      'version',
    );
    expectInvalid(
      resigned((b) => ({ ...b, participantId: 'France' })),
      'card.participant_id',
      'participant_id',
    );
    expectInvalid(
      resigned((b) => ({ ...b, participantId: 'org:x' })),
      'card.kind',
      'kind',
    );
    expectInvalid(
      resigned((b) => ({ ...b, endpoints: [] })),
      'card.endpoints',
      'required',
    );
    expectInvalid(
      resigned((b) => ({ ...b, endpoints: ['127.0.0.1:1', 'no-port'] })),
      'card.endpoints[1]',
      'host_port',
    );
    expectInvalid(
      resigned((b) => ({ ...b, endpoints: ['127.0.0.1:70000'] })),
      'card.endpoints[0]',
      'host_port',
    );
    expectInvalid(
      resigned((b) => ({ ...b, signingPublicKey: Buffer.alloc(31) })),
      'card.signing_public_key',
      'length',
    );
    expectInvalid({ body: Buffer.from([0x0a, 0x10, 0x01]), signature: fra.card.signature }, 'card.body', 'protobuf');
  });

  it('refuses a time beyond ±(2^53 − 1) naming the field, never rounded (protocol 0, 2.3)', () => {
    const body = PeerCardBody.decode(fra.card.body);
    for (const [fieldNo, field, value] of [
      [11, 'card.valid_from_ms', -SAFE - 1n],
      [12, 'card.valid_until_ms', SAFE + 1n],
      [12, 'card.valid_until_ms', 2n ** 63n - 1n],
      [13, 'card.issued_at_ms', SAFE + 2n],
    ] as const) {
      expectInvalid(cardWithInt64(body, fieldNo, value), field, 'safe_integer');
    }
  });

  it('refuses control and format characters in the display name, which could forge lines of `tracenet peers list`', () => {
    for (const displayName of [
      'France\u001b[2J',
      'France\nKEN          state        key 0000000000000000',
      'France\u009b31m',
      'France\u202e',
      'France\u2066',
      'France\u200b',
      'France\u007f',
    ]) {
      expectInvalid(
        resigned((b) => ({ ...b, displayName })),
        'card.display_name',
        'control_character',
      );
    }
    expect(
      verifyPeerCard(
        resigned((b) => ({ ...b, displayName: 'République française — المراقب' })),
        NOW,
      ).displayName,
    ).toBe('République française — المراقب');
  });
});

describe('card files (docs/protocol.md 2.6)', () => {
  let tcd: Party;
  let forger: Party;

  beforeAll(async () => {
    [tcd, forger] = await Promise.all([makeParty('TCD', NOW), makeParty('TCD', NOW)]);
  });
  afterAll(async () => {
    await Promise.all([tcd.cleanup(), forger.cleanup()]);
  });

  function expectRefused(file: object, field: string, rule: string): void {
    const error = expectCode(
      refusal(() => parsePeerCardFile(JSON.stringify(file))),
      ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
    );
    expect([error.field, error.rule]).toEqual([field, rule]);
  }

  it('reads the card of a file as exported', () => {
    expect(PeerCard.encode(parsePeerCardFile(JSON.stringify(toPeerCardFile(tcd.card)))).finish()).toEqual(
      PeerCard.encode(tcd.card).finish(),
    );
  });

  it("refuses a file whose readable members disagree with its signed card, naming the member: a forged file cannot show TCD's key id over other keys", () => {
    const real = toPeerCardFile(tcd.card);
    const forged = toPeerCardFile(forger.card);
    expectRefused({ ...forged, keyId: real.keyId, tlsFingerprint: real.tlsFingerprint }, 'keyId', 'signed_content');
    expectRefused({ ...forged, tlsFingerprint: real.tlsFingerprint }, 'tlsFingerprint', 'signed_content');
    const changed = {
      participantId: 'KEN',
      kind: 'organisation',
      displayName: 'Tchad',
      endpoints: ['127.0.0.1:2'],
      validUntil: new Date(NOW + 400 * DAY).toISOString(),
    };
    for (const [member, value] of Object.entries(changed))
      expectRefused({ ...real, [member]: value }, member, 'signed_content');
    expectRefused({ ...real, endpoints: [...real.endpoints, '127.0.0.1:2'] }, 'endpoints', 'signed_content');
    const { keyId: _dropped, ...withoutKeyId } = real;
    expectRefused(withoutKeyId, 'keyId', 'required');
    expectRefused({ ...real, keyId: real.keyId.toUpperCase() }, 'keyId', 'signed_content');
  });

  it('reads `card` as standard base64 with padding only (RFC 4648 section 4)', () => {
    const real = toPeerCardFile(tcd.card);
    const urlSafe = real.card.replace(/\+/g, '-').replace(/\//g, '_');
    expect(urlSafe).not.toBe(real.card);
    for (const card of [
      urlSafe,
      real.card.endsWith('=') ? real.card.replace(/=+$/, '') : `${real.card}=`,
      real.card.replace(/(.{76})/g, '$1\n'),
      ` ${real.card}`,
      `${real.card}!`,
    ]) {
      expectRefused({ ...real, card }, 'card', 'base64');
    }
    expect(strictBase64('AQID')).toEqual(Buffer.from([1, 2, 3]));
    expect(strictBase64('AQ==')).toEqual(Buffer.from([1]));
    expect(strictBase64('')).toEqual(Buffer.alloc(0));
    for (const text of ['AQ', 'AR==', 'AQI', 'A-8=', 'A_8=', 'AQ ID', 'AQID\n', 'AQ=\n=', '*AQID'])
      expect(strictBase64(text), text).toBeUndefined();
  });

  it("names a time beyond ±(2^53 − 1) in the signed card; a body that does not decode is the card's", () => {
    const real = toPeerCardFile(tcd.card);
    const oversized = cardWithInt64(PeerCardBody.decode(tcd.card.body), 12, SAFE + 1n);
    expectRefused(
      { ...real, card: Buffer.from(PeerCard.encode(oversized).finish()).toString('base64') },
      'card.valid_until_ms',
      'safe_integer',
    );
    const broken = { body: Buffer.from([0x0a, 0x10, 0x01]), signature: tcd.card.signature };
    expectRefused(
      { ...real, card: Buffer.from(PeerCard.encode(broken).finish()).toString('base64') },
      'card',
      'protobuf',
    );
  });

  it('refuses a file that is not an object with the format and a card', () => {
    for (const text of ['null', '[]', '"card"', '{"format":"tracenet-peer-card/1"}']) {
      const error = expectCode(
        refusal(() => parsePeerCardFile(text)),
        ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
      );
      expect([error.field, error.rule], text).toEqual(['card', 'format']);
    }
  });
});

describe('pinning', () => {
  let bel: TestNode;
  const parties: Party[] = [];

  beforeAll(async () => {
    bel = await startNode('BEL');
  });
  afterAll(async () => {
    await bel.cleanup();
    await Promise.all(parties.map((p) => p.cleanup()));
  });

  async function party(id: string): Promise<Party> {
    const p = await makeParty(id, Date.now());
    parties.push(p);
    return p;
  }

  async function pinnedCount(): Promise<number> {
    let n = 0;
    for await (const _key of bel.node.store.peers.pins.keys()) n += 1;
    return n;
  }

  async function auditCount(): Promise<number> {
    let n = 0;
    for await (const _key of bel.node.store.audit.entries.keys()) n += 1;
    return n;
  }

  it("refuses the node's own card", async () => {
    const error = expectCode(
      await rejectionOf(bel.node.peers.pin(bel.node.card, Date.now())),
      ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
    );
    expect(error.rule).toBe('not_self');
    expect(bel.node.peers.get('BEL')).toBeUndefined();
  });

  it('refuses a card that names its participant id with other keys: an impostor of the node itself', async () => {
    const impostor = await party('BEL');
    expect(impostor.identity.keyId).not.toBe(bel.node.identity.keyId);
    const before = await pinnedCount();
    const error = expectCode(
      await rejectionOf(bel.node.peers.pin(impostor.card, Date.now())),
      ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
    );
    expect([error.field, error.rule]).toEqual(['card.participant_id', 'not_self']);
    expect(bel.node.peers.get('BEL')).toBeUndefined();
    expect(await pinnedCount()).toBe(before);
  });

  it('refuses a card with other keys for a participant already pinned, and keeps the pinned one', async () => {
    const first = await party('FRA');
    const impostor = await party('FRA');
    await bel.node.peers.pin(first.card, Date.now());
    const before = await pinnedCount();
    const error = expectCode(
      await rejectionOf(bel.node.peers.pin(impostor.card, Date.now())),
      ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
    );
    expect(error.field).toBe('card.key_id');
    expect(error.rule).toBe('pinned_key');
    expect(bel.node.peers.get('FRA')?.body.keyId).toBe(first.identity.keyId);
    expect(await pinnedCount()).toBe(before);
  });

  it('replaces a pinned card by a newer card of the same keys, never by an older one', async () => {
    const ken = await party('KEN');
    const t = Date.now();
    const older = issuePeerCard(ken.identity, ['127.0.0.1:1001'], t - 1000);
    const newer = issuePeerCard(ken.identity, ['127.0.0.1:1002'], t);
    expect((await bel.node.peers.pin(newer, t)).replaced).toBe(false);
    expect((await bel.node.peers.pin(older, t)).replaced).toBe(false);
    expect(bel.node.peers.get('KEN')?.body.endpoints).toEqual(['127.0.0.1:1002']);
    const newest = issuePeerCard(ken.identity, ['127.0.0.1:1003'], t + 1000);
    expect((await bel.node.peers.pin(newest, t + 1000)).replaced).toBe(true);
    expect(bel.node.peers.get('KEN')?.body.endpoints).toEqual(['127.0.0.1:1003']);
  });

  it('keeps the pinned card when the same card, or another of the same keys issued at the same time, comes again (replaced = false)', async () => {
    const ita = await party('ITA');
    const t = Date.now();
    const card = issuePeerCard(ita.identity, ['127.0.0.1:2001'], t);
    const sameTime = issuePeerCard(ita.identity, ['127.0.0.1:2002'], t);
    expect((await bel.node.peers.pin(card, t)).replaced).toBe(false);
    const audited = await auditCount();
    expect((await bel.node.peers.pin(card, t + 1000)).replaced).toBe(false);
    const again = await bel.node.peers.pin(sameTime, t + 1000);
    expect(again.replaced).toBe(false);
    expect(again.peer.body.endpoints).toEqual(['127.0.0.1:2001']);
    expect(bel.node.peers.get('ITA')?.body.endpoints).toEqual(['127.0.0.1:2001']);
    // Nothing changed, so nothing is written: no new `peer.pinned` entry.
    expect(await auditCount()).toBe(audited);
  });

  it('refuses an expired card and a low-order encryption key', async () => {
    const deu = await party('DEU');
    const validUntil = PeerCardBody.decode(deu.card.body).validUntilMs;
    expectCode(await rejectionOf(bel.node.peers.pin(deu.card, validUntil + 1)), ErrorCode.ERROR_CODE_INVALID_PEER_CARD);
    const body = PeerCardBody.decode(deu.card.body);
    // Key id and signature are right; only the X25519 key is a low-order point.
    const lowOrder = Buffer.alloc(32);
    lowOrder[0] = 1;
    const card = signPeerCard(
      { ...body, encryptionPublicKey: lowOrder, keyId: keyIdOf(body.signingPublicKey, lowOrder) },
      deu.identity.keys.signingSecretKey,
    );
    const error = expectCode(
      await rejectionOf(bel.node.peers.pin(card, Date.now())),
      ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
    );
    expect(error.field).toBe('card.encryption_public_key');
    expect(bel.node.peers.get('DEU')).toBeUndefined();
  });
});

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import {
  EnvelopeHeader,
  InterestCategory,
  LookupAnswer,
  MessageKind,
  NodeEvent,
  NodeEventType,
  PeerPolicy,
  STATUS_DETAILS_KEY,
  TracenetError,
  WeaponType,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../src/audit/verify.js';
import { sealWithHeader } from '../../src/envelope/envelope.js';
import { ANSWER_BUCKET_BYTES, encodePaddedAnswer } from '../../src/lookup/lookup-responder.js';
import { ManualClock } from '../../src/util/clock.js';
import { startNode, testConfig, type TestNode } from '../support/nodes.js';
import {
  flipHeaderByte,
  headerFrom,
  makeParty,
  pairKeyOf,
  type Party,
  RawFederationClient,
  rejectionOf,
  sealFrom,
  sealHeader,
} from '../support/parties.js';
import {
  expectOnlyHitFields,
  openAnswer,
  queryBody,
  rifleQuery,
  SECRETS,
  sealQuery,
  stolenRifle,
  theftReport,
} from './support.js';

const SAMPLE_ALIASES = fileURLToPath(new URL('../../../docs/examples/manufacturer-aliases.csv', import.meta.url));
const MAX_BYTES = 16 * 1024;
const WINDOW_MS = 5 * 60_000;

let clock: ManualClock;
let bel: TestNode;
/** Allowed to look up, 1000 a minute. */
let fra: Party;
/** Pinned, default policy: no lookups. */
let ken: Party;
/** Allowed, 2 a minute. */
let nld: Party;
/** Not pinned. */
let deu: Party;
/** Claims to be FRA with other keys. */
let fraOtherKeys: Party;
let client: RawFederationClient;
let recordId: string;
let secrets: string[];

beforeAll(async () => {
  clock = new ManualClock(Date.now());
  bel = await startNode('BEL', { clock, config: testConfig({ envelope: { maxBytes: MAX_BYTES } }) });
  [fra, ken, nld, deu, fraOtherKeys] = await Promise.all([
    makeParty('FRA', clock.now()),
    makeParty('KEN', clock.now()),
    makeParty('NLD', clock.now()),
    makeParty('DEU', clock.now()),
    makeParty('FRA', clock.now()),
  ]);
  for (const p of [fra, ken, nld]) await bel.node.peers.pin(p.card, clock.now());
  await bel.node.policies.set(
    PeerPolicy.fromPartial({ participantId: 'FRA', allowLookups: true, lookupsPerMinute: 1000 }),
  );
  await bel.node.policies.set(
    PeerPolicy.fromPartial({ participantId: 'NLD', allowLookups: true, lookupsPerMinute: 2 }),
  );
  const { record } = await bel.node.records.put(stolenRifle());
  recordId = record.recordId;
  await bel.node.records.report(recordId, theftReport());
  // Another FN record with the same serial prefix that is NOT of interest: never a hit.
  await bel.node.records.put(stolenRifle({ serialNumber: 'FX-0412-9999' }));
  secrets = [...SECRETS, recordId, 'FX04129999'];
  client = new RawFederationClient(bel.node.federationAddress, bel.node.identity.tlsCertificatePem, fra.identity.tls);
});

afterAll(async () => {
  client.close();
  await bel.cleanup();
  await Promise.all([fra, ken, nld, deu, fraOtherKeys].map((p) => p.cleanup()));
});

const self = () => bel.node.identity;

async function auditSince(seq: number): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  for await (const [, value] of bel.node.store.audit.entries.entries()) {
    const line = JSON.parse(String(value.line)) as Record<string, unknown>;
    if (Number(line.seq) > seq) lines.push(line);
  }
  return lines;
}

async function eventsSince(sequence: number): Promise<NodeEvent[]> {
  const events: NodeEvent[] = [];
  for await (const [, value] of bel.node.store.audit.events.entries()) {
    const e = value;
    if (e.sequence > sequence) events.push(e);
  }
  return events;
}

/** Asks BEL as `party` over gRPC and opens the answer with the pair key. */
async function ask(party: Party, body: Buffer) {
  const sealed = sealQuery(party.identity, self(), clock.now(), body);
  const bytes = await client.lookup(sealed.bytes);
  return { sealed, opened: openAnswer(bytes, party.identity, self()) };
}

describe('answers', () => {
  it('a hit carries reference, category, owner, contact point and partial only; the owner records a hit notice, audit entries and an event in one go', async () => {
    const seq = bel.node.journal.head.seq;
    const eventSeq = bel.node.journal.lastEventSequence;
    const body = queryBody(rifleQuery({ type: WeaponType.WEAPON_TYPE_RIFLE }));
    const { sealed, opened } = await ask(fra, body);
    const queryMessageId = EnvelopeHeader.decode(sealed.envelope.header).messageId;
    expect(opened.header).toMatchObject({
      sender: 'BEL',
      recipient: 'FRA',
      kind: MessageKind.MESSAGE_KIND_LOOKUP_ANSWER,
      correlationId: queryMessageId,
      recipientKeyId: fra.identity.keyId,
    });
    expect(opened.answer.hits).toEqual([
      {
        reference: expect.stringMatching(/^roi_[A-Za-z0-9_-]{22}$/),
        category: InterestCategory.INTEREST_CATEGORY_STOLEN,
        owner: 'BEL',
        contactPoint: 'NCB Brussels, +32 2 000 00 00',
        partial: false,
        recordedDestroyed: false,
        destroyedDate: '',
        certificateId: '',
      },
    ]);
    expectOnlyHitFields(opened, secrets);

    const { hits } = await bel.node.lookups.hits.list();
    expect(hits[0]).toMatchObject({
      askedBy: 'FRA',
      purpose: 'seizure at Zaventem, case 2026/118',
      requestingAuthority: 'OCRC',
      queryId: opened.answer.queryId,
      recordId,
      reference: opened.answer.hits[0]?.reference,
      category: InterestCategory.INTEREST_CATEGORY_STOLEN,
      partial: false,
      atMs: clock.now(),
    });
    const audit = await auditSince(seq);
    expect(audit.map((a) => a.type)).toEqual(['lookup.query', 'lookup.hit', 'lookup.answer']);
    expect(audit[0]).toMatchObject({
      direction: 'in',
      peer: 'FRA',
      messageId: queryMessageId,
      queryId: opened.answer.queryId,
    });
    expect(audit[1]).toMatchObject({ peer: 'FRA', recordId, category: 'stolen', partial: false });
    expect(audit[2]).toMatchObject({
      direction: 'out',
      peer: 'FRA',
      hits: 1,
      correlationId: queryMessageId,
      messageId: opened.header.messageId,
    });
    for (const secret of ['FX-0412-2231', 'seizure at Zaventem', 'NCB Brussels'])
      expect(JSON.stringify(audit)).not.toContain(secret);
    const events = await eventsSince(eventSeq);
    expect(events).toEqual([
      expect.objectContaining({
        type: NodeEventType.NODE_EVENT_TYPE_LOOKUP_HIT,
        peer: 'FRA',
        summary: expect.stringContaining(recordId),
      }),
    ]);
  });

  it('no hit: an empty answer, no hit notice; query and answer are audited', async () => {
    const before = (await bel.node.lookups.hits.list()).hits.length;
    const seq = bel.node.journal.head.seq;
    const { opened } = await ask(fra, queryBody(rifleQuery({ serialNumber: 'FX-0412-2232' })));
    expect(opened.answer.hits).toEqual([]);
    expectOnlyHitFields(opened, secrets);
    expect((await bel.node.lookups.hits.list()).hits.length).toBe(before);
    expect((await auditSince(seq)).map((a) => [a.type, a.hits])).toEqual([
      ['lookup.query', undefined],
      ['lookup.answer', 0],
    ]);
  });

  it('a record that is not of interest is never a hit, even when it matches exactly', async () => {
    const { opened } = await ask(fra, queryBody(rifleQuery({ serialNumber: 'FX 0412 9999' })));
    expect(opened.answer.hits).toEqual([]);
  });

  it('calibre and type narrow the match', async () => {
    expect(
      (await ask(fra, queryBody(rifleQuery({ calibre: '7.62 x 51mm', model: 'FAL 50-63' })))).opened.answer.hits,
    ).toHaveLength(1);
    expect((await ask(fra, queryBody(rifleQuery({ calibre: '5.56x45mm' })))).opened.answer.hits).toEqual([]);
    expect((await ask(fra, queryBody(rifleQuery({ type: WeaponType.WEAPON_TYPE_PISTOL })))).opened.answer.hits).toEqual(
      [],
    );
  });

  it('a wildcard serial gives a candidate hit marked partial, and the notice says so', async () => {
    const { opened } = await ask(fra, queryBody(rifleQuery({ serialNumber: 'fx-04?2-*' })));
    expect(opened.answer.hits).toEqual([expect.objectContaining({ owner: 'BEL', partial: true })]);
    expectOnlyHitFields(opened, secrets);
    expect((await bel.node.lookups.hits.list({ limit: 1 })).hits[0]).toMatchObject({ partial: true, recordId });
  });

  it('another spelling of the maker hits once the alias table is loaded, and the table is kept in <data>/aliases.csv', async () => {
    const body = () => queryBody(rifleQuery({ manufacturer: "Fabrique Nationale d'Herstal" }));
    expect((await ask(fra, body())).opened.answer.hits).toEqual([]);
    const seq = bel.node.journal.head.seq;
    const csv = readFileSync(SAMPLE_ALIASES);
    const table = await bel.node.lookups.aliases.load(csv);
    expect(table.names).toBe(6);
    expect(await readFile(join(bel.dataDir, 'aliases.csv'))).toEqual(csv);
    expect((await auditSince(seq))[0]).toMatchObject({
      type: 'aliases.loaded',
      names: 6,
      aliases: table.aliases,
      digest: table.digest,
    });
    expect((await ask(fra, body())).opened.answer.hits).toEqual([expect.objectContaining({ partial: false })]);
    expect((await ask(fra, queryBody(rifleQuery({ manufacturer: 'FN' })))).opened.answer.hits).toHaveLength(1);
    // A table that is not valid changes nothing.
    await expect(bel.node.lookups.aliases.load(Buffer.from('FN Herstal,FN\nOther,FN\n'))).rejects.toMatchObject({
      rule: 'alias_conflict',
    });
    expect((await ask(fra, queryBody(rifleQuery({ manufacturer: 'FN' })))).opened.answer.hits).toHaveLength(1);
  });

  it('a withdrawn report is no longer hit; reported again, it is', async () => {
    await bel.node.records.clearReport(recordId);
    expect((await ask(fra, queryBody(rifleQuery()))).opened.answer.hits).toEqual([]);
    await bel.node.records.report(recordId, theftReport({ category: InterestCategory.INTEREST_CATEGORY_TRAFFICKED }));
    expect((await ask(fra, queryBody(rifleQuery()))).opened.answer.hits).toEqual([
      expect.objectContaining({ category: InterestCategory.INTEREST_CATEGORY_TRAFFICKED }),
    ]);
  });
});

describe('answer size (docs/protocol.md 13.6)', () => {
  it('a hit, a no-hit and three hits are answered with envelopes of the same size', async () => {
    for (const serialNumber of ['ZZ-7001-0001', 'ZZ-7001-0002', 'ZZ-7001-0003']) {
      const { record } = await bel.node.records.put(stolenRifle({ serialNumber }));
      await bel.node.records.report(record.recordId, theftReport());
    }
    const answerTo = async (serialNumber: string) => {
      const sealed = sealQuery(fra.identity, self(), clock.now(), queryBody(rifleQuery({ serialNumber })));
      const bytes = await client.lookup(sealed.bytes);
      return { bytes: bytes.length, hits: openAnswer(bytes, fra.identity, self()).answer.hits.length };
    };
    const answers = [await answerTo('ZZ-7001-0009'), await answerTo('ZZ-7001-0001'), await answerTo('ZZ-7001-*')];
    expect(answers.map((a) => a.hits)).toEqual([0, 1, 3]);
    expect(new Set(answers.map((a) => a.bytes)).size).toBe(1);
  });

  it('every answer body is a multiple of 4096 bytes with at least 128 bytes of zeros, up to a hit with the longest contact point', () => {
    for (let length = 0; length <= 500; length += 1) {
      const hit = {
        reference: 'roi_0123456789012345678901',
        category: InterestCategory.INTEREST_CATEGORY_STOLEN,
        owner: 'org:UN-POE',
        contactPoint: '€'.repeat(length),
        partial: true,
        recordedDestroyed: false,
        destroyedDate: '',
        certificateId: '',
      };
      const body = encodePaddedAnswer({ queryId: 'q'.repeat(64), hits: [hit] });
      expect(body.length).toBe(ANSWER_BUCKET_BYTES);
      const decoded = LookupAnswer.decode(body);
      expect(decoded.hits).toEqual([hit]);
      expect(decoded.padding.length).toBeGreaterThanOrEqual(128);
    }
    for (let hits = 0; hits <= 100; hits += 1) {
      const body = encodePaddedAnswer({
        queryId: 'q'.repeat(22),
        hits: Array.from({ length: hits }, () => ({
          reference: 'roi_0123456789012345678901',
          category: 1,
          owner: 'BEL',
          contactPoint: 'NCB Brussels, +32 2 000 00 00',
          partial: false,
          recordedDestroyed: false,
          destroyedDate: '',
          certificateId: '',
        })),
      });
      expect(body.length % ANSWER_BUCKET_BYTES).toBe(0);
      expect(LookupAnswer.decode(body).padding.length).toBeGreaterThanOrEqual(128);
      if (hits <= 40) expect(body.length).toBe(ANSWER_BUCKET_BYTES);
    }
  });
});

describe('policy and rate limit', () => {
  it('a peer whose policy does not allow lookups is refused with KIND_NOT_ALLOWED (PERMISSION_DENIED), also when its trace requests are accepted; no hit notice', async () => {
    for (const acceptRequests of [false, true]) {
      await bel.node.policies.set(PeerPolicy.fromPartial({ participantId: 'KEN', acceptRequests }));
      const before = (await bel.node.lookups.hits.list()).hits.length;
      const seq = bel.node.journal.head.seq;
      const thrown = (await rejectionOf(
        client.lookup(sealQuery(ken.identity, self(), clock.now(), queryBody(rifleQuery())).bytes),
      )) as ServiceError;
      expect(thrown.code, `accept_requests ${acceptRequests}`).toBe(GrpcStatus.PERMISSION_DENIED);
      expect(TracenetError.from(thrown)).toMatchObject({
        codeName: 'KIND_NOT_ALLOWED',
        field: 'header.kind',
        rule: 'peer_policy',
      });
      expect((await bel.node.lookups.hits.list()).hits.length).toBe(before);
      expect(await auditSince(seq)).toEqual([
        expect.objectContaining({ type: 'lookup.refused', peer: 'KEN', code: 'KIND_NOT_ALLOWED', authenticated: true }),
      ]);
    }
    await bel.node.policies.set(PeerPolicy.fromPartial({ participantId: 'KEN' }));
  });

  it('over its rate limit a peer is refused with RATE_LIMITED (RESOURCE_EXHAUSTED, retryable); the bucket refills with time', async () => {
    const sendOne = () => client.lookup(sealQuery(nld.identity, self(), clock.now(), queryBody(rifleQuery())).bytes);
    await sendOne();
    await sendOne();
    const thrown = (await rejectionOf(sendOne())) as ServiceError;
    expect(thrown.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(thrown.metadata.get(STATUS_DETAILS_KEY)).toHaveLength(1);
    expect(TracenetError.from(thrown)).toMatchObject({
      codeName: 'RATE_LIMITED',
      rule: 'lookups_per_minute',
      retryable: true,
    });
    // FRA has its own bucket.
    await client.lookup(sealQuery(fra.identity, self(), clock.now(), queryBody(rifleQuery())).bytes);
    clock.advance(30_000);
    await sendOne();
    await expect(sendOne()).rejects.toMatchObject({ code: GrpcStatus.RESOURCE_EXHAUSTED });
    // A policy change applies at once.
    await bel.node.policies.set(PeerPolicy.fromPartial({ participantId: 'NLD', allowLookups: false }));
    await expect(sendOne()).rejects.toMatchObject({ code: GrpcStatus.PERMISSION_DENIED });
  });
});

describe('envelopes', () => {
  /** Sends the same bytes to Lookup, then to Deliver: both refuse with `code` (and the same gRPC status). */
  async function sameAsDeliver(bytes: Uint8Array, code: string, field?: string): Promise<void> {
    const viaLookup = TracenetError.from(await rejectionOf(client.lookup(bytes)));
    const viaDeliver = TracenetError.from(await rejectionOf(client.deliver(bytes)));
    expect([viaLookup.codeName, viaDeliver.codeName]).toEqual([code, code]);
    expect(viaLookup.grpcStatus).toBe(viaDeliver.grpcStatus);
    if (field !== undefined) expect([viaLookup.field, viaDeliver.field]).toEqual([field, field]);
    expect(viaLookup.receipt).toBeUndefined();
  }
  const body = () => queryBody(rifleQuery());
  const query = (from: Party, overrides: Parameters<typeof sealQuery>[4] = {}) =>
    sealQuery(from.identity, self(), clock.now(), body(), overrides);

  it('refused before authentication with the codes of Deliver', async () => {
    await sameAsDeliver(flipHeaderByte(query(fra).envelope), 'UNKNOWN_SENDER', '');
    await sameAsDeliver(
      sealQuery(fra.identity, ken.identity, clock.now(), body()).bytes,
      'WRONG_RECIPIENT',
      'header.recipient',
    );
    await sameAsDeliver(query(deu).bytes, 'UNKNOWN_SENDER', '');
    await sameAsDeliver(query(fraOtherKeys).bytes, 'UNKNOWN_SENDER', '');
    await sameAsDeliver(Buffer.alloc(MAX_BYTES + 1, 0xff), 'ENVELOPE_TOO_LARGE');
    await sameAsDeliver(Buffer.from([0x0a, 0x10, 0x01]), 'MALFORMED', 'envelope');
    const noId = sealHeader(
      fra.identity,
      self(),
      headerFrom(fra.identity, self(), clock.now(), { messageId: '', kind: MessageKind.MESSAGE_KIND_LOOKUP_QUERY }),
      body(),
    );
    await sameAsDeliver(noId.bytes, 'MISSING_FIELD', 'header.message_id');
    await sameAsDeliver(
      sealHeader(fra.identity, self(), headerFrom(fra.identity, self(), clock.now(), { version: 2 }), body()).bytes,
      'UNSUPPORTED_VERSION',
    );
  });

  it("no oracle: pinned or not, right key id or wrong, the same answer byte for byte as Deliver's; the tally and the metric keep the precise reason", async () => {
    const onTheWire = async (call: Promise<unknown>) => {
      const thrown = (await rejectionOf(call)) as ServiceError;
      return {
        status: thrown.code,
        details: thrown.details,
        trailer: Buffer.from(thrown.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer).toString('hex'),
      };
    };
    const probes = {
      unpinned: [query(deu).bytes, 'UNKNOWN_SENDER', 'pinned_peer'],
      pinnedOtherKeys: [query(fraOtherKeys).bytes, 'SENDER_KEY_MISMATCH', 'pinned_key'],
      pinnedRightKeyId: [query(fraOtherKeys, { senderKeyId: fra.identity.keyId }).bytes, 'HEADER_AUTH_FAILED', 'aead'],
      otherRecipientKeyId: [
        query(deu, { recipientKeyId: fra.identity.keyId }).bytes,
        'WRONG_RECIPIENT',
        'recipient_key',
      ],
    } as const;
    const expected = await onTheWire(client.deliver(query(deu).bytes));
    expect(expected.details).toBe('UNKNOWN_SENDER: the envelope could not be authenticated');
    const counted = async (code: string, rule: string) =>
      (
        (await bel.node.metrics.registry.getSingleMetric('tracenet_envelopes_unauthenticated_total')?.get())?.values ??
        []
      ).find((v) => v.labels.rpc === 'lookup' && v.labels.code === code && v.labels.rule === rule)?.value ?? 0;
    await bel.node.refusals.flush({ now: true });
    for (const [name, [bytes, code, rule]] of Object.entries(probes)) {
      const before = await counted(code, rule);
      const seq = bel.node.journal.head.seq;
      expect({ name, ...(await onTheWire(client.lookup(bytes))) }).toEqual({ name, ...expected });
      // Counted, not written one by one (4.13): the running interval, written now, has this one refusal.
      expect(await auditSince(seq)).toEqual([]);
      await bel.node.refusals.flush({ now: true });
      expect({ name, entries: await auditSince(seq) }).toEqual({
        name,
        entries: [
          expect.objectContaining({
            type: 'refusals.counted',
            source: '127.0.0.1',
            peer: 'FRA',
            total: 1,
            [`refused.${code}.${rule}`]: 1,
          }),
        ],
      });
      expect(await counted(code, rule)).toBe(before + 1);
    }
  });

  it('refused after authentication with the codes of Deliver: time window, expiry, signature', async () => {
    const now = clock.now();
    await sameAsDeliver(
      query(fra, { createdAtMs: now - 2000, expiresAtMs: now - 1 }).bytes,
      'EXPIRED',
      'header.expires_at_ms',
    );
    await sameAsDeliver(
      query(fra, { createdAtMs: now + WINDOW_MS + 1000, expiresAtMs: now + WINDOW_MS + 60_000 }).bytes,
      'OUTSIDE_TIME_WINDOW',
      'header.created_at_ms',
    );
    const header = EnvelopeHeader.encode(
      headerFrom(fra.identity, self(), now, { kind: MessageKind.MESSAGE_KIND_LOOKUP_QUERY }),
    ).finish();
    const forged = sealWithHeader(
      header,
      body(),
      fra.identity.keys.signingSecretKey,
      pairKeyOf(fra.identity, self()),
      Buffer.alloc(64, 7),
    );
    await sameAsDeliver(forged.bytes, 'BAD_SIGNATURE', 'sealed.signature');
  });

  it('a copy of an answered query is refused as MESSAGE_ID_REUSED and records no second hit', async () => {
    const sealed = query(fra);
    await client.lookup(sealed.bytes);
    const before = (await bel.node.lookups.hits.list()).hits.length;
    const thrown = (await rejectionOf(client.lookup(sealed.bytes))) as ServiceError;
    expect(thrown.code).toBe(GrpcStatus.ALREADY_EXISTS);
    expect(TracenetError.from(thrown).codeName).toBe('MESSAGE_ID_REUSED');
    expect((await bel.node.lookups.hits.list()).hits.length).toBe(before);
  });

  it('answered query ids are forgotten once their envelopes are outside the window', async () => {
    const sealed = query(fra);
    await client.lookup(sealed.bytes);
    clock.advance(WINDOW_MS + 1);
    expect(await bel.node.lookups.responder.prune()).toBeGreaterThan(0);
    // The copy is refused all the same, by the time check.
    expect(TracenetError.from(await rejectionOf(client.lookup(sealed.bytes))).codeName).toBe('OUTSIDE_TIME_WINDOW');
  });

  it('Lookup takes only LOOKUP_QUERY envelopes, and Deliver refuses lookup kinds', async () => {
    const noticeEnvelope = sealFrom(fra.identity, self(), clock.now());
    expect(TracenetError.from(await rejectionOf(client.lookup(noticeEnvelope.bytes)))).toMatchObject({
      codeName: 'INVALID_FIELD',
      field: 'header.kind',
      rule: 'lookup_kind',
    });
    const viaDeliver = TracenetError.from(await rejectionOf(client.deliver(query(fra).bytes)));
    expect(viaDeliver).toMatchObject({ codeName: 'INVALID_FIELD', field: 'header.kind', rule: 'deliverable_kind' });
    expect(viaDeliver.message).toBe(
      'message kind 12 (lookup query) is not delivered with Deliver: lookups travel with Federation.Lookup',
    );
    expect(viaDeliver.receipt).toBeDefined();
  });

  it('a query body that breaks the rules is refused naming the field', async () => {
    const bad = (b: Buffer) => client.lookup(sealQuery(fra.identity, self(), clock.now(), b).bytes);
    expect(TracenetError.from(await rejectionOf(bad(queryBody(rifleQuery(), { purpose: '' }))))).toMatchObject({
      codeName: 'MISSING_FIELD',
      field: 'body.purpose',
    });
    expect(TracenetError.from(await rejectionOf(bad(queryBody(rifleQuery({ serialNumber: 'F?*X' })))))).toMatchObject({
      codeName: 'INVALID_FIELD',
      rule: 'wildcard_known_characters',
    });
    expect(TracenetError.from(await rejectionOf(bad(queryBody(rifleQuery({ manufacturer: '' })))))).toMatchObject({
      codeName: 'MISSING_FIELD',
      field: 'body.weapon.manufacturer',
    });
    expect(TracenetError.from(await rejectionOf(bad(Buffer.from([0x0a, 0xff]))))).toMatchObject({
      codeName: 'MALFORMED',
      field: 'body',
    });
  });

  it('the audit chain verifies after all of the above', async () => {
    expect(await verifyAuditLog(bel.node.store, self().keys.signingPublicKey)).toMatchObject({ ok: true });
  });
});

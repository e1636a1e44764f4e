import {
  CaseRole,
  DestructionCertificate,
  DestructionCertificateBody,
  DestructionState,
  ErrorCode,
  InterestCategory,
  LookupOutcome,
  LookupsClient,
  type LookupsServer,
  type NodeEvent,
  NodeEventType,
  PeerPolicy,
  RecordsClient,
  type RecordsServer,
  type WeaponRecord,
  WeaponEventType,
  WeaponStatus,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { caseText } from '../../src/cli/trace-commands.js';
import { sodium } from '../../src/crypto/sodium.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { signCertificate } from '../../src/records/destruction.js';
import { auditOf } from '../lookup/support.js';
import { pinAll, startNode, type TestNode, waitFor } from '../support/nodes.js';
import { traceRequest } from '../support/requests.js';
import { event, weapon } from './support.js';

/**
 * Weapons collected, pending destruction and destroyed (docs/protocol.md 19) between real nodes:
 * BEL collects a pistol in a DDR programme, designates and destroys it and signs the certificate;
 * the pistol turns up again in FRA, which looks it up and asks BEL to trace it. KEN, which has
 * pinned BEL, verifies BEL's certificate; a tampered one is refused.
 */

const SERIAL = 'FX-0412-2231';
const pistol = (): WeaponRecord =>
  weapon(
    {
      imports: [],
      components: [],
      secondaryMarks: [],
      status: WeaponStatus.WEAPON_STATUS_SURRENDERED,
      events: [
        event(WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED, '2011-03-02', { place: 'Herstal' }),
        event(WeaponEventType.WEAPON_EVENT_TYPE_SURRENDERED, '2024-04-10', {
          place: 'Bunia',
          agency: 'DDR commission',
          circumstance: 5,
        }),
      ],
      collection: {
        programme: 'DDR Phase II — Ituri',
        collectionPoint: 'Bunia camp',
        date: '2024-04-10',
        uniqueMark: 'COD-DDR-2024-0001',
        conflictSetting: true,
      },
      destruction: {
        state: DestructionState.DESTRUCTION_STATE_PENDING,
        designatedDate: '2024-05-01',
        deactivated: true,
        destroyedDate: '',
        method: '',
        witnesses: [],
        certificateId: '',
      },
    },
    { serialNumber: SERIAL, model: 'FNX-45', type: 1, calibre: '.45 ACP', year: 2011 },
  );

let bel: TestNode;
let fra: TestNode;
let ken: TestNode;
let belRecords: UnaryClient<RecordsServer>;
let kenRecords: UnaryClient<RecordsServer>;
let fraLookups: UnaryClient<LookupsServer>;
let recordId = '';
let certificate: DestructionCertificate;

async function eventsOf(test: TestNode, type: NodeEventType): Promise<NodeEvent[]> {
  const events: NodeEvent[] = [];
  for await (const [, e] of test.node.store.audit.events.entries()) if (e.type === type) events.push(e);
  return events;
}

async function refusal(promise: Promise<unknown>): Promise<{ code: ErrorCode; field: string; rule: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code: ErrorCode; field: string; rule: string };
    return { code: e.code, field: e.field, rule: e.rule };
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  [bel, fra, ken] = await Promise.all([startNode('BEL'), startNode('FRA'), startNode('KEN')]);
  await pinAll([bel.node, fra.node, ken.node]);
  await bel.node.policies.set(
    PeerPolicy.fromPartial({ participantId: 'FRA', allowLookups: true, acceptRequests: true, autoAcknowledge: true }),
  );
  await fra.node.policies.set(PeerPolicy.fromPartial({ participantId: 'BEL', acceptRequests: true }));
  belRecords = connectUnary<RecordsServer>(
    RecordsClient,
    bel.node.authorityAddress,
    await readAuthorityToken(bel.dataDir),
  );
  kenRecords = connectUnary<RecordsServer>(
    RecordsClient,
    ken.node.authorityAddress,
    await readAuthorityToken(ken.dataDir),
  );
  fraLookups = connectUnary<LookupsServer>(
    LookupsClient,
    fra.node.authorityAddress,
    await readAuthorityToken(fra.dataDir),
  );
  recordId = (await bel.node.records.put(pistol())).record.recordId;
}, 60_000);

afterAll(async () => {
  for (const c of [belRecords, kenRecords, fraLookups]) c?.close();
  await Promise.all([bel, fra, ken].map((t) => t?.cleanup()));
});

describe('recording a destruction', () => {
  it('refuses a record that is not pending destruction (ILLEGAL_TRANSITION) and writes nothing', async () => {
    const other = (await bel.node.records.put(weapon({}, { serialNumber: 'NOT-DESIGNATED-1' }))).record;
    const before = bel.node.journal.head.seq;
    expect(
      await refusal(
        belRecords.call('recordDestruction', {
          recordId: other.recordId,
          destroyedDate: '2025-01-10',
          method: 'cutting',
          witnesses: ['Capt. A. Mbala'],
        }),
      ),
    ).toEqual({ code: ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION, field: 'record_id', rule: 'pending_destruction' });
    expect(bel.node.journal.head.seq).toBe(before);
  });

  it('refuses hostile requests precisely: 10,000 witnesses, control characters, a future date', async () => {
    const base = { recordId, destroyedDate: '2025-01-10', method: 'cutting', witnesses: ['Capt. A. Mbala'] };
    const cases: Array<[Partial<typeof base>, string, string]> = [
      [{ witnesses: Array.from({ length: 10_000 }, (_, i) => `witness ${i}`) }, 'witnesses', 'max_items'],
      [{ witnesses: [] }, 'witnesses', 'required'],
      [{ witnesses: ['Mbala\u001b[2J'] }, 'witnesses[0]', 'control_character'],
      [{ method: 'cut\u202eting' }, 'method', 'control_character'],
      [{ method: 'x'.repeat(201) }, 'method', 'max_length'],
      [{ destroyedDate: '2999-01-01' }, 'destroyed_date', 'not_in_future'],
      [{ destroyedDate: '2025-02-30' }, 'destroyed_date', 'date'],
      [{ destroyedDate: '2024-04-30' }, 'destroyed_date', 'chronological'],
    ];
    const before = bel.node.journal.head.seq;
    for (const [change, field, rule] of cases) {
      const got = await refusal(belRecords.call('recordDestruction', { ...base, ...change }));
      expect({ field: got.field, rule: got.rule }).toEqual({ field, rule });
    }
    expect(bel.node.journal.head.seq).toBe(before);
    expect((await bel.node.records.get(recordId))?.destruction?.state).toBe(DestructionState.DESTRUCTION_STATE_PENDING);
  });

  it('records it: DESTROYED, a DESTROYED event, a signed certificate and an audit entry', async () => {
    const done = await belRecords.call('recordDestruction', {
      recordId,
      destroyedDate: '2025-01-10',
      method: 'cutting',
      witnesses: ['Capt. A. Mbala', 'UN observer J. Okafor'],
    });
    const record = done.record as WeaponRecord;
    expect(record.status).toBe(WeaponStatus.WEAPON_STATUS_DESTROYED);
    expect(record.destruction).toMatchObject({
      state: DestructionState.DESTRUCTION_STATE_DESTROYED,
      designatedDate: '2024-05-01',
      deactivated: true,
      destroyedDate: '2025-01-10',
      method: 'cutting',
      witnesses: ['Capt. A. Mbala', 'UN observer J. Okafor'],
    });
    expect(record.destruction?.certificateId).toMatch(/^dc_[A-Za-z0-9_-]{22}$/);
    expect(record.events.at(-1)).toMatchObject({
      type: WeaponEventType.WEAPON_EVENT_TYPE_DESTROYED,
      date: '2025-01-10',
    });
    certificate = done.certificate as DestructionCertificate;
    const body = DestructionCertificateBody.decode(certificate.body);
    expect(body).toMatchObject({
      version: 1,
      certificateId: record.destruction?.certificateId,
      issuer: 'BEL',
      issuerKeyId: bel.node.identity.keyId,
      uniqueMark: 'COD-DDR-2024-0001',
      programme: 'DDR Phase II — Ituri',
      destroyedDate: '2025-01-10',
    });
    expect(body.marking?.serialNumber).toBe(SERIAL);
    const audit = await auditOf(bel, 'record.destroyed');
    expect(audit).toEqual([expect.objectContaining({ recordId, certificateId: body.certificateId, witnesses: 2 })]);
    // The same certificate, byte for byte, later.
    const again = await belRecords.call('getDestructionCertificate', { recordId });
    expect(Buffer.from(again.certificate?.body ?? [])).toEqual(Buffer.from(certificate.body));
    // Destroyed once only.
    expect(
      (
        await refusal(
          belRecords.call('recordDestruction', {
            recordId,
            destroyedDate: '2025-01-11',
            method: 'smelting',
            witnesses: ['x'],
          }),
        )
      ).code,
    ).toBe(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION);
  });

  it('PutRecord cannot remove or rewrite the recorded destruction or collection, nor make a record DESTROYED', async () => {
    const stored = (await bel.node.records.get(recordId)) as WeaponRecord;
    const attempts: Array<[WeaponRecord, string, string]> = [
      [{ ...stored, destruction: undefined }, 'record.destruction', 'destruction_recorded'],
      [
        {
          ...stored,
          destruction: {
            ...(stored.destruction as NonNullable<WeaponRecord['destruction']>),
            witnesses: ['someone else'],
          },
        },
        'record.destruction',
        'destruction_recorded',
      ],
      [{ ...stored, events: stored.events.slice(0, -1) }, 'record.events', 'destruction_recorded'],
      [{ ...stored, collection: undefined }, 'record.collection', 'collection_recorded'],
      [
        {
          ...stored,
          recordId: '',
          manufacture: { ...(stored.manufacture as NonNullable<WeaponRecord['manufacture']>), serialNumber: 'COPY-1' },
        },
        'record.destruction.state',
        'record_destruction',
      ],
    ];
    const before = bel.node.journal.head.seq;
    for (const [record, field, rule] of attempts) {
      const got = await refusal(belRecords.call('putRecord', { record }));
      expect({ field: got.field, rule: got.rule }).toEqual({ field, rule });
    }
    expect(bel.node.journal.head.seq).toBe(before);
  });

  it('is kept 20 years: DeleteRecord refuses with RETENTION_PERIOD, rule destruction_retention', async () => {
    const got = await refusal(belRecords.call('deleteRecord', { recordId }));
    expect(got).toEqual({
      code: ErrorCode.ERROR_CODE_RETENTION_PERIOD,
      field: 'record_id',
      rule: 'destruction_retention',
    });
  });
});

describe('the certificate travels', () => {
  it('KEN, which pinned BEL, verifies it with BEL’s card key', async () => {
    const verdict = await kenRecords.call('verifyDestructionCertificate', { certificate });
    expect(verdict).toMatchObject({ valid: true, field: '', rule: '' });
    expect(verdict.body?.issuer).toBe('BEL');
  });

  it('refuses a tampered one, a foreign one and a key BEL never had, naming field and rule', async () => {
    const body = DestructionCertificateBody.decode(certificate.body);
    const tampered = DestructionCertificate.fromPartial({
      body: Buffer.from(DestructionCertificateBody.encode({ ...body, destroyedDate: '2025-01-11' }).finish()),
      signature: certificate.signature,
    });
    const flipped = Buffer.from(certificate.signature);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const stranger = sodium().crypto_sign_keypair();
    const foreign = signCertificate({ ...body, issuer: 'NLD' }, stranger.privateKey);
    const wrongKey = signCertificate({ ...body, issuerKeyId: 'k_0000000000000000' }, stranger.privateKey);
    const impostor = signCertificate(body, stranger.privateKey);
    const cases: Array<[DestructionCertificate, string, string]> = [
      [tampered, 'certificate.signature', 'signature'],
      [{ body: certificate.body, signature: flipped }, 'certificate.signature', 'signature'],
      [impostor, 'certificate.signature', 'signature'],
      [foreign, 'certificate.issuer', 'unknown_issuer'],
      [wrongKey, 'certificate.issuer_key_id', 'unknown_key'],
      [{ body: Buffer.from([0x12, 0x7f, 0x41]), signature: certificate.signature }, 'certificate.body', 'protobuf'],
      [{ body: certificate.body, signature: certificate.signature.subarray(0, 63) }, 'certificate.signature', 'length'],
      [{ body: Buffer.alloc(70_000, 1), signature: certificate.signature }, 'certificate.body', 'max_size'],
    ];
    for (const [candidate, field, rule] of cases) {
      const verdict = await kenRecords.call('verifyDestructionCertificate', { certificate: candidate });
      expect({ valid: verdict.valid, field: verdict.field, rule: verdict.rule }).toEqual({ valid: false, field, rule });
    }
  });
});

describe('a weapon recorded destroyed that turns up again', () => {
  it('a lookup hits it as recorded destroyed; BEL is told (event and audit)', async () => {
    const response = await fraLookups.call('lookup', {
      weapon: { manufacturer: 'FN Herstal', model: '', serialNumber: SERIAL, calibre: '', type: 0 },
      purpose: 'seizure at Marseille, case OCLCO-2026-0211',
      peers: ['BEL'],
      deadlineMs: 3000,
      requestingAuthority: 'OCLCO',
    });
    const bySeller = response.results.find((r) => r.peer === 'BEL');
    expect(bySeller?.outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    const body = DestructionCertificateBody.decode(certificate.body);
    expect(bySeller?.hits).toEqual([
      expect.objectContaining({
        owner: 'BEL',
        category: InterestCategory.INTEREST_CATEGORY_UNSPECIFIED,
        recordedDestroyed: true,
        destroyedDate: '2025-01-10',
        certificateId: body.certificateId,
        partial: false,
      }),
    ]);
    const events = await eventsOf(bel, NodeEventType.NODE_EVENT_TYPE_RECIRCULATION_FLAGGED);
    expect(events).toEqual([expect.objectContaining({ peer: 'FRA', summary: expect.stringContaining(recordId) })]);
    expect(await auditOf(bel, 'recirculation.flagged')).toEqual([
      expect.objectContaining({ recordId, seenIn: 'lookup', seenBy: 'FRA', certificateId: body.certificateId }),
    ]);
  });

  it('a trace request for it sets the finding on BEL’s case in the batch that creates it; the answer flags FRA’s', async () => {
    await bel.node.policies.set(
      PeerPolicy.fromPartial({
        participantId: 'FRA',
        allowLookups: true,
        acceptRequests: true,
        autoAcknowledge: true,
        autoAnswer: true,
      }),
    );
    const request = traceRequest(
      {},
      { serialNumber: SERIAL, model: 'FNX-45', type: 1, calibre: '.45 ACP', year: 2011 },
    );
    const mine = await fra.node.workflow.createCase('BEL', request, true);
    let theirs = '';
    await waitFor(async () => {
      const listed = (await bel.node.workflow.list({ limit: 100 })).cases.find((c) => c.traceId === mine.traceId);
      theirs = listed?.caseId ?? '';
      return theirs !== '';
    });
    const requested = await bel.node.workflow.get(theirs);
    expect(requested.role).toBe(CaseRole.CASE_ROLE_REQUESTED);
    const body = DestructionCertificateBody.decode(certificate.body);
    expect(requested.recirculation).toMatchObject({
      destroyedBy: 'BEL',
      destroyedDate: '2025-01-10',
      certificateId: body.certificateId,
      seenIn: 'trace_request',
      seenBy: 'FRA',
      seenDate: '2025-12-02',
      recordId,
    });
    expect(caseText(requested)).toContain(
      `RECIRCULATED AFTER RECORDED DESTRUCTION: destroyed by BEL on 2025-01-10, certificate ${body.certificateId} (our record ${recordId}), seized again on 2025-12-02 (seen in a trace request by FRA)`,
    );
    const flagged = await eventsOf(bel, NodeEventType.NODE_EVENT_TYPE_RECIRCULATION_FLAGGED);
    expect(flagged.at(-1)).toMatchObject({ caseId: theirs, peer: 'FRA' });
    // The created case and its finding are one write: the case.created entry is followed by the flag.
    const audit = await auditOf(bel, 'recirculation.flagged');
    expect(audit.at(-1)).toMatchObject({ caseId: theirs, seenIn: 'trace_request' });

    await waitFor(async () => (await fra.node.workflow.get(mine.caseId)).answer !== undefined, 15_000, 'the answer');
    const requester = await fra.node.workflow.get(mine.caseId);
    expect(requester.recirculation).toMatchObject({
      destroyedBy: 'BEL',
      destroyedDate: '2025-01-10',
      seenIn: 'trace_answer',
      seenBy: 'FRA',
      seenDate: '2025-12-02',
    });
    expect(caseText(requester).join('\n')).toContain(
      'RECIRCULATED AFTER RECORDED DESTRUCTION: destroyed by BEL on 2025-01-10, certificate',
    );
    expect((await eventsOf(fra, NodeEventType.NODE_EVENT_TYPE_RECIRCULATION_FLAGGED)).at(-1)).toMatchObject({
      caseId: mine.caseId,
      peer: 'BEL',
    });
  });

  it('a request for a weapon seized before its destruction is not a recirculation', async () => {
    const request = traceRequest(
      {
        circumstances: {
          kind: 1,
          date: '2024-01-05',
          place: 'Goma',
          agency: 'MONUSCO',
          description: '',
          circumstance: 0,
        },
      },
      { serialNumber: SERIAL, model: 'FNX-45', type: 1, calibre: '.45 ACP', year: 2011 },
    );
    const mine = await fra.node.workflow.createCase('BEL', request, true);
    let theirs = '';
    await waitFor(async () => {
      theirs =
        (await bel.node.workflow.list({ limit: 100 })).cases.find((c) => c.traceId === mine.traceId)?.caseId ?? '';
      return theirs !== '';
    });
    expect((await bel.node.workflow.get(theirs)).recirculation).toBeUndefined();
  });

  it('a SEIZED event after the destruction, put on the record, is flagged (event and audit), not silently accepted', async () => {
    const stored = (await bel.node.records.get(recordId)) as WeaponRecord;
    const before = (await auditOf(bel, 'recirculation.flagged')).length;
    await belRecords.call('putRecord', {
      record: {
        ...stored,
        events: [
          ...stored.events,
          event(WeaponEventType.WEAPON_EVENT_TYPE_SEIZED, '2025-11-30', {
            place: 'Kinshasa',
            agency: 'PNC',
            circumstance: 3,
          }),
        ],
      },
    });
    const audit = await auditOf(bel, 'recirculation.flagged');
    expect(audit.length).toBe(before + 1);
    expect(audit.at(-1)).toMatchObject({
      recordId,
      seenIn: 'record',
      seenDate: '2025-11-30',
      destroyedDate: '2025-01-10',
    });
    expect((await eventsOf(bel, NodeEventType.NODE_EVENT_TYPE_RECIRCULATION_FLAGGED)).at(-1)?.summary).toContain(
      'seized on 2025-11-30',
    );
  });
});

describe('certificates across a key rotation of their issuer', () => {
  it('stay valid: on the issuer with its retired key, on a pinned peer during the grace', async () => {
    const before = DestructionCertificateBody.decode(certificate.body).issuerKeyId;
    const rotation = await bel.node.rotateKeys({ graceMs: 3_600_000 });
    expect(rotation.keyId).not.toBe(before);
    await waitFor(() => ken.node.peers.get('BEL')?.body.keyId === rotation.keyId, 15_000, 'KEN to pin BEL’s new card');
    expect(await belRecords.call('verifyDestructionCertificate', { certificate })).toMatchObject({ valid: true });
    expect(await kenRecords.call('verifyDestructionCertificate', { certificate })).toMatchObject({ valid: true });

    // A destruction recorded after the rotation is signed with the new key.
    const { record } = await bel.node.records.put({
      ...pistol(),
      manufacture: { ...pistol().manufacture!, serialNumber: 'AFTER-ROTATION-1' },
    });
    const done = await belRecords.call('recordDestruction', {
      recordId: record.recordId,
      destroyedDate: '2025-03-01',
      method: 'smelting',
      witnesses: ['B. Ilunga'],
    });
    const fresh = done.certificate as DestructionCertificate;
    expect(DestructionCertificateBody.decode(fresh.body).issuerKeyId).toBe(rotation.keyId);
    expect(await kenRecords.call('verifyDestructionCertificate', { certificate: fresh })).toMatchObject({
      valid: true,
    });
  });
});

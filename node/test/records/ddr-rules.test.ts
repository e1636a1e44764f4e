import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DestructionCertificateBody,
  DestructionState,
  ItemCategory,
  NodeEventType,
  type SeizureCircumstance,
  type WeaponRecord,
  WeaponEventType,
  WeaponStatus,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initSodium, sodium } from '../../src/crypto/sodium.js';
import { csvRowToRecord, parseCsvHeader } from '../../src/records/csv-columns.js';
import { ddrChangeViolations } from '../../src/records/ddr-rules.js';
import { destructionSigner, signCertificate, verifyCertificate } from '../../src/records/destruction.js';
import { importRecords } from '../../src/records/import.js';
import { recordFromJson, recordToJson } from '../../src/records/record-json.js';
import { retentionOf } from '../../src/records/retention.js';
import { recordViolations } from '../../src/records/validation.js';
import { event, NOW, type RecordBed, startRecordBed, weapon } from './support.js';

const PROTOCOL = readFileSync(fileURLToPath(new URL('../../../docs/protocol.md', import.meta.url)), 'utf8');

const pending = (fields: Partial<NonNullable<WeaponRecord['destruction']>> = {}) => ({
  state: DestructionState.DESTRUCTION_STATE_PENDING,
  designatedDate: '2026-01-10',
  deactivated: false,
  destroyedDate: '',
  method: '',
  witnesses: [],
  certificateId: '',
  ...fields,
});
const collection = (fields: Partial<NonNullable<WeaponRecord['collection']>> = {}) => ({
  programme: 'DDR Phase II',
  collectionPoint: 'Bunia camp',
  date: '2025-11-02',
  uniqueMark: 'COD-DDR-2025-0007',
  conflictSetting: true,
  ...fields,
});

/** `field` → `rule` of every violation of the record at NOW. */
const rulesOf = (record: WeaponRecord) =>
  Object.fromEntries(recordViolations(record, { nowMs: NOW }).map((v) => [v.field, v.rule]));

describe('the record rules of docs/protocol.md 19.1', () => {
  it('accepts a collected weapon pending destruction, and ammunition with a quantity', () => {
    expect(rulesOf(weapon({ collection: collection(), destruction: pending({ deactivated: true }) }))).toEqual({});
    expect(rulesOf(weapon({ itemCategory: ItemCategory.ITEM_CATEGORY_AMMUNITION, quantity: 2_500 }))).toEqual({});
  });

  it('refuses hostile and inconsistent values, each by field and rule', () => {
    expect(rulesOf(weapon({ quantity: 12 }))).toEqual({ 'record.quantity': 'not_applicable' });
    expect(rulesOf(weapon({ itemCategory: ItemCategory.ITEM_CATEGORY_AMMUNITION, quantity: 4_294_967_295 }))).toEqual({
      'record.quantity': 'range',
    });
    expect(rulesOf(weapon({ itemCategory: 99 as ItemCategory }))).toEqual({ 'record.item_category': 'enum' });
    expect(
      rulesOf(
        weapon({
          events: [
            event(WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED, '1998-03-02', { circumstance: 3 }),
            event(WeaponEventType.WEAPON_EVENT_TYPE_SEIZED, '2024-02-03', {
              place: 'Goma',
              agency: 'PNC',
              circumstance: 42 as SeizureCircumstance,
            }),
          ],
        }),
      ),
    ).toEqual({ 'record.events[0].circumstance': 'not_applicable', 'record.events[1].circumstance': 'enum' });
    expect(
      rulesOf(weapon({ illicitOrigin: { date: '2099-01-01', authority: 'Court\u0007 of Goma', basis: '' } })),
    ).toEqual({
      'record.illicit_origin.date': 'not_in_future',
      'record.illicit_origin.authority': 'control_character',
      'record.illicit_origin.basis': 'required',
    });
    expect(
      rulesOf(
        weapon({
          collection: collection({
            programme: 'x'.repeat(201),
            collectionPoint: '',
            date: '2025-02-29',
            uniqueMark: '-bad\nmark',
          }),
        }),
      ),
    ).toEqual({
      'record.collection.programme': 'max_length',
      'record.collection.collection_point': 'required',
      'record.collection.date': 'date',
      'record.collection.unique_mark': 'unique_mark',
    });
    expect(rulesOf(weapon({ destruction: pending({ state: 0 }) }))).toEqual({ 'record.destruction.state': 'required' });
    expect(rulesOf(weapon({ destruction: pending({ designatedDate: '' }) }))).toEqual({
      'record.destruction.designated_date': 'required',
    });
    expect(
      rulesOf(weapon({ status: WeaponStatus.WEAPON_STATUS_DESTROYED, destruction: pending({ method: 'cutting' }) })),
    ).toEqual({ 'record.destruction.method': 'not_applicable', 'record.status': 'status_consistent' });
    const destroyed = {
      ...pending(),
      state: DestructionState.DESTRUCTION_STATE_DESTROYED,
      destroyedDate: '2026-01-09',
      method: 'cutting',
      witnesses: Array.from({ length: 10_000 }, () => 'w'),
      certificateId: 'dc_short',
    };
    expect(rulesOf(weapon({ destruction: destroyed }))).toEqual({
      'record.destruction.destroyed_date': 'chronological',
      'record.destruction.witnesses': 'max_items',
      'record.destruction.certificate_id': 'certificate_id',
      'record.status': 'status_consistent',
    });
  });

  it('keeps a recorded destruction and collection: only RecordDestruction makes a record DESTROYED', () => {
    const destroyed: WeaponRecord = weapon({
      status: WeaponStatus.WEAPON_STATUS_DESTROYED,
      collection: collection(),
      destruction: {
        ...pending(),
        state: DestructionState.DESTRUCTION_STATE_DESTROYED,
        destroyedDate: '2026-02-01',
        method: 'cutting',
        witnesses: ['A'],
        certificateId: `dc_${'A'.repeat(22)}`,
      },
      events: [event(WeaponEventType.WEAPON_EVENT_TYPE_DESTROYED, '2026-02-01')],
    });
    const rules = (previous: WeaponRecord | undefined, input: WeaponRecord) =>
      ddrChangeViolations(previous, input).map((v) => `${v.field}/${v.rule}`);
    expect(rules(destroyed, destroyed)).toEqual([]);
    expect(rules(undefined, destroyed)).toEqual(['record.destruction.state/record_destruction']);
    expect(rules(weapon({ destruction: pending() }), { ...destroyed, collection: undefined })).toEqual([
      'record.destruction.state/record_destruction',
    ]);
    expect(rules(destroyed, { ...destroyed, events: [] })).toEqual(['record.events/destruction_recorded']);
    expect(rules(destroyed, { ...destroyed, collection: collection({ uniqueMark: 'OTHER' }) })).toEqual([
      'record.collection/collection_recorded',
    ]);
    // A pending designation may be withdrawn.
    expect(rules(weapon({ destruction: pending() }), weapon())).toEqual([]);
  });

  it('keeps DDR and destruction records 20 years, naming the rule', () => {
    const collected = retentionOf(
      weapon({
        events: [],
        manufacture: undefined,
        recordedAtMs: Date.UTC(2025, 9, 1),
        collection: collection({ date: '2025-11-02' }),
      }),
    );
    expect(collected).toMatchObject({ untilMs: Date.UTC(2045, 10, 2), rule: 'ddr_record' });
    const designated = retentionOf(weapon({ destruction: pending({ designatedDate: '2026-01-10' }) }));
    expect(designated).toMatchObject({ untilMs: Date.UTC(2046, 0, 10), rule: 'destruction_record' });
  });
});

describe('import columns of the new fields', () => {
  let bed: RecordBed;
  beforeAll(async () => {
    bed = await startRecordBed();
  });
  afterAll(async () => {
    await bed.cleanup();
  });

  it('reads every new CSV column, and names a bad cell by its column', async () => {
    const header =
      'manufacturer,serial_number,type,item_category,quantity,illicit_origin_date,illicit_origin_authority,illicit_origin_basis,collection_programme,collection_point,collection_date,collection_unique_mark,collection_conflict_setting,destruction_state,destruction_designated_date,destruction_deactivated,event1_type,event1_date,event1_destination,event1_undertaking_condition,event1_undertaking_certificate_reference,event1_undertaking_date,event1_undertaking_authorisations,event2_type,event2_date,event2_place,event2_agency,event2_circumstance';
    const row =
      'FN Herstal,FN-77,rifle,firearm,,2026-01-05,Tribunal de Goma,judgment 2026/14,DDR Phase II,Bunia camp,2025-11-02,COD-DDR-2025-0007,yes,pending,2026-01-10,yes,exported,2019-05-10,UGA,prohibited,EUC-2019/88,2019-04-01,KEN 2021-06-01 CONS-2021/3; TZA 2022-01-02 C-4,seized,2025-11-02,Bunia,MONUSCO,ddr';
    const summary = await importRecords(
      (async function* () {
        yield Buffer.from(
          `${header}\n${row}\n${row.replace('yes,pending', 'maybe,pending').replace('FN-77', 'FN-78')}\n`,
        );
      })(),
      { format: 'csv', records: bed.records, nowMs: NOW },
    );
    expect(summary.errors).toEqual([expect.objectContaining({ line: 3, field: 'collection_conflict_setting' })]);
    expect(summary.rowsImported).toBe(1);
    const [stored] = await bed.registry.search({
      manufacturer: 'FN Herstal',
      serialNumber: 'FN-77',
      model: '',
      calibre: '',
      type: 0,
    });
    expect(stored).toMatchObject({
      itemCategory: ItemCategory.ITEM_CATEGORY_FIREARM,
      illicitOrigin: { date: '2026-01-05', authority: 'Tribunal de Goma', basis: 'judgment 2026/14' },
      collection: collection(),
      destruction: pending({ deactivated: true }),
    });
    expect(stored?.events[0]?.undertaking).toEqual({
      condition: 1,
      certificateReference: 'EUC-2019/88',
      endUser: '',
      date: '2019-04-01',
      authorisations: [
        { destination: 'KEN', date: '2021-06-01', reference: 'CONS-2021/3' },
        { destination: 'TZA', date: '2022-01-02', reference: 'C-4' },
      ],
    });
    expect(stored?.events[1]?.circumstance).toBe(5);
    // JSON round trip keeps every new field.
    const again = recordFromJson(recordToJson(stored as WeaponRecord));
    expect(again.violations).toEqual([]);
    expect(again.record).toEqual(stored);
  });

  it('maps a rule of a new field back to its CSV column', () => {
    const layout = parseCsvHeader([
      'manufacturer',
      'serial_number',
      'type',
      'destruction_state',
      'destruction_designated_date',
      'event1_type',
      'event1_date',
      'event1_undertaking_date',
    ]);
    const row = csvRowToRecord(layout, [
      'FN',
      'S-1',
      'rifle',
      'destroyed',
      '2026-01-01',
      'exported',
      '2020-01-01',
      '2020-13-01',
    ]);
    expect(row.columnOf('record.destruction.designated_date')).toBe('destruction_designated_date');
    expect(row.columnOf('record.destruction.witnesses[3]')).toBe('destruction_witnesses');
    expect(row.columnOf('record.events[0].undertaking.authorisations[1].date')).toBe(
      'event1_undertaking_authorisations',
    );
    expect(row.columnOf('record.events[0].circumstance')).toBe('event1_circumstance');
  });

  it('refuses a row that would make a record DESTROYED without RecordDestruction', async () => {
    const summary = await importRecords(
      (async function* () {
        yield Buffer.from(
          'manufacturer,serial_number,type,status,destruction_state,destruction_designated_date,destruction_destroyed_date,destruction_method,destruction_witnesses,destruction_certificate_id,event1_type,event1_date\n' +
            `FN Herstal,FN-79,rifle,destroyed,destroyed,2026-01-01,2026-01-02,cutting,A; B,dc_${'A'.repeat(22)},destroyed,2026-01-02\n`,
        );
      })(),
      { format: 'csv', records: bed.records, nowMs: NOW },
    );
    expect(summary.rowsImported).toBe(0);
    expect(summary.errors).toEqual([expect.objectContaining({ line: 2, field: 'destruction_state' })]);
  });
});

describe('a destroyed record imported again with a later seizure (protocol 19.5)', () => {
  let bed: RecordBed;
  beforeAll(async () => {
    bed = await startRecordBed();
  });
  afterAll(async () => {
    await bed.cleanup();
  });

  it('is imported and flagged in the batch that writes it: audit entry and node event', async () => {
    const { record } = await bed.records.put(weapon({ destruction: pending({ designatedDate: '2026-01-02' }) }));
    const sign = destructionSigner(bed.test.node.identity);
    const done = await bed.records.recordDestruction(
      record.recordId,
      { destroyedDate: '2026-01-05', method: 'crushing', witnesses: ['A'] },
      sign,
    );
    const seized = event(WeaponEventType.WEAPON_EVENT_TYPE_SEIZED, '2026-03-01', { place: 'Goma', agency: 'PNC' });
    const line = JSON.stringify(recordToJson({ ...done.record, events: [...done.record.events, seized] }));
    const seq = bed.test.node.journal.head.seq;
    const summary = await importRecords(
      (async function* () {
        yield Buffer.from(`${line}\n`);
      })(),
      { format: 'jsonl', records: bed.records, nowMs: NOW },
    );
    expect(summary).toMatchObject({ rowsImported: 1, rowsRejected: 0 });
    const audit: Array<Record<string, unknown>> = [];
    for await (const [, value] of bed.test.node.store.audit.entries.entries()) {
      const entry = JSON.parse(String(value.line)) as Record<string, unknown>;
      if (Number(entry.seq) > seq) audit.push(entry);
    }
    expect(audit.map((a) => a.type)).toEqual(['records.imported', 'recirculation.flagged']);
    expect(audit[1]).toMatchObject({ recordId: record.recordId, seenIn: 'record', seenDate: '2026-03-01' });
    const events = [];
    for await (const [, e] of bed.test.node.store.audit.events.entries())
      if (e.type === NodeEventType.NODE_EVENT_TYPE_RECIRCULATION_FLAGGED) events.push(e);
    expect(events.map((e) => e.summary)).toEqual([
      `record ${record.recordId}, destroyed on 2026-01-05, was recorded seized on 2026-03-01`,
    ]);
  });
});

describe('the certificate test vector of docs/protocol.md 19.3', () => {
  it('signs to the bytes the section gives, and verifies with its public key', async () => {
    await initSodium();
    const keys = sodium().crypto_sign_seed_keypair(Buffer.alloc(32, 0x42));
    const body = DestructionCertificateBody.fromPartial({
      version: 1,
      certificateId: 'dc_AAAAAAAAAAAAAAAAAAAAAA',
      issuer: 'BEL',
      issuerKeyId: 'k_test',
      marking: {
        manufacturer: 'FN Herstal',
        countryOfManufacture: 'BEL',
        serialNumber: 'FX-0412-2231',
        model: 'FNX-45',
        type: 3,
        calibre: '.45 ACP',
        year: 2011,
      },
      uniqueMark: 'COD-DDR-2024-0001',
      programme: 'DDR Phase II',
      itemCategory: 1,
      destroyedDate: '2025-01-10',
      method: 'cutting',
      witnesses: ['A. Mbala', 'J. Okafor'],
      issuedAtMs: 1736500000000,
    });
    const certificate = signCertificate(body, keys.privateKey);
    const section = PROTOCOL.slice(PROTOCOL.indexOf('**Test vector.**'), PROTOCOL.indexOf('### 19.4'));
    const hexBlocks = [...section.matchAll(/\n\n((?: {4}[0-9a-f]+\n)+)/g)].map((m) => (m[1] ?? '').replace(/\s/g, ''));
    expect(hexBlocks).toEqual([
      Buffer.from(certificate.body).toString('hex'),
      Buffer.from(certificate.signature).toString('hex'),
    ]);
    expect(section).toContain(Buffer.from(keys.publicKey).toString('hex'));
    const keysOf = { selfId: 'FRA', ownKey: () => undefined, peerKey: () => keys.publicKey };
    expect(verifyCertificate(certificate, keysOf)).toMatchObject({ valid: true });
    expect(verifyCertificate(certificate, { ...keysOf, peerKey: () => 'revoked_key' as const })).toMatchObject({
      valid: false,
      field: 'certificate.issuer_key_id',
      rule: 'revoked_key',
    });
  });
});

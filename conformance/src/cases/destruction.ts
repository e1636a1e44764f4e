import {
  DestructionCertificate,
  DestructionCertificateBody,
  DestructionState,
  InterestCategory,
  WeaponRecord,
} from '@tracenet/proto';
import type { CaseContext, ConformanceCase } from '../case.js';
import { domainLabel, ed25519Verify } from '../codec/index.js';
import { CaseFailure, ensureEqual } from '../check.js';
import { newMessageId } from '../fake-peer.js';
import { getCase, receivedTrace, traceRequest, weaponRecord } from '../fixtures.js';
import { ask, openAnswer, query } from './lookups.js';

/** A unique serial for one case. */
function serial(): string {
  return `DC-${newMessageId()
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 10)
    .toUpperCase()}`;
}

/**
 * Seeds a record designated for destruction (`PutRecord`, 19.1) and destroys it
 * (`RecordDestruction`, 19.2); returns the stored record and its certificate.
 */
async function destroyedRecord(
  ctx: CaseContext,
  serialNumber: string,
): Promise<{ record: WeaponRecord; certificate: DestructionCertificate }> {
  const { record } = await ctx.target.records.call('putRecord', {
    record: WeaponRecord.fromPartial(
      weaponRecord(serialNumber, {
        destruction: {
          state: DestructionState.DESTRUCTION_STATE_PENDING,
          designatedDate: '2021-01-04',
          deactivated: true,
          destroyedDate: '',
          method: '',
          witnesses: [],
          certificateId: '',
        },
      }),
    ),
  });
  if (!record) throw new CaseFailure('PutRecord to return the record', 'nothing');
  const done = await ctx.target.records.call('recordDestruction', {
    recordId: record.recordId,
    destroyedDate: '2021-02-01',
    method: 'cutting',
    witnesses: ['Conformance witness A', 'Conformance witness B'],
  });
  if (!done.record || !done.certificate)
    throw new CaseFailure('RecordDestruction to return the record and its certificate', 'nothing', 'protocol 19.2');
  return { record: done.record, certificate: done.certificate };
}

/** The cases of docs/protocol.md section 19 (feature `destruction`). */
export const DESTRUCTION_CASES: readonly ConformanceCase[] = [
  {
    id: 'destruction.lookup-hit',
    section: '19.4',
    cites: ['13.6', '19.2'],
    feature: 'destruction',
    title:
      'a lookup from a peer matching a weapon the node recorded as destroyed is a hit marked recorded_destroyed, with the date and certificate id',
    async run(ctx) {
      const s = serial();
      const { record } = await destroyedRecord(ctx, s);
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const { sealed, queryId, outcome } = await ask(ctx, peer, query(s));
      const { answer } = openAnswer(ctx, peer, outcome, sealed.header.messageId, queryId);
      ensureEqual(answer.hits.length, 1, 'number of hits');
      const hit = answer.hits[0];
      ensureEqual(hit?.recordedDestroyed, true, 'recorded_destroyed');
      ensureEqual(hit?.destroyedDate, '2021-02-01', 'destroyed_date');
      ensureEqual(hit?.certificateId, record.destruction?.certificateId, 'certificate_id');
      ensureEqual(hit?.category, InterestCategory.INTEREST_CATEGORY_UNSPECIFIED, 'category (not of interest)');
      ensureEqual(hit?.owner, ctx.target.participantId, 'owner');
      ensureEqual(answer.padding.length > 0, true, 'the answer is padded (13.6)');
    },
  },
  {
    id: 'destruction.certificate',
    section: '19.3',
    cites: ['19.2'],
    feature: 'destruction',
    title:
      'a destruction certificate verifies with the node\'s card key over D("tracenet.v1/destruction-certificate") || body; a tampered one is refused',
    async run(ctx) {
      const s = serial();
      const { record, certificate } = await destroyedRecord(ctx, s);
      const body = DestructionCertificateBody.decode(certificate.body);
      ensureEqual(body.version, 1, 'version');
      ensureEqual(body.issuer, ctx.target.participantId, 'issuer');
      ensureEqual(body.issuerKeyId, ctx.target.cardBody.keyId, 'issuer_key_id');
      ensureEqual(body.certificateId, record.destruction?.certificateId, 'certificate_id');
      ensureEqual(body.marking?.serialNumber, s, 'marking.serial_number');
      ensureEqual(body.destroyedDate, '2021-02-01', 'destroyed_date');
      const signed = Buffer.concat([domainLabel('tracenet.v1/destruction-certificate'), certificate.body]);
      if (!ed25519Verify(certificate.signature, signed, ctx.target.cardBody.signingPublicKey))
        throw new CaseFailure(
          "a signature that verifies with the card's signing key",
          'a signature that does not',
          'protocol 19.3',
        );
      const got = await ctx.target.records.call('getDestructionCertificate', { recordId: record.recordId });
      ensureEqual(
        Buffer.from(got.certificate?.body ?? []).equals(Buffer.from(certificate.body)),
        true,
        'GetDestructionCertificate gives the same body',
      );
      const own = await ctx.target.records.call('verifyDestructionCertificate', { certificate });
      ensureEqual(
        { valid: own.valid, field: own.field, rule: own.rule },
        { valid: true, field: '', rule: '' },
        'verdict',
      );
      const tampered = DestructionCertificate.fromPartial({
        body: Buffer.from(DestructionCertificateBody.encode({ ...body, destroyedDate: '2021-02-02' }).finish()),
        signature: certificate.signature,
      });
      const verdict = await ctx.target.records.call('verifyDestructionCertificate', { certificate: tampered });
      ensureEqual(
        { valid: verdict.valid, field: verdict.field, rule: verdict.rule },
        { valid: false, field: 'certificate.signature', rule: 'signature' },
        'verdict on a tampered certificate',
      );
    },
  },
  {
    id: 'destruction.recirculated-request',
    section: '19.5',
    cites: ['12.4'],
    feature: 'destruction',
    title:
      'a trace request for a weapon the node recorded as destroyed, seized after the destruction, opens a case carrying the recirculation finding',
    async run(ctx) {
      const s = serial();
      const { record } = await destroyedRecord(ctx, s);
      const request = traceRequest({
        weapon: {
          markings: {
            manufacturer: 'Conformance Arms',
            countryOfManufacture: 'XAA',
            serialNumber: s,
            model: 'C-9',
            type: 1,
            calibre: '9x19mm',
            year: 2015,
          },
          imports: [],
          governmentTransfer: undefined,
          controlComponent: undefined,
          components: [],
          manufactureMethod: 0,
          photos: [],
          otherInformation: '',
          serialObliterated: false,
        },
      });
      const trace = await receivedTrace(ctx, {}, request);
      const c = await getCase(ctx, trace.caseId);
      const f = c.recirculation;
      if (!f) throw new CaseFailure('Case.recirculation set on the case the request opened', 'none', 'protocol 19.5');
      ensureEqual(
        {
          destroyedBy: f.destroyedBy,
          destroyedDate: f.destroyedDate,
          certificateId: f.certificateId,
          seenIn: f.seenIn,
          seenBy: f.seenBy,
          seenDate: f.seenDate,
          recordId: f.recordId,
        },
        {
          destroyedBy: ctx.target.participantId,
          destroyedDate: '2021-02-01',
          certificateId: record.destruction?.certificateId ?? '',
          seenIn: 'trace_request',
          seenBy: trace.peer.participantId,
          seenDate: request.circumstances?.date ?? '',
          recordId: record.recordId,
        },
        'recirculation',
      );
    },
  },
];

import {
  type Case,
  ErrorCode,
  Likelihood,
  ListCasesRequest,
  RecordKind,
  type RecordsProfile,
  type RequestCheck,
  TraceRequest,
} from '@tracenet/proto';
import type { CaseContext, ConformanceCase } from '../case.js';
import { CaseFailure, ensureEach, ensureEqual, ensureOk, ensureRefused } from '../check.js';
import type { FakePeer } from '../fake-peer.js';
import { traceRequest } from '../fixtures.js';

const E = ErrorCode;
const K = RecordKind;
const L = Likelihood;

/** The missing items of 17.1's example: no serial of the frame, no photo, not flagged obliterated. */
const MISSING_SERIAL_AND_PHOTOS = [
  { item: 'control_serial', field: 'request.weapon.markings.serial_number', weight: 25 },
  { item: 'photos', field: 'request.weapon.photos', weight: 15 },
  { item: 'serial_obliterated', field: 'request.weapon.serial_obliterated', weight: 5 },
];

/**
 * The request of 17.1's example, made in `maker` in 1960 and imported into `importer` in a year not
 * marked: manufacturer, model, calibre, country and an import mark, but no serial of the frame (only
 * the slide's) and no photo.
 */
function withoutSerialOrPhotos(maker: string, importer: string): TraceRequest {
  const { traceId: _ignored, ...content } = traceRequest();
  const request = TraceRequest.fromPartial(content);
  const weapon = request.weapon as NonNullable<TraceRequest['weapon']>;
  Object.assign(weapon.markings as object, { serialNumber: '', countryOfManufacture: maker, year: 1960 });
  weapon.imports = [{ country: importer, year: 0 }];
  weapon.components = [{ kind: 5, serialNumber: 'SL-7781', marking: 'slide' }];
  return request;
}

/** A fake peer pinned with a card that declares `profile` (protocol 2.3 field 14). */
async function peerWithProfile(ctx: CaseContext, profile: RecordsProfile): Promise<FakePeer> {
  const peer = await ctx.peer({ pin: false });
  ensureOk(
    await ctx.call(
      ctx.target.authority.call('addPeer', {
        card: peer.makeCard(peer.keys, { recordsProfile: profile }),
        replaceKeys: false,
      }),
    ),
    'AddPeer of a card with a valid records profile (protocol 2.3 step 9, 17.2)',
  );
  return peer;
}

async function check(ctx: CaseContext, recipient: string, request: TraceRequest): Promise<RequestCheck> {
  const { check: result } = ensureOk(
    await ctx.call(ctx.target.cases.call('checkRequest', { recipient, request })),
    'Cases.CheckRequest (protocol 17.3)',
  );
  if (!result) throw new CaseFailure('CheckRequest to return the check', 'no check');
  return result;
}

/** The entries of ask_first as [participant, kind, likelihood, reason codes]. */
function entries(c: RequestCheck): Array<[string, RecordKind, Likelihood, string[]]> {
  return (c.traceability?.askFirst ?? []).map((a) => [
    a.participant,
    a.recordKind,
    a.likelihood,
    a.reasons.map((r) => r.code),
  ]);
}

export const QUALITY_CASES: readonly ConformanceCase[] = [
  {
    id: 'quality.profile-refused',
    section: '2.3',
    cites: ['17.2'],
    feature: 'quality',
    title:
      'a card whose records profile names an unknown kind, a kind twice, or an earliest year outside 1800 to its year of issue is INVALID_PEER_CARD naming the entry and rule',
    async run(ctx) {
      const peer = await ctx.peer({ pin: false });
      const issued = Date.now();
      const year = new Date(issued).getUTCFullYear();
      const refused: Array<[string, RecordsProfile, string, string]> = [
        [
          'RECORD_KIND_UNSPECIFIED',
          { coverage: [{ kind: K.RECORD_KIND_UNSPECIFIED, earliestYear: 1990 }] },
          'card.records_profile.coverage[0].kind',
          'record_kind',
        ],
        [
          'kind 9',
          {
            coverage: [
              { kind: K.RECORD_KIND_IMPORT, earliestYear: 1990 },
              { kind: 9 as RecordKind, earliestYear: 1990 },
            ],
          },
          'card.records_profile.coverage[1].kind',
          'record_kind',
        ],
        [
          'export twice',
          {
            coverage: [
              { kind: K.RECORD_KIND_EXPORT, earliestYear: 1990 },
              { kind: K.RECORD_KIND_MANUFACTURE, earliestYear: 1950 },
              { kind: K.RECORD_KIND_EXPORT, earliestYear: 1995 },
            ],
          },
          'card.records_profile.coverage[2].kind',
          'duplicate_kind',
        ],
        [
          'the year after the year of issue',
          { coverage: [{ kind: K.RECORD_KIND_IMPORT, earliestYear: year + 1 }] },
          'card.records_profile.coverage[0].earliest_year',
          'earliest_year',
        ],
        [
          '1799',
          { coverage: [{ kind: K.RECORD_KIND_TRANSFER, earliestYear: 1799 }] },
          'card.records_profile.coverage[0].earliest_year',
          'earliest_year',
        ],
        [
          '0',
          { coverage: [{ kind: K.RECORD_KIND_MANUFACTURE, earliestYear: 0 }] },
          'card.records_profile.coverage[0].earliest_year',
          'earliest_year',
        ],
      ];
      await ensureEach(
        'each card refused at pinning (protocol 2.3 step 9)',
        refused,
        ([what]) => what,
        async ([, profile, field, rule]) => {
          const outcome = await ctx.call(
            ctx.target.authority.call('addPeer', {
              card: peer.makeCard(peer.keys, { recordsProfile: profile, issuedAtMs: issued }),
              replaceKeys: false,
            }),
          );
          ensureRefused(outcome, { code: E.ERROR_CODE_INVALID_PEER_CARD, field, rule });
        },
      );
      // The bounds are inclusive: 1800 and the year of issue are accepted.
      ensureOk(
        await ctx.call(
          ctx.target.authority.call('addPeer', {
            card: peer.makeCard(peer.keys, {
              issuedAtMs: issued,
              recordsProfile: {
                coverage: [
                  { kind: K.RECORD_KIND_MANUFACTURE, earliestYear: 1800 },
                  { kind: K.RECORD_KIND_TRANSFER, earliestYear: year },
                ],
              },
            }),
            replaceKeys: false,
          }),
        ),
        'AddPeer of a card whose profile names 1800 and the year of issue',
      );
    },
  },
  {
    id: 'quality.completeness',
    section: '17.1',
    cites: ['17.3'],
    feature: 'quality',
    title:
      'CheckRequest scores a request missing its frame serial and photos 55 with control_serial, photos and serial_obliterated missing; flagged obliterated 60; complete 100',
    async run(ctx) {
      const peer = await ctx.peer();
      const importer = ctx.host.freshId();
      const request = withoutSerialOrPhotos(peer.participantId, importer);
      const first = await check(ctx, peer.participantId, request);
      ensureEqual(first.recipient, peer.participantId, 'RequestCheck.recipient');
      ensureEqual(
        first.completeness,
        { score: 55, missing: MISSING_SERIAL_AND_PHOTOS },
        'completeness of a request without its frame serial and photos (protocol 17.1)',
      );
      const weapon = request.weapon as NonNullable<TraceRequest['weapon']>;
      Object.assign(weapon.markings as object, { serialNumber: '*** ???' });
      weapon.serialObliterated = true;
      ensureEqual(
        (await check(ctx, peer.participantId, request)).completeness,
        { score: 60, missing: MISSING_SERIAL_AND_PHOTOS.slice(0, 2) },
        'a serial of wildcards only, flagged obliterated (protocol 17.1)',
      );
      Object.assign(weapon.markings as object, { serialNumber: 'CF-12??-5678' });
      weapon.serialObliterated = false;
      weapon.photos = [{ mediaType: 'image/jpeg', content: Buffer.from([0xff, 0xd8]), caption: '' }];
      ensureEqual(
        (await check(ctx, peer.participantId, request)).completeness,
        { score: 95, missing: MISSING_SERIAL_AND_PHOTOS.slice(2) },
        'a partly legible serial not flagged obliterated (protocol 17.1)',
      );
      weapon.serialObliterated = true;
      ensureEqual(
        (await check(ctx, peer.participantId, request)).completeness,
        { score: 100, missing: [] },
        'every item present (protocol 17.1)',
      );
    },
  },
  {
    id: 'quality.traceability',
    section: '17.2',
    cites: ['2.3', '2.4'],
    feature: 'quality',
    title:
      "the estimate uses the records profile of the recipient's pinned card, bounds an unmarked import year by the year of manufacture, orders and words its reasons by code",
    async run(ctx) {
      const maker = await peerWithProfile(ctx, { coverage: [{ kind: K.RECORD_KIND_MANUFACTURE, earliestYear: 1950 }] });
      const importer = ctx.host.freshId();
      const c = await check(ctx, maker.participantId, withoutSerialOrPhotos(maker.participantId, importer));
      ensureEqual(
        entries(c),
        [
          [
            maker.participantId,
            K.RECORD_KIND_MANUFACTURE,
            L.LIKELIHOOD_LIKELY,
            ['country_of_manufacture', 'profile_covers'],
          ],
          [
            importer,
            K.RECORD_KIND_IMPORT,
            L.LIKELIHOOD_POSSIBLE,
            ['last_import_mark', 'year_from_manufacture', 'beyond_retention'],
          ],
        ],
        'ask_first (protocol 17.2)',
      );
      ensureEqual(c.traceability?.likelihood, L.LIKELIHOOD_LIKELY, 'Traceability.likelihood, the first entry’s');
      ensureEqual(c.traceability?.reasons ?? [], [], 'request reasons: the recipient is first and declares a profile');
      const covers = c.traceability?.askFirst[0]?.reasons[1];
      ensureEqual(
        [covers?.values, covers?.text],
        [
          { participant: maker.participantId, kind: 'manufacture', earliest_year: '1950', year: '1960' },
          `${maker.participantId} declares manufacturing records from 1950; 1960 is covered.`,
        ],
        'the values and English text of profile_covers (protocol 17.2)',
      );
      const bound = c.traceability?.askFirst[1]?.reasons[1];
      ensureEqual(
        [bound?.values, bound?.text],
        [
          { kind: 'import', year: '1960' },
          'The year of the import is not marked; it is no earlier than the year of manufacture, 1960.',
        ],
        'the values and English text of year_from_manufacture (protocol 17.2)',
      );
      // Addressed to a pinned peer without a profile that the markings do not name.
      const other = await ctx.peer();
      const elsewhere = await check(ctx, other.participantId, withoutSerialOrPhotos(maker.participantId, importer));
      ensureEqual(
        (elsewhere.traceability?.reasons ?? []).map((r) => [r.code, r.values]),
        [
          ['recipient_not_on_line', { participant: other.participantId }],
          ['no_profile', { participant: other.participantId }],
        ],
        'request reasons for a recipient the markings do not name (protocol 17.2)',
      );
    },
  },
  {
    id: 'quality.check-request',
    section: '17.3',
    feature: 'quality',
    title:
      'CheckRequest refuses an unpinned or empty recipient and a missing request, and stores nothing; CreateCase records the check on the case',
    async run(ctx) {
      const peer = await ctx.peer();
      const request = withoutSerialOrPhotos(peer.participantId, ctx.host.freshId());
      const listed = async () =>
        (await ctx.target.cases.call('listCases', ListCasesRequest.fromPartial({ limit: 500 }))).cases.length;
      const before = await listed();
      ensureRefused(await ctx.call(ctx.target.cases.call('checkRequest', { recipient: ctx.host.freshId(), request })), {
        code: E.ERROR_CODE_NOT_FOUND,
        field: 'recipient',
        rule: 'pinned_peer',
      });
      ensureRefused(await ctx.call(ctx.target.cases.call('checkRequest', { recipient: '', request })), {
        code: E.ERROR_CODE_MISSING_FIELD,
        field: 'recipient',
        rule: 'required',
      });
      ensureRefused(
        await ctx.call(ctx.target.cases.call('checkRequest', { recipient: peer.participantId, request: undefined })),
        { code: E.ERROR_CODE_REQUEST_INCOMPLETE, field: 'request', rule: 'required' },
      );
      const checked = await check(ctx, peer.participantId, request);
      ensureEqual(await listed(), before, 'cases listed after CheckRequest (it stores nothing)');
      // A frame serial wholly obliterated, flagged: the request passes 12.2 and is kept as a draft.
      const weapon = request.weapon as NonNullable<TraceRequest['weapon']>;
      Object.assign(weapon.markings as object, { serialNumber: '*********' });
      weapon.serialObliterated = true;
      const created = ensureOk(
        await ctx.call(ctx.target.cases.call('createCase', { recipient: peer.participantId, request, send: false })),
        'CreateCase of a draft',
      ).case as Case | undefined;
      const recorded = created?.check;
      if (!recorded) throw new CaseFailure('Case.check on the created case (protocol 17.3)', 'no check');
      ensureEqual(
        recorded.completeness,
        { score: 60, missing: MISSING_SERIAL_AND_PHOTOS.slice(0, 2) },
        'Case.check.completeness',
      );
      ensureEqual(
        { ...recorded, checkedAtMs: 0, completeness: undefined },
        { ...checked, checkedAtMs: 0, completeness: undefined },
        'Case.check.traceability and recipient, as CheckRequest gave them',
      );
      await ctx.target.cases.call('withdrawCase', { caseId: created?.caseId ?? '', reason: 'conformance' });
    },
  },
];

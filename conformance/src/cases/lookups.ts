import {
  Envelope,
  ErrorCode,
  InterestCategory,
  LookupAnswer,
  LookupOutcome,
  LookupQuery,
  LookupRequest,
  MessageKind,
  WeaponRecord,
} from '@tracenet/proto';
import type { CaseContext, ConformanceCase } from '../case.js';
import { open, parse, randomBytes } from '../codec/index.js';
import {
  CaseFailure,
  describe,
  ensureEach,
  ensureEqual,
  ensureOneRefusal,
  ensureRefused,
  NOT_AUTHENTICATED,
  type Outcome,
} from '../check.js';
import { type FakePeer, newMessageId } from '../fake-peer.js';
import { announceRotation, unauthenticatedEnvelopes, weaponRecord } from '../fixtures.js';

const E = ErrorCode;
const K = MessageKind;

/** A unique serial for one case, so that records of other cases never match. */
function serial(): string {
  return `LK-${newMessageId()
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 10)
    .toUpperCase()}`;
}

/** Seeds a record on the node (`Records.PutRecord`) and reports it of interest (`ReportRecord`); returns the record as stored. */
async function recordOfInterest(
  ctx: CaseContext,
  serialNumber: string,
  category = InterestCategory.INTEREST_CATEGORY_STOLEN,
): Promise<WeaponRecord> {
  const { record } = await ctx.target.records.call('putRecord', {
    record: WeaponRecord.fromPartial(weaponRecord(serialNumber)),
  });
  if (!record) throw new CaseFailure('PutRecord to return the record', 'nothing');
  const reported = await ctx.target.records.call('reportRecord', {
    recordId: record.recordId,
    report: {
      category,
      date: '2020-06-01',
      agency: 'REPORTING-AGENCY-X',
      reference: 'AGENCY-REF-55',
      contactPoint: 'desk@conformance.example',
    },
  });
  if (!reported.record) throw new CaseFailure('ReportRecord to return the record', 'nothing');
  return reported.record;
}

/** The most wildcards a serial pattern may hold (protocol 13.4, rule `max_wildcards`). */
const MAX_WILDCARDS = 10;

/**
 * The longest a node may take to answer one lookup with a pattern at the wildcard limit against a
 * few 40-character serials (protocol 13.4: time proportional to pattern times serial). A linear
 * matcher answers in milliseconds; a backtracking regular expression takes about a second per
 * serial of {@link adversarialSerials}. Generous for a loaded machine.
 */
const PROMPT_ANSWER_MS = 2000;

/** Eight serials of 40 characters, of one repeated digit but for the last (1–8): what a backtracking matcher likes least. */
function adversarialSerials(): string[] {
  return Array.from({ length: 8 }, (_, i) => `FX${'0'.repeat(37)}${i + 1}`);
}

/** A query body for `serialNumber` of the fixture's manufacturer. */
export function query(serialNumber: string, changes: Partial<LookupQuery> = {}): Buffer {
  return Buffer.from(
    LookupQuery.encode(
      LookupQuery.fromPartial({
        queryId: newMessageId(),
        weapon: { manufacturer: 'Conformance Arms', serialNumber, model: '', calibre: '', type: 0 },
        purpose: 'border seizure check',
        requestingAuthority: 'Customs',
        ...changes,
      }),
    ).finish(),
  );
}

/**
 * Opens and verifies an answer envelope of `Federation.Lookup` the way a requester must (protocol
 * 13.6): addressed to the peer, from the node, kind LOOKUP_ANSWER, correlated to the query, signed.
 */
export function openAnswer(
  ctx: CaseContext,
  peer: FakePeer,
  outcome: Outcome<Buffer>,
  queryMessageId: string,
  queryId: string,
): { answer: LookupAnswer; body: Buffer } {
  if (!outcome.ok) throw new CaseFailure('a LOOKUP_ANSWER envelope', describe(outcome), 'protocol 13.6');
  const parsed = parse(outcome.value);
  const h = parsed.header;
  if (
    h.sender !== ctx.target.participantId ||
    h.recipient !== peer.participantId ||
    h.recipientKeyId !== peer.keyId ||
    h.kind !== K.MESSAGE_KIND_LOOKUP_ANSWER ||
    h.correlationId !== queryMessageId
  ) {
    throw new CaseFailure(
      `an answer from ${ctx.target.participantId} to ${peer.participantId} (its key), kind LOOKUP_ANSWER, correlation_id = the query's message id`,
      `sender ${h.sender}, recipient ${h.recipient}, key ${h.recipientKeyId}, kind ${h.kind}, correlation ${h.correlationId}`,
      'protocol 13.6 step 14',
    );
  }
  let sealed;
  try {
    sealed = open(parsed, peer.pairKey(), ctx.target.cardBody.signingPublicKey);
  } catch (error) {
    throw new CaseFailure(
      'an answer sealed to the asking peer and signed by the node (protocol 3.4, 3.5)',
      (error as Error).message,
      'protocol 13.6 step 14',
    );
  }
  const answer = LookupAnswer.decode(sealed.body);
  ensureEqual(answer.queryId, queryId, 'answer query_id');
  return { answer, body: Buffer.from(sealed.body) };
}

/** Sends a query from `peer`; returns the sealed envelope and the outcome. */
export async function ask(
  ctx: CaseContext,
  peer: FakePeer,
  body: Buffer,
  kind: MessageKind = K.MESSAGE_KIND_LOOKUP_QUERY,
) {
  const sealed = peer.seal({ kind, body, expiresAtMs: Date.now() + 60_000 });
  return { sealed, queryId: LookupQuery.decode(body).queryId, outcome: await ctx.host.lookupRaw(sealed.bytes) };
}

/** Reads the top-level protobuf fields of `bytes` (number, wire type, value), for the leak check. */
function fields(bytes: Uint8Array): Array<{ field: number; wire: number; value: Buffer }> {
  const out: Array<{ field: number; wire: number; value: Buffer }> = [];
  let i = 0;
  const varint = () => {
    let shift = 0;
    let n = 0;
    for (;;) {
      if (i >= bytes.length) throw new CaseFailure('a well-formed LookupAnswer', 'a truncated varint');
      const b = bytes[i++] as number;
      n += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return n;
      shift += 7;
    }
  };
  while (i < bytes.length) {
    const key = varint();
    const wire = key % 8;
    const field = Math.floor(key / 8);
    const start = i;
    if (wire === 0) varint();
    else if (wire === 2) {
      const n = varint();
      out.push({ field, wire, value: Buffer.from(bytes.subarray(i, i + n)) });
      i += n;
      continue;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new CaseFailure('a well-formed LookupAnswer', `wire type ${wire}`);
    out.push({ field, wire, value: Buffer.from(bytes.subarray(start, i)) });
  }
  return out;
}

/** Hit / no-hit lookups (protocol 13): answers carry only hit, category, owner, contact point, never the record. */
export const LOOKUP_CASES: ConformanceCase[] = [
  {
    id: 'lookups.denied-by-default',
    section: '13.8',
    feature: 'lookups',
    title:
      'a lookup from a peer whose policy does not allow lookups is KIND_NOT_ALLOWED (peer_policy), without receipt — also when the policy accepts its trace requests',
    async run(ctx) {
      for (const peer of [await ctx.peer(), await ctx.peer({ policy: { acceptRequests: true } })]) {
        const { outcome } = await ask(ctx, peer, query(serial()));
        ensureRefused(outcome, {
          code: E.ERROR_CODE_KIND_NOT_ALLOWED,
          field: 'header.kind',
          rule: 'peer_policy',
          receipt: 'none',
        });
      }
    },
  },
  {
    id: 'lookups.hit',
    section: '13.6',
    feature: 'lookups',
    title:
      'an exact query for a record of interest is one verified hit: roi_ reference, category, owner, contact point, not partial',
    async run(ctx) {
      const s = serial();
      await recordOfInterest(ctx, s);
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const { sealed, queryId, outcome } = await ask(ctx, peer, query(s));
      const { answer } = openAnswer(ctx, peer, outcome, sealed.header.messageId, queryId);
      ensureEqual(answer.hits.length, 1, 'number of hits');
      const hit = answer.hits[0];
      if (!hit || !/^roi_[A-Za-z0-9_-]{22}$/.test(hit.reference))
        throw new CaseFailure('a reference roi_ + 22 characters', JSON.stringify(hit?.reference), 'protocol 13.2');
      ensureEqual(hit.category, InterestCategory.INTEREST_CATEGORY_STOLEN, 'category');
      ensureEqual(hit.owner, ctx.target.participantId, 'owner');
      ensureEqual(hit.contactPoint, 'desk@conformance.example', 'contact_point');
      ensureEqual(hit.partial, false, 'partial');
    },
  },
  {
    id: 'lookups.answer-size',
    section: '13.6',
    feature: 'lookups',
    title:
      'a hit and a no-hit are answered with envelopes of the same size: the body is padded to a multiple of 4096 bytes',
    async run(ctx) {
      const s = serial();
      await recordOfInterest(ctx, s);
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const sizes: number[] = [];
      for (const asked of [s, serial()]) {
        const { sealed, queryId, outcome } = await ask(ctx, peer, query(asked));
        const { body } = openAnswer(ctx, peer, outcome, sealed.header.messageId, queryId);
        if (body.length % 4096 !== 0)
          throw new CaseFailure('a LookupAnswer of a multiple of 4096 bytes', `${body.length} bytes`);
        if (outcome.ok) sizes.push(outcome.value.length);
      }
      ensureEqual(sizes[0], sizes[1], 'size of the hit answer envelope against the no-hit one');
    },
  },
  {
    id: 'lookups.no-hit',
    section: '13.4',
    feature: 'lookups',
    title: 'a record that matches exactly but is not reported of interest is no hit',
    async run(ctx) {
      const s = serial();
      await ctx.target.records.call('putRecord', { record: WeaponRecord.fromPartial(weaponRecord(s)) });
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const { sealed, queryId, outcome } = await ask(ctx, peer, query(s));
      ensureEqual(
        openAnswer(ctx, peer, outcome, sealed.header.messageId, queryId).answer.hits.length,
        0,
        'number of hits',
      );
    },
  },
  {
    id: 'lookups.serial-alone-is-no-match',
    section: '13.4',
    feature: 'lookups',
    title: 'the serial of a record of interest under another manufacturer is no hit (a serial alone never matches)',
    async run(ctx) {
      const s = serial();
      await recordOfInterest(ctx, s);
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const body = query(s, {
        weapon: { manufacturer: 'Other Works', serialNumber: s, model: '', calibre: '', type: 0 },
      });
      const { sealed, queryId, outcome } = await ask(ctx, peer, body);
      ensureEqual(
        openAnswer(ctx, peer, outcome, sealed.header.messageId, queryId).answer.hits.length,
        0,
        'number of hits',
      );
    },
  },
  {
    id: 'lookups.no-leakage',
    section: '13.3',
    feature: 'lookups',
    title:
      'the answer carries only query_id, the five hit fields and zero padding: no marking, record id, event, secondary mark, note or report detail',
    async run(ctx) {
      const s = serial();
      const record = await recordOfInterest(ctx, s);
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const { sealed, queryId, outcome } = await ask(ctx, peer, query(s));
      const { body } = openAnswer(ctx, peer, outcome, sealed.header.messageId, queryId);
      for (const f of fields(body)) {
        if (f.field !== 1 && f.field !== 2 && f.field !== 3)
          throw new CaseFailure('LookupAnswer fields 1, 2 and 3 only', `field ${f.field}`);
        if (f.field === 3 && !f.value.every((b) => b === 0))
          throw new CaseFailure('padding of zero bytes', 'padding with other bytes', 'protocol 13.6');
        if (f.field === 2) {
          for (const h of fields(f.value)) {
            if (h.field < 1 || h.field > 5) throw new CaseFailure('LookupHit fields 1–5 only', `field ${h.field}`);
          }
        }
      }
      const text = body.toString('latin1');
      const secrets = [
        s,
        record.recordId,
        'COVERT-MARK-77',
        'CONFIDENTIAL-NOTE-91',
        'REPORTING-AGENCY-X',
        'AGENCY-REF-55',
        '2020-06-01',
        'Depot 4',
        'Conformance Arms',
        'C-9',
        '9x19mm',
      ];
      const leaked = secrets.filter((x) => text.includes(x));
      if (leaked.length > 0)
        throw new CaseFailure(
          'no content of the record or its report in the answer',
          `the answer bytes contain ${leaked.map((x) => JSON.stringify(x)).join(', ')}`,
        );
    },
  },
  {
    id: 'lookups.hit-notice',
    section: '13.7',
    feature: 'lookups',
    title: 'the owner records a hit notice naming who asked, the purpose and the query id (ListHits)',
    async run(ctx) {
      const s = serial();
      await recordOfInterest(ctx, s);
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const { sealed, queryId, outcome } = await ask(ctx, peer, query(s));
      const { answer } = openAnswer(ctx, peer, outcome, sealed.header.messageId, queryId);
      const { hits } = await ctx.target.lookups.call('listHits', { limit: 50, cursor: '' });
      const notice = hits.find((h) => h.queryId === queryId);
      if (!notice)
        throw new CaseFailure(`a hit notice for query ${queryId} in ListHits`, `${hits.length} notices, none for it`);
      ensureEqual(notice.askedBy, peer.participantId, 'asked_by');
      ensureEqual(notice.purpose, 'border seizure check', 'purpose');
      ensureEqual(notice.reference, answer.hits[0]?.reference, 'reference');
    },
  },
  {
    id: 'lookups.wildcard-partial',
    section: '13.4',
    feature: 'lookups',
    title: 'a wildcard serial that covers the record is a hit marked partial',
    async run(ctx) {
      const s = serial();
      await recordOfInterest(ctx, s);
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const pattern = `${s.slice(0, 6)}*`;
      const { sealed, queryId, outcome } = await ask(ctx, peer, query(pattern));
      const { answer } = openAnswer(ctx, peer, outcome, sealed.header.messageId, queryId);
      if (!answer.hits.some((h) => h.partial))
        throw new CaseFailure('a hit with partial = true', `${answer.hits.length} hits, none partial`);
    },
  },
  {
    id: 'lookups.replay',
    section: '13.6',
    feature: 'lookups',
    title: 'the same query envelope sent twice is MESSAGE_ID_REUSED (unique_message_id) the second time',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const { sealed, outcome } = await ask(ctx, peer, query(serial()));
      if (!outcome.ok) throw new CaseFailure('the first query to be answered', describe(outcome));
      ensureRefused(await ctx.host.lookupRaw(sealed.bytes), {
        code: E.ERROR_CODE_MESSAGE_ID_REUSED,
        field: 'header.message_id',
        rule: 'unique_message_id',
        receipt: 'none',
      });
    },
  },
  {
    id: 'lookups.wrong-kind',
    section: '13.6',
    feature: 'lookups',
    title: 'an envelope of another kind on Federation.Lookup is INVALID_FIELD (header.kind, lookup_kind)',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const sealed = peer.seal();
      ensureRefused(await ctx.host.lookupRaw(sealed.bytes), {
        code: E.ERROR_CODE_INVALID_FIELD,
        field: 'header.kind',
        rule: 'lookup_kind',
        receipt: 'none',
      });
    },
  },
  {
    id: 'lookups.rate-limited',
    section: '13.8',
    feature: 'lookups',
    title: 'a peer allowed 2 lookups a minute gets RATE_LIMITED (lookups_per_minute, retryable) on the third',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { allowLookups: true, lookupsPerMinute: 2 } });
      for (let i = 0; i < 2; i += 1) {
        const { outcome } = await ask(ctx, peer, query(serial()));
        if (!outcome.ok) throw new CaseFailure(`lookup ${i + 1} of 2 to be answered`, describe(outcome));
      }
      const { outcome } = await ask(ctx, peer, query(serial()));
      ensureRefused(outcome, { code: E.ERROR_CODE_RATE_LIMITED, rule: 'lookups_per_minute', receipt: 'none' });
    },
  },
  {
    id: 'lookups.query-without-purpose',
    section: '13.3',
    feature: 'lookups',
    title: 'a query without purpose is MISSING_FIELD (body.purpose)',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const { outcome } = await ask(ctx, peer, query(serial(), { purpose: '' }));
      ensureRefused(outcome, { code: E.ERROR_CODE_MISSING_FIELD, field: 'body.purpose', receipt: 'none' });
    },
  },
  {
    id: 'lookups.short-wildcard',
    section: '13.3',
    cites: ['13.4'],
    feature: 'lookups',
    title:
      'a wildcard serial with fewer than 3 known characters besides its wildcards is INVALID_FIELD (wildcard_known_characters), however many wildcards it holds',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      for (const pattern of ['A*', 'AB*?', '*?*A']) {
        const { outcome } = await ask(ctx, peer, query(pattern));
        ensureRefused(outcome, {
          code: E.ERROR_CODE_INVALID_FIELD,
          field: 'body.weapon.serial_number',
          rule: 'wildcard_known_characters',
          receipt: 'none',
        });
      }
    },
  },
  {
    id: 'lookups.max-wildcards',
    section: '13.4',
    cites: ['13.3', '13.10'],
    feature: 'lookups',
    title:
      'a serial pattern with more than 10 wildcards (each ? and each run of * counting one) is INVALID_FIELD (weapon.serial_number, max_wildcards) on Federation.Lookup and on Lookups.Lookup',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { allowLookups: true, lookupsPerMinute: 1000 } });
      const over = [
        `${'*0'.repeat(MAX_WILDCARDS + 1)}X`,
        `FX0${'?*'.repeat(6)}`,
        `FX0${'?'.repeat(MAX_WILDCARDS + 1)}`,
      ];
      await ensureEach(
        'each pattern past the wildcard limit refused before any record is read (protocol 13.3, 13.4)',
        over,
        (p) => p,
        async (pattern) => {
          const { outcome } = await ask(ctx, peer, query(pattern));
          ensureRefused(outcome, {
            code: E.ERROR_CODE_INVALID_FIELD,
            field: 'body.weapon.serial_number',
            rule: 'max_wildcards',
            receipt: 'none',
          });
          const local = await ctx.call(
            ctx.target.lookups.call(
              'lookup',
              LookupRequest.fromPartial({
                weapon: { manufacturer: 'Conformance Arms', serialNumber: pattern },
                purpose: 'check',
                peers: [peer.participantId],
                deadlineMs: 2000,
              }),
            ),
          );
          ensureRefused(local, {
            code: E.ERROR_CODE_INVALID_FIELD,
            field: 'weapon.serial_number',
            rule: 'max_wildcards',
          });
        },
      );
      // The same patterns within the limit are queries like any other.
      const { sealed, queryId, outcome } = await ask(ctx, peer, query(`FX0${'?'.repeat(MAX_WILDCARDS)}`));
      openAnswer(ctx, peer, outcome, sealed.header.messageId, queryId);
    },
  },
  {
    id: 'lookups.adversarial-pattern',
    section: '13.4',
    feature: 'lookups',
    title: `a pattern at the wildcard limit that makes a backtracking matcher explode (*0 ten times, then a digit) is answered within ${PROMPT_ANSWER_MS} ms against 40-character serials, and matched as 13.4 says`,
    async run(ctx) {
      const serials = adversarialSerials();
      for (const s of serials) await recordOfInterest(ctx, s);
      const peer = await ctx.peer({ policy: { allowLookups: true, lookupsPerMinute: 1000 } });
      const items: Array<[string, number]> = [
        [`${'*0'.repeat(MAX_WILDCARDS)}9`, 0],
        [`${'*0'.repeat(MAX_WILDCARDS)}8`, 1],
      ];
      for (const [pattern, hits] of items) {
        const started = Date.now();
        const { sealed, queryId, outcome } = await ask(ctx, peer, query(pattern));
        const elapsed = Date.now() - started;
        const { answer } = openAnswer(ctx, peer, outcome, sealed.header.messageId, queryId);
        if (elapsed > PROMPT_ANSWER_MS)
          throw new CaseFailure(
            `an answer within ${PROMPT_ANSWER_MS} ms (matching in time proportional to pattern times serial, no backtracking)`,
            `${elapsed} ms for ${pattern}`,
          );
        ensureEqual(
          [answer.hits.length, answer.hits.every((h) => h.partial)],
          [hits, true],
          `hits (all partial) for ${pattern}`,
        );
      }
    },
  },
  {
    id: 'lookups.violations-code',
    section: '13.6',
    cites: ['13.3'],
    feature: 'lookups',
    title:
      'a query breaking several rules lists every violation; the first decides the code: MISSING_FIELD when its rule is required, INVALID_FIELD otherwise',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { allowLookups: true, lookupsPerMinute: 1000 } });
      const items: Array<[string, Buffer, ErrorCode, string[]]> = [
        [
          'an invalid query id, then no purpose',
          query(serial(), { queryId: 'short', purpose: '' }),
          E.ERROR_CODE_INVALID_FIELD,
          ['body.query_id', 'body.purpose'],
        ],
        [
          'no purpose, then a requesting authority over 500 characters',
          query(serial(), { purpose: ' ', requestingAuthority: 'a'.repeat(501) }),
          E.ERROR_CODE_MISSING_FIELD,
          ['body.purpose', 'body.requesting_authority'],
        ],
      ];
      await ensureEach(
        'each query refused with the code of its first violation and every violation listed (protocol 13.6 step 11)',
        items,
        ([what]) => what,
        async ([, body, code, fields]) => {
          const sealed = peer.seal({ kind: K.MESSAGE_KIND_LOOKUP_QUERY, body, expiresAtMs: Date.now() + 60_000 });
          const outcome = await ctx.host.lookupRaw(sealed.bytes);
          ensureRefused(outcome, { code, field: fields[0] as string, receipt: 'none' });
          ensureEqual(
            outcome.ok ? [] : (outcome.error.detail?.violations ?? []).map((v) => v.field),
            fields,
            'the violations listed',
          );
        },
      );
    },
  },
  {
    id: 'lookups.one-refusal',
    section: '13.6',
    cites: ['4.4', '9.5'],
    feature: 'lookups',
    title:
      'every query refused before authentication — sender not pinned, sender or recipient key id, expired card, failed AEAD check, another pair key — gets the one refusal, byte for byte that of Deliver',
    async run(ctx) {
      const envelopes = await unauthenticatedEnvelopes(ctx, K.MESSAGE_KIND_LOOKUP_QUERY, () => query(serial()));
      const outcomes: Array<[string, Outcome<unknown>]> = [];
      const stranger = await ctx.peer({ pin: false });
      outcomes.push(['Deliver: a sender that is not pinned', await ctx.host.deliverRaw(stranger.seal().bytes)]);
      for (const [what, bytes] of envelopes) outcomes.push([`Lookup: ${what}`, await ctx.host.lookupRaw(bytes)]);
      ensureOneRefusal(outcomes);
    },
  },
  {
    id: 'lookups.expired',
    section: '13.6',
    feature: 'lookups',
    title: 'an expired query is EXPIRED (header.expires_at_ms, expiry), without receipt',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const now = Date.now();
      const sealed = peer.seal({
        kind: K.MESSAGE_KIND_LOOKUP_QUERY,
        body: query(serial()),
        createdAtMs: now - 2000,
        expiresAtMs: now - 1000,
      });
      ensureRefused(await ctx.host.lookupRaw(sealed.bytes), {
        code: E.ERROR_CODE_EXPIRED,
        field: 'header.expires_at_ms',
        rule: 'expiry',
        receipt: 'none',
      });
    },
  },
  {
    id: 'lookups.unpinned',
    section: '13.6',
    feature: 'lookups',
    title: 'a query from a participant that is not pinned gets the one refusal before authentication, like Deliver',
    async run(ctx) {
      const stranger = await ctx.peer({ pin: false });
      const { outcome } = await ask(ctx, stranger, query(serial()));
      ensureRefused(outcome, NOT_AUTHENTICATED);
    },
  },
  {
    id: 'lookups.requester-hit',
    section: '13.6',
    feature: 'lookups',
    title:
      "Lookups.Lookup sends one sealed query to the peer asked and reports its verified answer as HIT with the peer's hits",
    async run(ctx) {
      const peer = await ctx.peer();
      const reference = `roi_${newMessageId()}`;
      peer.lookupResponder = (q) =>
        LookupAnswer.fromPartial({
          queryId: q.queryId,
          hits: [
            {
              reference,
              category: InterestCategory.INTEREST_CATEGORY_LOST,
              owner: peer.participantId,
              contactPoint: 'desk',
              partial: false,
            },
          ],
        });
      const response = await ctx.target.lookups.call(
        'lookup',
        LookupRequest.fromPartial({
          weapon: { manufacturer: 'Conformance Arms', serialNumber: 'RQ-1234' },
          purpose: 'check',
          peers: [peer.participantId],
          deadlineMs: 5000,
        }),
      );
      const result = response.results.find((r) => r.peer === peer.participantId);
      ensureEqual(result?.outcome, LookupOutcome.LOOKUP_OUTCOME_HIT, 'outcome');
      ensureEqual(
        result?.hits.map((h) => h.reference),
        [reference],
        'hits',
      );
      ensureEqual(
        peer.lookups.map((q) => [q.queryId, q.weapon?.serialNumber, q.purpose]),
        [[response.queryId, 'RQ-1234', 'check']],
        'the query the peer received',
      );
    },
  },
  {
    id: 'lookups.requester-foreign-hit',
    section: '13.6',
    feature: 'lookups',
    title: "an answer whose hit names another owner is not that peer's answer: ERROR with BAD_SIGNATURE",
    async run(ctx) {
      const peer = await ctx.peer();
      peer.lookupResponder = (q) =>
        LookupAnswer.fromPartial({
          queryId: q.queryId,
          hits: [
            {
              reference: `roi_${newMessageId()}`,
              category: 2,
              owner: ctx.host.freshId(),
              contactPoint: '',
              partial: false,
            },
          ],
        });
      const response = await ctx.target.lookups.call(
        'lookup',
        LookupRequest.fromPartial({
          weapon: { manufacturer: 'Conformance Arms', serialNumber: 'RQ-1234' },
          purpose: 'check',
          peers: [peer.participantId],
          deadlineMs: 5000,
        }),
      );
      const result = response.results[0];
      ensureEqual(
        [result?.outcome, result?.errorCode],
        [LookupOutcome.LOOKUP_OUTCOME_ERROR, 'BAD_SIGNATURE'],
        'outcome and error_code',
      );
    },
  },
  {
    id: 'lookups.requester-wrong-query-id',
    section: '13.6',
    feature: 'lookups',
    title: 'an answer naming another query id is not the answer to this query: ERROR with BAD_SIGNATURE',
    async run(ctx) {
      const peer = await ctx.peer();
      peer.lookupResponder = () => LookupAnswer.fromPartial({ queryId: newMessageId(), hits: [] });
      const response = await ctx.target.lookups.call(
        'lookup',
        LookupRequest.fromPartial({
          weapon: { manufacturer: 'Conformance Arms', serialNumber: 'RQ-1234' },
          purpose: 'check',
          peers: [peer.participantId],
          deadlineMs: 5000,
        }),
      );
      ensureEqual(
        [response.results[0]?.outcome, response.results[0]?.errorCode],
        [LookupOutcome.LOOKUP_OUTCOME_ERROR, 'BAD_SIGNATURE'],
        'outcome and error_code',
      );
    },
  },
  {
    id: 'lookups.requester-wrong-correlation',
    section: '13.6',
    feature: 'lookups',
    title:
      "an answer to this query whose correlation_id is not the query envelope's message id is not proof that it answers this envelope: ERROR with BAD_SIGNATURE",
    async run(ctx) {
      const peer = await ctx.peer();
      peer.lookupResponder = (q) => LookupAnswer.fromPartial({ queryId: q.queryId, hits: [] });
      peer.lookupCorrelationId = newMessageId();
      const response = await ctx.target.lookups.call(
        'lookup',
        LookupRequest.fromPartial({
          weapon: { manufacturer: 'Conformance Arms', serialNumber: 'RQ-1234' },
          purpose: 'check',
          peers: [peer.participantId],
          deadlineMs: 5000,
        }),
      );
      ensureEqual(
        [response.results[0]?.outcome, response.results[0]?.errorCode],
        [LookupOutcome.LOOKUP_OUTCOME_ERROR, 'BAD_SIGNATURE'],
        'outcome and error_code',
      );
    },
  },
  {
    id: 'lookups.requester-timeout',
    section: '13.6',
    feature: 'lookups',
    title: 'a peer that does not answer before the deadline is TIMEOUT and listed in not_answered',
    async run(ctx) {
      const peer = await ctx.peer();
      peer.lookupResponder = () => 'silent';
      const response = await ctx.target.lookups.call(
        'lookup',
        LookupRequest.fromPartial({
          weapon: { manufacturer: 'Conformance Arms', serialNumber: 'RQ-1234' },
          purpose: 'check',
          peers: [peer.participantId],
          deadlineMs: 600,
        }),
      );
      ensureEqual(response.results[0]?.outcome, LookupOutcome.LOOKUP_OUTCOME_TIMEOUT, 'outcome');
      ensureEqual(response.notAnswered, [peer.participantId], 'not_answered');
    },
  },
  {
    id: 'lookups.signature-checked',
    section: '13.6',
    cites: ['10.2', '4.9'],
    feature: 'lookups',
    title:
      "a query sealed under the pair key but signed with another pinned peer's key is BAD_SIGNATURE (sealed.signature) and gets no answer: opening is not proof of origin",
    async run(ctx) {
      const s = serial();
      await recordOfInterest(ctx, s);
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const other = await ctx.peer({ policy: { allowLookups: true } });
      const sealed = peer.seal({
        kind: K.MESSAGE_KIND_LOOKUP_QUERY,
        body: query(s),
        expiresAtMs: Date.now() + 60_000,
        signingSecretKey: other.keys.signingSecretKey,
      });
      ensureRefused(await ctx.host.lookupRaw(sealed.bytes), {
        code: E.ERROR_CODE_BAD_SIGNATURE,
        field: 'sealed.signature',
        rule: 'ed25519',
      });
    },
  },
  {
    id: 'lookups.aliases',
    section: '13.5',
    cites: ['13.4'],
    feature: 'lookups',
    title:
      "the owner's manufacturer alias table maps the record's maker as well as the query's: a record of interest kept under an alias is a hit for the canonical name, and the other way round",
    async run(ctx) {
      const tag = randomBytes(4).toString('hex').toUpperCase();
      const canonical = `Alias Works ${tag}`;
      const alias = `AW-${tag}`;
      await ctx.target.records.call('loadAliases', {
        csv: Buffer.from(`# conformance case lookups.aliases\n${canonical},${alias}\n`),
        calibres: false,
      });
      try {
        const peer = await ctx.peer({ policy: { allowLookups: true } });
        for (const [kept, asked] of [
          [alias, canonical],
          [canonical, alias],
        ] as const) {
          const s = serial();
          const record = weaponRecord(s);
          const { record: stored } = await ctx.target.records.call('putRecord', {
            record: WeaponRecord.fromPartial({
              ...record,
              manufacture: { ...record.manufacture, manufacturer: kept } as WeaponRecord['manufacture'],
            }),
          });
          await ctx.target.records.call('reportRecord', {
            recordId: stored?.recordId ?? '',
            report: {
              category: InterestCategory.INTEREST_CATEGORY_STOLEN,
              date: '2020-06-01',
              agency: 'Police',
              reference: 'REF-1',
              contactPoint: 'desk@conformance.example',
            },
          });
          const { sealed, queryId, outcome } = await ask(
            ctx,
            peer,
            query(s, { weapon: { manufacturer: asked, serialNumber: s, model: '', calibre: '', type: 0 } }),
          );
          ensureEqual(
            openAnswer(ctx, peer, outcome, sealed.header.messageId, queryId).answer.hits.length,
            1,
            `hits for a record kept under "${kept}" asked as "${asked}"`,
          );
        }
      } finally {
        // The table is the node's own: the case leaves it empty, as a fresh node has it.
        await ctx.target.records.call('loadAliases', { csv: Buffer.alloc(0), calibres: false });
      }
    },
  },
  {
    id: 'lookups.answer-to-query-keys',
    section: '13.6',
    cites: ['15.2'],
    feature: 'lookups',
    title:
      "during a peer's rotation grace, a query sealed with its previous keys is answered to those keys: recipient_key_id = the query's sender_key_id, sealed under that key's pair key",
    async run(ctx) {
      const s = serial();
      await recordOfInterest(ctx, s);
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const previous = await announceRotation(peer);
      const body = query(s);
      const sealed = peer.seal({
        kind: K.MESSAGE_KIND_LOOKUP_QUERY,
        body,
        expiresAtMs: Date.now() + 60_000,
        keySet: previous,
      });
      const outcome = await ctx.host.lookupRaw(sealed.bytes);
      if (!outcome.ok)
        throw new CaseFailure(
          'a LOOKUP_ANSWER to a query sealed with keys in their grace',
          describe(outcome),
          'protocol 15.2',
        );
      const parsed = parse(outcome.value);
      ensureEqual(
        parsed.header.recipientKeyId,
        previous.keyId,
        'answer recipient_key_id (the key the query was sealed with)',
      );
      let opened;
      try {
        opened = open(parsed, peer.pairKey(previous), ctx.target.cardBody.signingPublicKey);
      } catch (error) {
        throw new CaseFailure(
          "an answer sealed under the pair key of the query's keys",
          (error as Error).message,
          'protocol 13.6 step 14',
        );
      }
      ensureEqual(LookupAnswer.decode(opened.body).hits.length, 1, 'number of hits');
    },
  },
  {
    id: 'lookups.tampered',
    section: '13.6',
    feature: 'lookups',
    title: 'a query whose header was changed on the path gets the one refusal before authentication, like Deliver',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const sealed = peer.seal({
        kind: K.MESSAGE_KIND_LOOKUP_QUERY,
        body: query(serial()),
        expiresAtMs: Date.now() + 60_000,
      });
      const header = Buffer.from(sealed.envelope.header);
      const at = header.indexOf(Buffer.from(sealed.header.messageId, 'ascii'));
      header[at] = header[at] === 0x41 ? 0x42 : 0x41;
      const bytes = Buffer.from(
        Envelope.encode({
          header,
          nonce: Buffer.from(sealed.envelope.nonce),
          ciphertext: Buffer.from(sealed.envelope.ciphertext),
        }).finish(),
      );
      ensureRefused(await ctx.host.lookupRaw(bytes), NOT_AUTHENTICATED);
    },
  },
  {
    id: 'lookups.trace-from-unknown-hit',
    section: '13.9',
    feature: 'lookups',
    title: 'TraceFromHit with a hit this node never received is NOT_FOUND (hit.reference, known_hit); nothing is sent',
    async run(ctx) {
      const owner = await ctx.peer();
      const hit = {
        reference: `roi_${newMessageId()}`,
        category: InterestCategory.INTEREST_CATEGORY_STOLEN,
        owner: owner.participantId,
        contactPoint: '',
        partial: false,
        recordedDestroyed: false,
        destroyedDate: '',
        certificateId: '',
      };
      const outcome = await ctx.call(ctx.target.lookups.call('traceFromHit', { hit, request: undefined, send: true }));
      ensureRefused(outcome, { code: E.ERROR_CODE_NOT_FOUND, field: 'hit.reference', rule: 'known_hit' });
      await owner.expectNothing(300, 'protocol 13.9: nothing is sent');
    },
  },
];

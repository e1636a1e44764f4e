import {
  ErrorCode,
  MessageKind,
  ReexportCondition,
  ReexportDirection,
  type ReexportFlag,
  ReexportNotice,
  WeaponEvent,
  WeaponEventType,
} from '@tracenet/proto';
import type { CaseContext, ConformanceCase } from '../case.js';
import { CaseFailure, describe, ensureAccepted, ensureEqual, ensureRefused } from '../check.js';
import { type FakePeer, newMessageId } from '../fake-peer.js';

const E = ErrorCode;
const K = MessageKind;

/** A flag id of this suite: 16 to 64 characters of [A-Za-z0-9_-] (protocol 18.5). */
function flagId(): string {
  return `rx_${newMessageId().replace(/[^A-Za-z0-9_-]/g, '')}`.slice(0, 40);
}

/**
 * A valid notice from `peer` to the node: the node (`exporter`) exported to `peer`'s neighbour KEN
 * under an undertaking prohibiting re-export, and KEN exported it on to UGA (protocol 18.3).
 */
function notice(exporter: string, id = flagId()): ReexportNotice {
  const undertaking = {
    condition: ReexportCondition.REEXPORT_CONDITION_PROHIBITED,
    certificateReference: 'EUC-CONF-2016-77',
    endUser: 'Conformance Police Service',
    date: '2016-04-20',
    authorisations: [],
  };
  const ev = (fields: Partial<WeaponEvent>) => WeaponEvent.fromPartial(fields);
  return ReexportNotice.fromPartial({
    flagId: id,
    exporterTraceId: '',
    flag: {
      flagId: id,
      exporter,
      undertakingState: 'KEN',
      undertaking,
      laterState: 'UGA',
      kind: 'reexported',
      chainId: '',
      raisedBy: '',
      raisedAtMs: Date.now(),
      notifiedAtMs: 0,
      evidence: [
        {
          source: exporter,
          caseId: 'case-000001',
          event: ev({
            type: WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED,
            date: '2016-05-10',
            destination: 'KEN',
            licence: 'EXP-2016-114',
            undertaking,
          }),
        },
        {
          source: 'KEN',
          caseId: 'case-000002',
          event: ev({
            type: WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED,
            date: '2019-02-11',
            destination: 'UGA',
            licence: 'KEN-EXP-19-3',
          }),
        },
      ],
    },
  });
}

/** The flags the node lists as received from `peer` (`Cases.ListReexportFlags`, protocol 18.5). */
async function receivedFrom(ctx: CaseContext, peer: FakePeer): Promise<ReexportFlag[]> {
  const { received } = await ctx.target.cases.call('listReexportFlags', {
    direction: ReexportDirection.REEXPORT_DIRECTION_RECEIVED,
  });
  return received.filter((f) => f.raisedBy === peer.participantId);
}

/** Unauthorised re-export notices received (protocol 18.5). */
export const REEXPORT_CASES: ConformanceCase[] = [
  {
    id: 'reexport.notice-accepted',
    section: '18.5',
    cites: ['6.3'],
    feature: 'reexport',
    title:
      'a valid REEXPORT_NOTICE naming the node as exporter is accepted from a pinned peer without a policy and listed as received, raised by the sender',
    async run(ctx) {
      const peer = await ctx.peer();
      const body = notice(ctx.target.participantId);
      const { sealed, outcome } = await peer.send(K.MESSAGE_KIND_REEXPORT_NOTICE, ReexportNotice.encode(body).finish());
      if (!outcome.ok) throw new CaseFailure('the re-export notice to be accepted', describe(outcome), 'protocol 18.5');
      ensureAccepted(outcome, peer.receiptOf(sealed.header.messageId, sealed.digest));
      const listed = await receivedFrom(ctx, peer);
      ensureEqual(
        listed.map((f) => [f.flagId, f.exporter, f.undertakingState, f.laterState, f.kind, f.evidence.length]),
        [[body.flagId, ctx.target.participantId, 'KEN', 'UGA', 'reexported', 2]],
        'the flags ListReexportFlags lists as received from the sender (protocol 18.5)',
      );
      const again = await peer.send(K.MESSAGE_KIND_REEXPORT_NOTICE, ReexportNotice.encode(body).finish());
      ensureRefused(
        again.outcome,
        { code: E.ERROR_CODE_ALREADY_EXISTS, field: 'body.flag_id', rule: 'unique_flag', receipt: 'rejected' },
        peer.receiptOf(again.sealed.header.messageId, again.sealed.digest),
      );
    },
  },
  {
    id: 'reexport.notice-refused',
    section: '18.5',
    feature: 'reexport',
    title:
      'a REEXPORT_NOTICE that is malformed, names another exporter, or carries a bad flag id, an escape or too many hops is refused with its field and rule; nothing is listed',
    async run(ctx) {
      const peer = await ctx.peer();
      const self = ctx.target.participantId;
      const other = self === 'FRA' ? 'DEU' : 'FRA';
      const variants: Array<[string, Uint8Array, ErrorCode, string, string]> = [];
      const encoded = (change: (n: ReexportNotice) => void): Uint8Array => {
        const n = notice(self);
        change(n);
        return ReexportNotice.encode(n).finish();
      };
      const flagOf = (n: ReexportNotice) => n.flag as ReexportFlag;
      variants.push(
        [
          'a body that is not protobuf',
          Uint8Array.from([0xff, 0xff, 0xff]),
          E.ERROR_CODE_MALFORMED,
          'body',
          'protobuf',
        ],
        [
          'another exporter',
          encoded((n) => {
            flagOf(n).exporter = other;
          }),
          E.ERROR_CODE_INVALID_FIELD,
          'body.flag.exporter',
          'recipient_is_exporter',
        ],
        [
          'a flag id of 4 characters',
          encoded((n) => {
            n.flagId = 'rx_1';
            flagOf(n).flagId = 'rx_1';
          }),
          E.ERROR_CODE_INVALID_FIELD,
          'body.flag_id',
          'flag_id',
        ],
        [
          'an escape in a hop’s place',
          encoded((n) => {
            const event = flagOf(n).evidence[1]?.event;
            if (event) event.place = 'Nairobi\u001b[2J';
          }),
          E.ERROR_CODE_INVALID_FIELD,
          'body.flag.evidence[1].event.place',
          'control_character',
        ],
        [
          '51 hops',
          encoded((n) => {
            const hop = flagOf(n).evidence[0];
            if (hop) flagOf(n).evidence = Array.from({ length: 51 }, () => hop);
          }),
          E.ERROR_CODE_INVALID_FIELD,
          'body.flag.evidence',
          'max_items',
        ],
      );
      for (const [what, body, code, field, rule] of variants) {
        const { sealed, outcome } = await peer.send(K.MESSAGE_KIND_REEXPORT_NOTICE, body);
        try {
          ensureRefused(
            outcome,
            { code, field, rule, receipt: 'rejected' },
            peer.receiptOf(sealed.header.messageId, sealed.digest),
          );
        } catch (error) {
          if (error instanceof CaseFailure)
            throw new CaseFailure(`${what}: ${error.expected}`, error.got, 'protocol 18.5');
          throw error;
        }
      }
      ensureEqual((await receivedFrom(ctx, peer)).length, 0, 'flags listed as received from the refused notices');
    },
  },
];

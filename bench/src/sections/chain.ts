import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalNode, startLocalFederation } from '@tracenet/node/dev';
import {
  type Case,
  CaseState,
  FindingKind,
  IllicitKind,
  Priority,
  TraceRequest,
  WeaponEventType as E,
  WeaponRecord,
  WeaponStatus,
  WeaponType,
} from '@tracenet/proto';
import type { Sizes } from '../sizes.js';
import { latency, type Latency, target, type Target } from '../stats.js';

export interface ChainResult {
  readonly chains: number;
  readonly pollIntervalMs: number;
  /** Wall time seen by FRA's operator: createCase to BEL until KEN's answer is on FRA's case (follow-on included). */
  readonly wall: Latency;
  /** The two hops apart: request to BEL's referral, follow-on to KEN's traced answer. */
  readonly firstHop: Latency;
  readonly secondHop: Latency;
  readonly humanBaseline: string;
  readonly targets: readonly Target[];
}

const POLL_MS = 2;
const FINAL = [CaseState.CASE_STATE_ANSWERED, CaseState.CASE_STATE_REFUSED, CaseState.CASE_STATE_RESTRICTED];

async function until(node: LocalNode, caseId: string, timeoutMs = 30_000): Promise<Case> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { case: c } = await node.cases.call('getCase', { caseId });
    if (c && FINAL.includes(c.state)) return c;
    if (Date.now() > deadline)
      throw new Error(`${node.participantId} ${caseId} stayed ${c ? CaseState[c.state] : 'absent'}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function weapon(i: number) {
  return {
    manufacturer: 'FN Herstal',
    countryOfManufacture: 'BEL',
    serialNumber: `FX-BENCH-${String(i).padStart(5, '0')}`,
    model: 'FNX-45',
    type: WeaponType.WEAPON_TYPE_PISTOL,
    calibre: '.45 ACP',
    year: 2011,
  };
}

/**
 * The demo's trace chain (section 4), as separate node processes on loopback: FRA asks BEL, BEL
 * answers automatically from its records "referred to KEN", FRA's operator follows on to KEN
 * (done by this script as soon as the referral arrives), KEN answers "traced" automatically.
 * Each chain is another weapon; chains run one after another. Times are measured by the client,
 * which polls FRA's case every 2 ms.
 */
export async function benchChain(sizes: Sizes, log: (line: string) => void): Promise<ChainResult> {
  const dir = await mkdtemp(join(tmpdir(), 'tracenet-bench-chain-'));
  const autoAnswer = { acceptRequests: true, autoAcknowledge: true, autoAnswer: true };
  const federation = await startLocalFederation({
    participants: ['BEL', 'KEN', 'FRA'],
    baseDir: dir,
    policies: [
      { of: 'BEL', policy: { participantId: 'FRA', ...autoAnswer } },
      { of: 'KEN', policy: { participantId: 'FRA', ...autoAnswer } },
    ],
  }).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  try {
    const bel = federation.node('BEL');
    const ken = federation.node('KEN');
    const fra = federation.node('FRA');
    const event = (fields: Partial<WeaponRecord['events'][number]>) => ({
      date: '',
      place: '',
      agency: '',
      destination: '',
      origin: '',
      licence: '',
      endUser: '',
      details: '',
      circumstance: 0,
      undertaking: undefined,
      type: 0,
      ...fields,
    });
    for (let i = 0; i < sizes.chains; i += 1) {
      await bel.records.call('putRecord', {
        record: WeaponRecord.fromPartial({
          manufacture: weapon(i),
          manufactureMethod: 1,
          status: WeaponStatus.WEAPON_STATUS_EXPORTED,
          events: [
            event({
              type: E.WEAPON_EVENT_TYPE_MANUFACTURED,
              date: '2011-05-17',
              place: 'Herstal',
              agency: 'FN Herstal',
            }),
            event({
              type: E.WEAPON_EVENT_TYPE_EXPORTED,
              date: '2012-03-14',
              destination: 'KEN',
              licence: 'BE-EXP-2012-0413',
              endUser: 'Kenya Police Service',
            }),
          ],
        }),
      });
      await ken.records.call('putRecord', {
        record: WeaponRecord.fromPartial({
          manufacture: weapon(i),
          manufactureMethod: 1,
          imports: [{ country: 'KEN', year: 2012 }],
          status: WeaponStatus.WEAPON_STATUS_STOLEN,
          events: [
            event({
              type: E.WEAPON_EVENT_TYPE_IMPORTED,
              date: '2012-04-02',
              origin: 'BEL',
              licence: 'KE-IMP-2012-117',
            }),
            event({
              type: E.WEAPON_EVENT_TYPE_STOLEN,
              date: '2019-08-03',
              place: 'Nairobi',
              agency: 'Kenya Police Service',
            }),
          ],
        }),
      });
    }
    const wall: number[] = [];
    const first: number[] = [];
    const second: number[] = [];
    for (let i = 0; i < sizes.chains; i += 1) {
      const request = TraceRequest.fromPartial({
        requestingAuthority: 'Office central de lutte contre le crime organisé (OCLCO)',
        caseReference: `OCLCO-BENCH-${i}`,
        priority: Priority.PRIORITY_ROUTINE,
        illicitCriteria: [
          { kind: IllicitKind.ILLICIT_KIND_NATIONAL_LAW, legalBasis: 'Code de la sécurité intérieure, art. L317-8' },
        ],
        circumstances: {
          kind: FindingKind.FINDING_KIND_SEIZED,
          date: '2026-10-02',
          place: 'Marseille',
          agency: 'Police judiciaire',
          description: 'seized during a search',
          circumstance: 0,
        },
        weapon: { markings: weapon(i), imports: [{ country: 'KEN', year: 2012 }], manufactureMethod: 1 },
        intendedUse: 'criminal investigation and prosecution',
      });
      const t0 = performance.now();
      const created = (await fra.cases.call('createCase', { recipient: 'BEL', request, send: true })).case;
      if (!created) throw new Error('createCase returned no case');
      const referred = await until(fra, created.caseId);
      const t1 = performance.now();
      if (referred.answer?.outcome !== 2)
        throw new Error(
          `chain ${i}: BEL did not refer (state ${CaseState[referred.state]}, outcome ${referred.answer?.outcome})`,
        );
      const follow = (
        await fra.cases.call('followOn', {
          caseId: created.caseId,
          intendedUse: '',
          otherInformation: 'follow-on of the referral by BEL',
          send: true,
        })
      ).case;
      if (!follow) throw new Error('followOn returned no case');
      const t2 = performance.now();
      const traced = await until(fra, follow.caseId);
      const t3 = performance.now();
      if (traced.answer?.outcome !== 1)
        throw new Error(`chain ${i}: KEN did not answer traced (state ${CaseState[traced.state]})`);
      wall.push(t3 - t0);
      first.push(t1 - t0);
      second.push(t3 - t2);
    }
    const result = latency(wall);
    log(
      `  ${sizes.chains} chains: wall p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (first hop p50 ${latency(first).p50Ms} ms, second hop p50 ${latency(second).p50Ms} ms)`,
    );
    return {
      chains: sizes.chains,
      pollIntervalMs: POLL_MS,
      wall: result,
      firstHop: latency(first),
      secondHop: latency(second),
      humanBaseline: 'days to weeks (letters and e-mail between national focal points)',
      targets: [target('two-hop chain, request to final answer, p99', result.p99Ms, '<', 500, ' ms')],
    };
  } finally {
    await federation.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

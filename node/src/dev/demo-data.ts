import {
  AnswerCaseRequest,
  type Case,
  CaseRole,
  CaseState,
  FindingKind,
  IllicitKind,
  ItemCategory,
  ListCasesRequest,
  type ManufactureMarking,
  Priority,
  SeizureCircumstance,
  TraceOutcome,
  TraceRequest,
  type WeaponEvent,
  WeaponEventType as E,
  WeaponRecord,
  WeaponStatus,
  WeaponType,
} from '@tracenet/proto';
import { systemScheduler } from '../util/scheduler.js';
import type { LocalNode } from './local-federation.js';

const C = SeizureCircumstance;

/** FN Herstal's FNX-45 of the demo's chain FRA → BEL → KEN (BEL and KEN hold its records). */
export const DEMO_WEAPON: ManufactureMarking = {
  manufacturer: 'FN Herstal',
  countryOfManufacture: 'BEL',
  serialNumber: 'FX-0412-2231',
  model: 'FNX-45',
  type: WeaponType.WEAPON_TYPE_PISTOL,
  calibre: '.45 ACP',
  year: 2011,
};

const OCLCO = 'Office central de lutte contre le crime organisé (OCLCO)';

function event(type: E, fields: Partial<WeaponEvent>): WeaponEvent {
  return {
    type,
    date: '',
    place: '',
    agency: '',
    destination: '',
    origin: '',
    licence: '',
    endUser: '',
    details: '',
    circumstance: C.SEIZURE_CIRCUMSTANCE_UNSPECIFIED,
    undertaking: undefined,
    ...fields,
  };
}

function marking(fields: Partial<ManufactureMarking>): ManufactureMarking {
  return {
    manufacturer: '',
    countryOfManufacture: '',
    serialNumber: '',
    model: '',
    type: 0,
    calibre: '',
    year: 0,
    ...fields,
  };
}

/** One item of FRA's year of seizures: its record on FRA's node and, when FRA traced it, where to. */
interface Seizure {
  readonly record: Partial<WeaponRecord>;
  readonly traceTo?: string;
  readonly caseReference?: string;
}

const FIVE_SEVEN = marking({
  manufacturer: 'FN Herstal',
  countryOfManufacture: 'BEL',
  serialNumber: '386-214-77',
  model: 'Five-seveN',
  type: WeaponType.WEAPON_TYPE_PISTOL,
  calibre: '5.7x28mm',
  year: 2013,
});
const AKM = marking({
  manufacturer: 'Izhmash',
  countryOfManufacture: 'RUS',
  serialNumber: 'AKM-1974-55120',
  model: 'AKM',
  type: WeaponType.WEAPON_TYPE_ASSAULT_RIFLE,
  calibre: '7.62x39mm',
  year: 1974,
});
const MP5 = marking({
  manufacturer: 'Heckler & Koch',
  countryOfManufacture: 'DEU',
  serialNumber: 'MP5-64-118822',
  model: 'MP5A3',
  type: WeaponType.WEAPON_TYPE_SUBMACHINE_GUN,
  calibre: '9x19mm',
  year: 1998,
});

/**
 * FRA's seizures, findings and surrenders (the demo's year, 2026, and one of 2025), in the
 * categories SDG 16.4.2 counts (docs/statistics.md 6): a pistol whose illicit origin a court
 * established, a pistol traced through KEN, a rifle KEN has no record of, a submachine gun whose
 * trace KEN has not answered, two surrendered weapons never traced, a lot of parts and one of
 * ammunition. The FNX-45 of the chain is not among them: FRA knows it from its trace request only.
 */
export const DEMO_SEIZURES: readonly Seizure[] = [
  {
    record: {
      manufacture: marking({
        manufacturer: 'Beretta',
        countryOfManufacture: 'ITA',
        serialNumber: 'BER-92-0047731',
        model: '92FS',
        type: WeaponType.WEAPON_TYPE_PISTOL,
        calibre: '9x19mm',
        year: 2004,
      }),
      status: WeaponStatus.WEAPON_STATUS_SEIZED,
      events: [
        event(E.WEAPON_EVENT_TYPE_SEIZED, {
          date: '2026-03-14',
          place: 'Lyon',
          agency: 'Police judiciaire',
          circumstance: C.SEIZURE_CIRCUMSTANCE_CRIME,
        }),
      ],
      illicitOrigin: {
        date: '2026-06-30',
        authority: 'Tribunal judiciaire de Lyon',
        basis: "judgment 2026/114: diverted from a licensed dealer's stock in Lyon",
      },
    },
  },
  {
    record: {
      manufacture: FIVE_SEVEN,
      imports: [{ country: 'KEN', year: 2014 }],
      status: WeaponStatus.WEAPON_STATUS_SEIZED,
      events: [
        event(E.WEAPON_EVENT_TYPE_SEIZED, {
          date: '2026-05-20',
          place: 'Calais',
          agency: 'Douane',
          circumstance: C.SEIZURE_CIRCUMSTANCE_TRAFFICKING,
        }),
      ],
    },
    traceTo: 'KEN',
    caseReference: 'OCLCO-2026-0088',
  },
  {
    record: {
      manufacture: AKM,
      imports: [{ country: 'KEN', year: 2009 }],
      status: WeaponStatus.WEAPON_STATUS_SEIZED,
      events: [
        event(E.WEAPON_EVENT_TYPE_SEIZED, {
          date: '2026-07-08',
          place: 'Marseille, port',
          agency: 'Douane',
          circumstance: C.SEIZURE_CIRCUMSTANCE_TRAFFICKING,
        }),
      ],
    },
    traceTo: 'KEN',
    caseReference: 'OCLCO-2026-0121',
  },
  {
    record: {
      manufacture: MP5,
      imports: [{ country: 'KEN', year: 2015 }],
      status: WeaponStatus.WEAPON_STATUS_FOUND,
      events: [
        event(E.WEAPON_EVENT_TYPE_FOUND, {
          date: '2026-08-17',
          place: 'Paris',
          agency: 'Préfecture de police',
          details: 'found in a cellar',
          circumstance: C.SEIZURE_CIRCUMSTANCE_FOUND,
        }),
      ],
    },
    traceTo: 'KEN',
    caseReference: 'OCLCO-2026-0133',
  },
  {
    record: {
      manufacture: marking({
        manufacturer: 'Manurhin',
        countryOfManufacture: 'FRA',
        serialNumber: 'MR73-D-40211',
        model: 'MR 73',
        type: WeaponType.WEAPON_TYPE_REVOLVER,
        calibre: '.357 Magnum',
        year: 1979,
      }),
      status: WeaponStatus.WEAPON_STATUS_SURRENDERED,
      events: [
        event(E.WEAPON_EVENT_TYPE_SURRENDERED, {
          date: '2026-04-02',
          place: 'Bordeaux',
          agency: 'Gendarmerie nationale',
          details: 'national surrender campaign',
          circumstance: C.SEIZURE_CIRCUMSTANCE_VOLUNTARY_SURRENDER,
        }),
      ],
    },
  },
  {
    record: {
      manufacture: marking({
        manufacturer: 'Verney-Carron',
        countryOfManufacture: 'FRA',
        serialNumber: 'VC-112-0932',
        model: 'Véga',
        type: WeaponType.WEAPON_TYPE_SHOTGUN,
        calibre: '12/70',
        year: 1988,
      }),
      status: WeaponStatus.WEAPON_STATUS_SURRENDERED,
      events: [
        event(E.WEAPON_EVENT_TYPE_SURRENDERED, {
          date: '2026-04-02',
          place: 'Bordeaux',
          agency: 'Gendarmerie nationale',
          details: 'national surrender campaign',
          circumstance: C.SEIZURE_CIRCUMSTANCE_VOLUNTARY_SURRENDER,
        }),
      ],
    },
  },
  {
    record: {
      itemCategory: ItemCategory.ITEM_CATEGORY_PART,
      quantity: 3,
      manufacture: marking({
        manufacturer: 'Anderson Manufacturing',
        countryOfManufacture: 'USA',
        serialNumber: '18-AM-40511',
        model: 'AM-15 lower receiver',
        type: WeaponType.WEAPON_TYPE_RIFLE,
        calibre: '5.56x45mm',
      }),
      status: WeaponStatus.WEAPON_STATUS_SEIZED,
      events: [
        event(E.WEAPON_EVENT_TYPE_SEIZED, {
          date: '2026-09-09',
          place: 'Le Havre',
          agency: 'Douane',
          details: 'three lower receivers in a parcel',
          circumstance: C.SEIZURE_CIRCUMSTANCE_TRAFFICKING,
        }),
      ],
    },
  },
  {
    record: {
      itemCategory: ItemCategory.ITEM_CATEGORY_AMMUNITION,
      quantity: 500,
      manufacture: marking({
        manufacturer: 'Sellier & Bellot',
        countryOfManufacture: 'CZE',
        serialNumber: 'SB-9-2024-117',
        model: '9 mm Luger FMJ',
        type: WeaponType.WEAPON_TYPE_OTHER,
        calibre: '9x19mm',
      }),
      status: WeaponStatus.WEAPON_STATUS_SEIZED,
      events: [
        event(E.WEAPON_EVENT_TYPE_SEIZED, {
          date: '2026-03-14',
          place: 'Lyon',
          agency: 'Police judiciaire',
          details: 'lot 2024-117, 500 rounds',
          circumstance: C.SEIZURE_CIRCUMSTANCE_CRIME,
        }),
      ],
    },
  },
  {
    // 2025: outside the demo's reporting year.
    record: {
      manufacture: marking({
        manufacturer: 'Glock',
        countryOfManufacture: 'AUT',
        serialNumber: 'BKR-771',
        model: '17',
        type: WeaponType.WEAPON_TYPE_PISTOL,
        calibre: '9x19mm',
        year: 2016,
      }),
      status: WeaponStatus.WEAPON_STATUS_SEIZED,
      events: [
        event(E.WEAPON_EVENT_TYPE_SEIZED, {
          date: '2025-11-20',
          place: 'Lille',
          agency: 'Police nationale',
          circumstance: C.SEIZURE_CIRCUMSTANCE_ILLICIT_POSSESSION,
        }),
      ],
    },
  },
];

/**
 * FRA's trace request for the demo's FNX-45, seized in Marseille on 2 October 2026 (what `npm run
 * demo` sends to BEL before following on to KEN).
 */
export function demoTraceRequest(): TraceRequest {
  return traceRequest(
    DEMO_WEAPON,
    'OCLCO-2026-0147',
    {
      kind: FindingKind.FINDING_KIND_SEIZED,
      date: '2026-10-02',
      place: 'Marseille',
      agency: 'Police judiciaire',
      description: 'seized during a search',
      circumstance: C.SEIZURE_CIRCUMSTANCE_CRIME,
    },
    [{ country: 'KEN', year: 2012 }],
  );
}

function traceRequest(
  markings: ManufactureMarking,
  caseReference: string,
  circumstances: NonNullable<TraceRequest['circumstances']>,
  imports: { country: string; year: number }[],
): TraceRequest {
  return TraceRequest.fromPartial({
    requestingAuthority: OCLCO,
    caseReference,
    priority: Priority.PRIORITY_ROUTINE,
    illicitCriteria: [
      { kind: IllicitKind.ILLICIT_KIND_NATIONAL_LAW, legalBasis: 'Code de la sécurité intérieure, art. L317-8' },
    ],
    circumstances,
    weapon: { markings, imports, manufactureMethod: 1 },
    intendedUse: 'criminal investigation and prosecution',
  });
}

/** BEL's record of the demo's FNX-45 (manufactured, exported to KEN) and KEN's (imported, stolen). */
export function demoChainRecords(): { bel: WeaponRecord; ken: WeaponRecord } {
  return {
    bel: WeaponRecord.fromPartial({
      manufacture: DEMO_WEAPON,
      manufactureMethod: 1,
      status: WeaponStatus.WEAPON_STATUS_EXPORTED,
      events: [
        event(E.WEAPON_EVENT_TYPE_MANUFACTURED, { date: '2011-05-17', place: 'Herstal', agency: 'FN Herstal' }),
        event(E.WEAPON_EVENT_TYPE_EXPORTED, {
          date: '2012-03-14',
          destination: 'KEN',
          licence: 'BE-EXP-2012-0413',
          endUser: 'Kenya Police Service',
        }),
      ],
    }),
    ken: WeaponRecord.fromPartial({
      manufacture: DEMO_WEAPON,
      imports: [{ country: 'KEN', year: 2012 }],
      manufactureMethod: 1,
      status: WeaponStatus.WEAPON_STATUS_STOLEN,
      events: [
        event(E.WEAPON_EVENT_TYPE_IMPORTED, { date: '2012-04-02', origin: 'BEL', licence: 'KE-IMP-2012-117' }),
        event(E.WEAPON_EVENT_TYPE_TRANSFERRED, {
          date: '2012-06-20',
          endUser: 'Kenya Police Service, Nairobi armoury',
        }),
        event(E.WEAPON_EVENT_TYPE_STOLEN, { date: '2019-08-03', place: 'Nairobi', agency: 'Kenya Police Service' }),
      ],
    }),
  };
}

/** KEN's record of the Five-seveN: imported from BEL in 2014, sold to a security company, stolen in 2021. */
function kenFiveSeven(): WeaponRecord {
  return WeaponRecord.fromPartial({
    manufacture: FIVE_SEVEN,
    imports: [{ country: 'KEN', year: 2014 }],
    manufactureMethod: 1,
    status: WeaponStatus.WEAPON_STATUS_STOLEN,
    events: [
      event(E.WEAPON_EVENT_TYPE_IMPORTED, { date: '2014-02-11', origin: 'BEL', licence: 'KE-IMP-2014-031' }),
      event(E.WEAPON_EVENT_TYPE_TRANSFERRED, {
        date: '2014-05-06',
        endUser: 'Securex Ltd, Mombasa',
        licence: 'KE-DL-2014-220',
      }),
      event(E.WEAPON_EVENT_TYPE_STOLEN, { date: '2021-01-19', place: 'Mombasa', agency: 'Kenya Police Service' }),
    ],
  });
}

/** Polls FRA's case until it reaches one of `states` (the demo's nodes answer within a second). */
async function until(node: LocalNode, caseId: string, states: readonly CaseState[], timeoutMs = 20_000): Promise<Case> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { case: c } = await node.cases.call('getCase', { caseId });
    if (c && states.includes(c.state)) return c;
    if (Date.now() > deadline) throw new Error(`${node.participantId} ${caseId} stayed ${CaseState[c?.state ?? 0]}`);
    await systemScheduler.sleep(20);
  }
}

/**
 * Seeds the demo federation's year of French seizures (docs/statistics.md 6): FRA's records of
 * {@link DEMO_SEIZURES}, KEN's record of the Five-seveN, and FRA's traces to KEN — the Five-seveN
 * answered TRACED by KEN's policy, the AKM answered "no record" by KEN's officer, the MP5 left
 * waiting. KEN must acknowledge and answer FRA automatically (its demo policy). Resolves when every
 * trace stands where the demo needs it; `say` reports progress.
 *
 * @example
 * ```ts
 * await seedDemoSeizures({ fra: federation.node('FRA'), ken: federation.node('KEN') });
 * ```
 */
export async function seedDemoSeizures(
  nodes: { fra: LocalNode; ken: LocalNode },
  say: (text: string) => void = () => {},
): Promise<void> {
  const { fra, ken } = nodes;
  await ken.records.call('putRecord', { record: kenFiveSeven() });
  const traced: Array<{ seizure: Seizure; caseId: string }> = [];
  for (const seizure of DEMO_SEIZURES) {
    const record = WeaponRecord.fromPartial({ manufactureMethod: 1, ...seizure.record });
    await fra.records.call('putRecord', { record });
    if (!seizure.traceTo || !seizure.caseReference) continue;
    const found = record.events[0] as WeaponEvent;
    const kind =
      found.type === E.WEAPON_EVENT_TYPE_FOUND ? FindingKind.FINDING_KIND_FOUND : FindingKind.FINDING_KIND_SEIZED;
    const request = traceRequest(
      record.manufacture as ManufactureMarking,
      seizure.caseReference,
      {
        kind,
        date: found.date,
        place: found.place,
        agency: found.agency,
        description: found.details,
        circumstance: found.circumstance,
      },
      record.imports,
    );
    const { case: c } = await fra.cases.call('createCase', { recipient: seizure.traceTo, request, send: true });
    traced.push({ seizure, caseId: c?.caseId ?? '' });
  }
  say(`seeded FRA's 2026 seizures: ${DEMO_SEIZURES.length} records, ${traced.length} traces to KEN`);
  const [fiveSeven, akm, mp5] = traced;
  const answered = [CaseState.CASE_STATE_ANSWERED, CaseState.CASE_STATE_RESTRICTED, CaseState.CASE_STATE_REFUSED];
  if (fiveSeven) await until(fra, fiveSeven.caseId, answered);
  if (mp5) await until(fra, mp5.caseId, [CaseState.CASE_STATE_ACKNOWLEDGED]);
  if (akm) {
    await until(fra, akm.caseId, [CaseState.CASE_STATE_ACKNOWLEDGED]);
    // KEN holds no record of the AKM: its policy leaves that to an officer, who answers "no record".
    const { cases } = await ken.cases.call(
      'listCases',
      ListCasesRequest.fromPartial({ role: CaseRole.CASE_ROLE_REQUESTED, peer: 'FRA', limit: 500 }),
    );
    const kenCase = cases.find((c) => c.request?.caseReference === akm.seizure.caseReference);
    if (!kenCase) throw new Error('KEN did not receive the AKM trace');
    await until(ken, kenCase.caseId, [CaseState.CASE_STATE_ACKNOWLEDGED]);
    await ken.cases.call(
      'answerCase',
      AnswerCaseRequest.fromPartial({
        caseId: kenCase.caseId,
        outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD,
        details: 'no import of this rifle is recorded in the Kenya national registry',
      }),
    );
    await until(fra, akm.caseId, answered);
  }
  say('KEN traced the Five-seveN (stolen in Mombasa), has no record of the AKM, and has not yet answered on the MP5');
}

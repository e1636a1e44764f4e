import {
  type Case,
  CaseRole,
  CaseState,
  FindingKind,
  ItemCategory,
  SdgStatus,
  SeizureCircumstance,
  TraceOutcome,
  WeaponEventType,
  WeaponRecord,
  WeaponType,
  type SdgItem,
  type SdgReport,
  type SdgRow,
  type TraceAnswer,
  type TraceRequest,
  type WeaponEvent,
} from '@tracenet/proto';
import type { AliasTable } from '../records/alias-table.js';
import { normaliseModel } from '../records/normalise.js';
import { identityOfRecord, sameWeapon, type WeaponIdentity } from '../registry/same-weapon.js';
import { dateOf, inPeriod, type ReportingPeriod } from './period.js';

/** What SDG indicator 16.4.2 is computed from: the node's own records and cases (docs/statistics.md 2). */
export interface SdgInputs {
  readonly participant: string;
  readonly period: ReportingPeriod;
  readonly nowMs: number;
  /** Every record of the node's own store. */
  readonly records: Iterable<WeaponRecord>;
  /** Every case of the node (only requester cases are read). */
  readonly cases: Iterable<Case>;
  /** The alias tables in force: manufacturers are compared in their canonical form. */
  readonly aliases: AliasTable;
}

const FINDING_EVENTS = new Map<WeaponEventType, string>([
  [WeaponEventType.WEAPON_EVENT_TYPE_SEIZED, 'seized'],
  [WeaponEventType.WEAPON_EVENT_TYPE_FOUND, 'found'],
  [WeaponEventType.WEAPON_EVENT_TYPE_SURRENDERED, 'surrendered'],
]);

/**
 * The seizure, finding or surrender of `record` in the period, if any: what makes the record an
 * item of the indicator (docs/protocol.md 20.2).
 */
export function findingIn(record: WeaponRecord, period: ReportingPeriod): WeaponEvent | undefined {
  return record.events.find((e) => FINDING_EVENTS.has(e.type) && inPeriod(e.date, period));
}
const FINDING_KINDS = new Map<FindingKind, string>([
  [FindingKind.FINDING_KIND_SEIZED, 'seized'],
  [FindingKind.FINDING_KIND_FOUND, 'found'],
  [FindingKind.FINDING_KIND_SURRENDERED, 'surrendered'],
]);
/** States in which a sent trace waits for the peer: the trace is open. */
const WAITING = new Set<CaseState>([
  CaseState.CASE_STATE_SENT,
  CaseState.CASE_STATE_ACKNOWLEDGED,
  CaseState.CASE_STATE_CLARIFICATION,
  CaseState.CASE_STATE_DELAYED,
]);

/** "Pistol" for WEAPON_TYPE_PISTOL; "Not given" for none. */
export function weaponTypeLabel(type: WeaponType): string {
  if (type === WeaponType.WEAPON_TYPE_UNSPECIFIED) return 'Type not given';
  return sentence(WeaponType[type] ?? 'WEAPON_TYPE_OTHER', 'WEAPON_TYPE_');
}

/** "Illicit trafficking" for SEIZURE_CIRCUMSTANCE_TRAFFICKING. */
export function circumstanceLabel(circumstance: SeizureCircumstance): string {
  const labels: Partial<Record<SeizureCircumstance, string>> = {
    [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_UNSPECIFIED]: 'Circumstance not given',
    [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_TRAFFICKING]: 'Illicit trafficking',
    [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_ILLICIT_POSSESSION]: 'Illicit possession',
    [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_CRIME]: 'Used or suspected in a crime',
    [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_CONFLICT]: 'Conflict or post-conflict setting',
    [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_DDR]: 'DDR programme',
    [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_VOLUNTARY_SURRENDER]: 'Voluntary surrender',
    [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_FOUND]: 'Found without an owner',
    [SeizureCircumstance.SEIZURE_CIRCUMSTANCE_OTHER]: 'Other',
  };
  return labels[circumstance] ?? 'Other';
}

/** "Ammunition" for ITEM_CATEGORY_AMMUNITION. */
export function categoryLabel(category: ItemCategory): string {
  return sentence(ItemCategory[category] ?? 'ITEM_CATEGORY_FIREARM', 'ITEM_CATEGORY_')
    .replace(/^Part$/, 'Parts and components')
    .replace(/^Accessory$/, 'Accessories');
}

/** "Not established" for SDG_STATUS_NOT_ESTABLISHED. */
export function statusLabel(status: SdgStatus): string {
  return sentence(SdgStatus[status] ?? 'SDG_STATUS_UNSPECIFIED', 'SDG_STATUS_');
}

function sentence(name: string, prefix: string): string {
  const words = name.replace(prefix, '').toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The identity of the weapon a request describes, compared with records by {@link sameWeapon}. */
function identityOfRequest(request: TraceRequest, aliases: AliasTable): WeaponIdentity {
  const weapon = request.weapon;
  return identityOfRecord(
    WeaponRecord.fromPartial({
      manufacture: weapon?.markings ?? {},
      ...(weapon?.controlComponent ? { controlComponent: weapon.controlComponent } : {}),
    }),
    aliases,
  );
}

/**
 * Things with a weapon identity, indexed by manufacturer and serial: {@link sameWeapon} needs both,
 * so only things sharing one such key are compared (a year of seizures against thousands of
 * traces stays linear, not a product).
 */
class IdentityIndex<T> {
  readonly #byKey = new Map<string, T[]>();
  constructor(private readonly identityOf: (thing: T) => WeaponIdentity) {}

  add(thing: T): void {
    const identity = this.identityOf(thing);
    if (identity.manufacturer === '') return;
    for (const serial of identity.serials) {
      const key = `${identity.manufacturer}\u0000${serial}`;
      const list = this.#byKey.get(key);
      if (list) list.push(thing);
      else this.#byKey.set(key, [thing]);
    }
  }

  /** The things that are the same weapon as `identity`, in the order they were added. */
  find(identity: WeaponIdentity): T[] {
    if (identity.manufacturer === '') return [];
    const found = new Set<T>();
    for (const serial of identity.serials)
      for (const thing of this.#byKey.get(`${identity.manufacturer}\u0000${serial}`) ?? [])
        if (sameWeapon(identity, this.identityOf(thing))) found.add(thing);
    return [...found];
  }
}

/** One chain of requester cases, first case first. */
interface Chain {
  readonly first: Case;
  readonly cases: readonly Case[];
  readonly identity: WeaponIdentity;
}

/** A TRACED answer of a case (its answer, or a restriction's partial answer). */
function tracedAnswer(c: Case): TraceAnswer | undefined {
  for (const answer of [c.answer, c.restriction?.partialAnswer])
    if (answer?.outcome === TraceOutcome.TRACE_OUTCOME_TRACED) return answer;
  return undefined;
}

/** When a case reached one of `states` first (its timeline), or 0. */
function reachedAt(c: Case, states: ReadonlySet<CaseState>): number {
  return c.timeline.find((t) => states.has(t.toState))?.atMs ?? 0;
}
const RESPONDED = new Set([
  CaseState.CASE_STATE_ANSWERED,
  CaseState.CASE_STATE_RESTRICTED,
  CaseState.CASE_STATE_REFUSED,
]);

/** Where one chain stands (docs/statistics.md 2.3), with the sentence that says why. */
function chainStatus(chain: Chain): { status: SdgStatus; basis: string } {
  const sent = chain.cases.filter((c) => c.state !== CaseState.CASE_STATE_DRAFT);
  const sentIds = new Set(sent.map((c) => c.caseId));
  if (sent.length === 0)
    return { status: SdgStatus.SDG_STATUS_NOT_ATTEMPTED, basis: `case ${chain.first.caseId} is a draft, never sent` };
  for (const c of sent) {
    if (tracedAnswer(c)) {
      const at = reachedAt(c, RESPONDED);
      // The answer says TRACED, or only the partial answer of a restriction does.
      const how =
        c.answer?.outcome === TraceOutcome.TRACE_OUTCOME_TRACED
          ? 'answered TRACED'
          : 'answered TRACED in part (restricted)';
      return {
        status: SdgStatus.SDG_STATUS_TRACED,
        basis: `case ${c.caseId}: ${c.peer} ${how}${at > 0 ? ` on ${dateOf(at)}` : ''}`,
      };
    }
  }
  for (const c of sent) {
    if (WAITING.has(c.state))
      return {
        status: SdgStatus.SDG_STATUS_PENDING,
        basis: `case ${c.caseId}: waiting for ${c.peer} (${CaseState[c.state]?.replace('CASE_STATE_', '').toLowerCase()})`,
      };
    const referred = [c.answer, c.restriction?.partialAnswer].find(
      (a) => a?.outcome === TraceOutcome.TRACE_OUTCOME_REFERRED,
    );
    const open = c.state === CaseState.CASE_STATE_ANSWERED || c.state === CaseState.CASE_STATE_RESTRICTED;
    // A follow-on still in draft has not taken the trace on yet.
    if (referred && open && !c.nextCaseIds.some((id) => sentIds.has(id)))
      return {
        status: SdgStatus.SDG_STATUS_PENDING,
        basis: `case ${c.caseId}: ${c.peer} referred the trace to ${referred.referral?.participant || 'another participant'}, not yet followed on`,
      };
  }
  const last = sent.at(-1) as Case;
  return { status: SdgStatus.SDG_STATUS_NOT_ESTABLISHED, basis: `case ${last.caseId}: ${concludedWithout(last)}` };
}

function concludedWithout(c: Case): string {
  if (c.state === CaseState.CASE_STATE_WITHDRAWN) return 'withdrawn';
  if (c.refusal || c.state === CaseState.CASE_STATE_REFUSED) return `${c.peer} refused`;
  const outcome = c.answer?.outcome ?? c.restriction?.partialAnswer?.outcome ?? TraceOutcome.TRACE_OUTCOME_UNSPECIFIED;
  const said =
    outcome === TraceOutcome.TRACE_OUTCOME_NO_RECORD
      ? 'answered no record'
      : outcome === TraceOutcome.TRACE_OUTCOME_INSUFFICIENT_INFORMATION
        ? 'answered insufficient information'
        : outcome === TraceOutcome.TRACE_OUTCOME_REFERRED
          ? 'referred the trace, closed without a follow-on'
          : c.restriction
            ? 'restricted its answer'
            : 'concluded without an answer';
  return `${c.peer} ${said}`;
}

/** The status of an item from its chains and its record (docs/statistics.md 2.3). */
function itemStatus(chains: readonly Chain[], record: WeaponRecord | undefined): { status: SdgStatus; basis: string } {
  const each = chains.map(chainStatus);
  const first = (status: SdgStatus) => each.find((s) => s.status === status);
  const traced = first(SdgStatus.SDG_STATUS_TRACED);
  if (traced) return traced;
  const finding = record?.illicitOrigin;
  if (finding)
    return {
      status: SdgStatus.SDG_STATUS_ESTABLISHED_OTHERWISE,
      basis: `established otherwise by ${finding.authority} on ${finding.date}: ${finding.basis}`,
    };
  const pending = first(SdgStatus.SDG_STATUS_PENDING);
  if (pending) return pending;
  const concluded = first(SdgStatus.SDG_STATUS_NOT_ESTABLISHED);
  if (concluded) return concluded;
  return {
    status: SdgStatus.SDG_STATUS_NOT_ATTEMPTED,
    basis: first(SdgStatus.SDG_STATUS_NOT_ATTEMPTED)?.basis ?? 'no trace request was made',
  };
}

/** The requester chains of the node, each with the identity of its first request. */
function chainsOf(cases: Iterable<Case>, aliases: AliasTable): Chain[] {
  const byChain = new Map<string, Case[]>();
  for (const c of cases) {
    if (c.role !== CaseRole.CASE_ROLE_REQUESTER) continue;
    const key = c.chainId || c.caseId;
    byChain.set(key, [...(byChain.get(key) ?? []), c]);
  }
  const chains: Chain[] = [];
  for (const members of byChain.values()) {
    const sorted = members.sort((a, b) => a.createdAtMs - b.createdAtMs || a.caseId.localeCompare(b.caseId));
    const first = sorted.find((c) => c.previousCaseId === '') ?? (sorted[0] as Case);
    if (!first.request) continue;
    chains.push({ first, cases: sorted, identity: identityOfRequest(first.request, aliases) });
  }
  return chains.sort(
    (a, b) => a.first.createdAtMs - b.first.createdAtMs || a.first.caseId.localeCompare(b.first.caseId),
  );
}

function caseIdsOf(chains: readonly Chain[]): string[] {
  return chains.flatMap((chain) => chain.cases.map((c) => c.caseId));
}

/**
 * SDG indicator 16.4.2 for a period (docs/statistics.md 2): the items seized, found or surrendered
 * in it — (a) the node's records with such an event dated in the period, (b) weapons known only
 * from the circumstances of the node's own trace requests — each with its status, and the tables
 * that count them. A pure function of its inputs: nothing is read or sent elsewhere.
 *
 * @example
 * ```ts
 * const report = computeSdg({ participant: 'FRA', period, nowMs, records, cases, aliases });
 * report.total?.proportion; // traced + established otherwise, over all firearms
 * ```
 */
export function computeSdg(inputs: SdgInputs): SdgReport {
  const { period, aliases } = inputs;
  const chains = chainsOf(inputs.cases, aliases);
  const chainIndex = new IdentityIndex<Chain>((chain) => chain.identity);
  for (const chain of chains) chainIndex.add(chain);
  const order = new Map(chains.map((chain, i) => [chain, i]));
  const items: SdgItem[] = [];
  const recordIdentities = new IdentityIndex<WeaponIdentity>((identity) => identity);
  const records = [...inputs.records].sort((a, b) => a.recordId.localeCompare(b.recordId));
  for (const record of records) {
    const event = findingIn(record, period);
    if (!event) continue;
    const identity = identityOfRecord(record, aliases);
    recordIdentities.add(identity);
    const category =
      record.itemCategory === ItemCategory.ITEM_CATEGORY_UNSPECIFIED
        ? ItemCategory.ITEM_CATEGORY_FIREARM
        : record.itemCategory;
    const firearm = category === ItemCategory.ITEM_CATEGORY_FIREARM;
    // The chains of this weapon: none for a record without a manufacturer or a serial.
    const mine = chainIndex.find(identity).sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    const { status, basis } = itemStatus(mine, record);
    const finding = FINDING_EVENTS.get(event.type) ?? '';
    items.push({
      recordId: record.recordId,
      caseIds: caseIdsOf(mine),
      finding,
      date: event.date,
      category,
      type: record.manufacture?.type ?? WeaponType.WEAPON_TYPE_UNSPECIFIED,
      manufacturer: record.manufacture?.manufacturer ?? '',
      model: record.manufacture?.model ?? '',
      circumstance: event.circumstance,
      status,
      quantity: firearm ? 1 : Math.max(record.quantity, 1),
      basis: `record ${record.recordId}: ${finding} on ${event.date}; ${basis}`,
    });
  }
  // Weapons known only from a trace request: first requests whose circumstances fall in the period
  // and whose weapon is none of the records above; requests for one weapon make one item.
  const loose: Chain[][] = [];
  const groups = new IdentityIndex<Chain[]>((group) => (group[0] as Chain).identity);
  for (const chain of chains) {
    const circumstances = chain.first.request?.circumstances;
    const finding = FINDING_KINDS.get(circumstances?.kind ?? FindingKind.FINDING_KIND_UNSPECIFIED);
    if (!circumstances || !finding || !inPeriod(circumstances.date, period)) continue;
    if (recordIdentities.find(chain.identity).length > 0) continue;
    const group = groups.find(chain.identity)[0];
    if (group) group.push(chain);
    else {
      loose.push([chain]);
      groups.add(loose.at(-1) as Chain[]);
    }
  }
  for (const group of loose) {
    const first = (group[0] as Chain).first;
    const request = first.request as TraceRequest;
    const circumstances = request.circumstances;
    const finding = FINDING_KINDS.get(circumstances?.kind ?? FindingKind.FINDING_KIND_UNSPECIFIED) ?? '';
    const { status, basis } = itemStatus(group, undefined);
    const markings = request.weapon?.markings;
    items.push({
      recordId: '',
      caseIds: caseIdsOf(group),
      finding,
      date: circumstances?.date ?? '',
      category: ItemCategory.ITEM_CATEGORY_FIREARM,
      type: markings?.type ?? WeaponType.WEAPON_TYPE_UNSPECIFIED,
      manufacturer: markings?.manufacturer ?? '',
      model: markings?.model ?? '',
      circumstance: circumstances?.circumstance ?? SeizureCircumstance.SEIZURE_CIRCUMSTANCE_UNSPECIFIED,
      status,
      quantity: 1,
      basis: `request ${first.caseId}: ${finding} on ${circumstances?.date ?? ''} (no record of this node); ${basis}`,
    });
  }
  items.sort(
    (a, b) =>
      a.date.localeCompare(b.date) ||
      a.recordId.localeCompare(b.recordId) ||
      (a.caseIds[0] ?? '').localeCompare(b.caseIds[0] ?? ''),
  );
  return tablesOf(inputs, items);
}

/** The tables of a report from its items. */
function tablesOf(inputs: SdgInputs, items: SdgItem[]): SdgReport {
  const firearms = items
    .map((item, index) => ({ item, index }))
    .filter(({ item }) => item.category === ItemCategory.ITEM_CATEGORY_FIREARM);
  const group = (dimension: string, keyOf: (item: SdgItem) => { key: string; label: string }, of = firearms) => {
    const rows = new Map<string, { key: string; label: string; indexes: number[] }>();
    for (const { item, index } of of) {
      const { key, label } = keyOf(item);
      const row = rows.get(key) ?? { key, label, indexes: [] };
      row.indexes.push(index);
      rows.set(key, row);
    }
    return [...rows.values()]
      .map((r) => rowOf(dimension, r.key, r.label, r.indexes, items))
      .sort((a, b) => Number(b.total - a.total) || a.label.localeCompare(b.label));
  };
  const others = items
    .map((item, index) => ({ item, index }))
    .filter(({ item }) => item.category !== ItemCategory.ITEM_CATEGORY_FIREARM);
  return {
    period: { fromDate: inputs.period.fromDate, toDate: inputs.period.toDate },
    participant: inputs.participant,
    computedAtMs: inputs.nowMs,
    total: rowOf(
      'total',
      'FIREARMS',
      'All firearms',
      firearms.map(({ index }) => index),
      items,
    ),
    byType: group('type', (item) => ({
      key: WeaponType[item.type] ?? String(item.type),
      label: weaponTypeLabel(item.type),
    })),
    byModel: group('model', (item) => {
      const name = `${item.manufacturer} ${item.model}`.trim();
      // Spellings of one manufacturer (the alias table) and of one model are one row.
      const key = `${inputs.aliases.canonical(item.manufacturer)} | ${normaliseModel(item.model)}`;
      return { key, label: name === '' ? 'Manufacturer and model not given' : name };
    }),
    byCircumstance: group('circumstance', (item) => ({
      key: SeizureCircumstance[item.circumstance] ?? String(item.circumstance),
      label: circumstanceLabel(item.circumstance),
    })),
    otherItems: [
      ItemCategory.ITEM_CATEGORY_PART,
      ItemCategory.ITEM_CATEGORY_ACCESSORY,
      ItemCategory.ITEM_CATEGORY_AMMUNITION,
    ].map((category) =>
      rowOf(
        'category',
        ItemCategory[category] ?? String(category),
        categoryLabel(category),
        others.filter(({ item }) => item.category === category).map(({ index }) => index),
        items,
      ),
    ),
    items,
  };
}

/** One row: the items' quantities summed by finding and by status. */
/** A table row: the items at `indexes` counted by finding and by status, quantities summed. */
export function rowOf(
  dimension: string,
  key: string,
  label: string,
  indexes: number[],
  items: readonly SdgItem[],
): SdgRow {
  const row: SdgRow = {
    dimension,
    key,
    label,
    seized: 0,
    found: 0,
    surrendered: 0,
    total: 0,
    traced: 0,
    establishedOtherwise: 0,
    pending: 0,
    notEstablished: 0,
    notAttempted: 0,
    proportion: 0,
    itemIndexes: indexes,
  };
  for (const index of indexes) {
    const item = items[index] as SdgItem;
    const n = item.quantity;
    if (item.finding === 'seized') row.seized += n;
    else if (item.finding === 'found') row.found += n;
    else row.surrendered += n;
    row.total += n;
    if (item.status === SdgStatus.SDG_STATUS_TRACED) row.traced += n;
    else if (item.status === SdgStatus.SDG_STATUS_ESTABLISHED_OTHERWISE) row.establishedOtherwise += n;
    else if (item.status === SdgStatus.SDG_STATUS_PENDING) row.pending += n;
    else if (item.status === SdgStatus.SDG_STATUS_NOT_ESTABLISHED) row.notEstablished += n;
    else row.notAttempted += n;
  }
  row.proportion = row.total === 0 ? 0 : (row.traced + row.establishedOtherwise) / row.total;
  return row;
}

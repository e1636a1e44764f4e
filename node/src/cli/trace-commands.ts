import { type Command, Option } from 'commander';
import {
  type AnswerCaseRequest,
  Case,
  CaseRole,
  CaseState,
  CasesClient,
  type CasesServer,
  ErrorCode,
  FindingKind,
  GetTraceChainResponse,
  IllicitKind,
  OnwardDisclosure,
  Priority,
  ReasonCode,
  TraceOutcome,
  type TraceAnswer,
  TraceRequest,
  TracenetError,
  type Undelivered,
  type UseRestrictions,
  WeaponType,
} from '@tracenet/proto';
import { connectUnary, type UnaryClient } from '../api/unary-client.js';
import { onwardName } from '../messages/restrictions.js';
import { describeAnswer, reasonName } from '../workflow/case-book.js';
import { stateName } from '../workflow/state-machine.js';
import { describeEvent } from './records-commands.js';
import { importMarks, photosFrom, recordedCheckLines, registerCheckCommand } from './check-commands.js';
import { flagLines, registerReexportCommands } from './reexport-commands.js';
import {
  choice,
  connection,
  dataOption,
  jsonOption,
  moreLine,
  morePages,
  output,
  type PagingOptions,
  pages,
  pagingOptions,
  readInput,
} from './context.js';
import { recirculationLine } from './destruction-commands.js';

const REASONS: Record<string, ReasonCode> = {
  investigation: ReasonCode.REASON_CODE_ONGOING_CRIMINAL_INVESTIGATION,
  confidentiality: ReasonCode.REASON_CODE_LEGAL_CONFIDENTIALITY,
  security: ReasonCode.REASON_CODE_NATIONAL_SECURITY,
  other: ReasonCode.REASON_CODE_OTHER,
};

function reasonOption(): Option {
  return new Option(
    '--reason <reason>',
    'ground: investigation (ongoing criminal investigation), confidentiality (legal), security (national), other',
  )
    .choices(Object.keys(REASONS))
    .makeOptionMandatory();
}

/** Readable one-line summary of a case. */
function caseLine(c: Case): string {
  const role =
    c.role === CaseRole.CASE_ROLE_REQUESTER ? 'to  ' : c.role === CaseRole.CASE_ROLE_SHARED ? 'via ' : 'from';
  const weapon = c.request?.weapon?.markings;
  const what = weapon ? `${weapon.manufacturer} ${weapon.model} ${weapon.serialNumber}`.trim() : '';
  const mark = c.undelivered ? `  ${undeliveredMark(c.undelivered)}` : '';
  return `${c.caseId}  ${role} ${c.peer.padEnd(10)} ${stateName(c.state).padEnd(13)}${c.overdue ? ' OVERDUE' : '        '}${c.panel ? ' PANEL' : '      '}  ${c.localReference || c.request?.caseReference || ''}  ${what}${mark}`;
}

/** Error codes of a message that never reached the peer (rather than one the peer refused). */
const NOT_REACHED = new Set(['EXPIRED', 'UNAVAILABLE', 'DEADLINE_EXCEEDED']);

/**
 * The mark of a case whose message failed for good, shown beside its state:
 * `REFUSED BY PEER: KIND_NOT_ALLOWED` (the peer's policy or checks said no), or
 * `NOT DELIVERED: EXPIRED` (the peer could not be reached in time).
 */
export function undeliveredMark(u: Undelivered): string {
  return NOT_REACHED.has(u.code) ? `NOT DELIVERED: ${u.code}` : `REFUSED BY PEER: ${u.code}`;
}

/** The lines of an answer as the officer reads it: outcome (with its record or referral), history, details. */
export function answerLines(a: TraceAnswer, indent = '  '): string[] {
  const lines = [`${indent}outcome: ${describeAnswer(a)}${a.automatic ? ' (automatic answer)' : ''}`];
  if (a.history.length > 0) lines.push(`${indent}history:`, ...a.history.map((e) => `${indent}  ${describeEvent(e)}`));
  if (a.details) lines.push(`${indent}details: ${a.details}`);
  return lines;
}

/** Readable full view of a case with its timeline, one line per element. */
export function caseText(c: Case): string[] {
  const lines = [
    `${c.caseId}  ${roleText(c)}  state ${stateName(c.state)}${c.overdue ? '  OVERDUE' : ''}${c.panel ? '  PANEL' : ''}`,
    `trace ${c.traceId}  chain ${c.chainId}${c.previousCaseId ? `  follows ${c.previousCaseId}` : ''}${c.nextCaseIds.length ? `  followed by ${c.nextCaseIds.join(', ')}` : ''}`,
    `references: ours ${c.localReference || '-'}, theirs ${c.peerReference || '-'}`,
  ];
  if (c.undelivered) {
    const u = c.undelivered;
    lines.push(
      `${undeliveredMark(u)}: the ${u.what} to ${u.recipient} (${iso(u.atMs)}, message ${u.messageId})${u.reason ? `: ${u.reason}` : ''}; withdraw the case or ask again`,
    );
  }
  if (c.recirculation) lines.push(recirculationLine(c.recirculation));
  if (c.request?.hitReference) lines.push(`opened from the hit ${c.request.hitReference} of a lookup`);
  const m = c.request?.weapon?.markings;
  if (m)
    lines.push(
      `weapon: ${m.manufacturer} ${m.model}, serial ${m.serialNumber}, ${(WeaponType[m.type] ?? '').replace('WEAPON_TYPE_', '').toLowerCase()}, ${m.calibre}`,
    );
  if (c.request?.intendedUse) lines.push(`intended use: ${c.request.intendedUse}`);
  lines.push(...recordedCheckLines(c.check));
  if (c.acknowledgeDueAtMs || c.answerDueAtMs)
    lines.push(`due: acknowledgement ${iso(c.acknowledgeDueAtMs)}, answer ${iso(c.answerDueAtMs)}`);
  if (c.delay)
    lines.push(
      `delayed: ${reasonName(c.delay.reason)}${c.delay.expectedBy ? `, answer expected by ${c.delay.expectedBy}` : ''}${c.delay.explanation ? `: ${c.delay.explanation}` : ''}`,
    );
  if (c.refusal)
    lines.push(`refused: ${reasonName(c.refusal.reason)}${c.refusal.explanation ? `: ${c.refusal.explanation}` : ''}`);
  if (c.restriction)
    lines.push(
      `restricted: ${reasonName(c.restriction.reason)}${c.restriction.explanation ? `: ${c.restriction.explanation}` : ''}`,
    );
  if (c.withdrawal) lines.push(`withdrawn${c.withdrawal.reason ? `: ${c.withdrawal.reason}` : ''}`);
  for (const q of c.clarifications)
    lines.push(`question: ${q.question}`, `  reply: ${q.answeredAtMs ? q.answer : '(none yet)'}`);
  if (c.shared) {
    lines.push(
      `shared by ${c.peer}, provided by ${c.shared.provider}${c.shared.providerTraceId ? ` (trace ${c.shared.providerTraceId})` : ''}${c.shared.note ? `; note: ${c.shared.note}` : ''}`,
    );
    if (c.shared.answer) lines.push('shared answer:', ...answerLines(c.shared.answer));
  }
  const answer = c.answer ?? c.restriction?.partialAnswer;
  if (answer) lines.push(c.answer ? 'answer:' : 'partial answer:', ...answerLines(answer));
  const restrictions = c.answer?.restrictions ?? c.restriction?.partialAnswer?.restrictions ?? c.shared?.restrictions;
  if (restrictions)
    lines.push(
      `use restrictions: ${restrictionsText(restrictions)}${c.retainUntilMs ? `; held until ${iso(c.retainUntilMs)}` : ''}`,
    );
  // Values the answering state's release policy withheld: shown, never silently missing (protocol 12.11).
  for (const w of (c.answer ?? c.restriction?.partialAnswer)?.withheld ?? [])
    lines.push(
      `withheld: ${w.field}${w.availableOnRequest ? ' (available on request)' : ''}${w.reason ? `: ${w.reason}` : ''}`,
    );
  if (c.purgedAtMs) lines.push(`purged ${iso(c.purgedAtMs)} at the end of its retention`);
  for (const x of c.consents)
    lines.push(
      `consent ${x.consentId} for ${x.thirdParticipant}: ${x.decidedAtMs ? (x.granted ? 'granted' : 'refused') : 'open'}${x.conditions ? ` (${x.conditions})` : ''}`,
    );
  for (const d of c.disclosures) lines.push(`disclosed to ${d.thirdParticipant} ${iso(d.disclosedAtMs)} (${d.basis})`);
  for (const f of c.reexportFlags) lines.push(...flagLines(f));
  lines.push('timeline:');
  for (const t of c.timeline) lines.push(`  ${iso(t.atMs)}  ${t.actor.padEnd(10)} ${t.summary}`);
  return lines;
}

function roleText(c: Case): string {
  if (c.role === CaseRole.CASE_ROLE_REQUESTER) return `request to ${c.peer}`;
  if (c.role === CaseRole.CASE_ROLE_SHARED) return `information of ${c.shared?.provider ?? '?'} shared by ${c.peer}`;
  return `request from ${c.peer}`;
}

/** "onward with consent, 1825 days, purpose: ...". */
function restrictionsText(r: UseRestrictions): string {
  const listed = r.listedParticipants.length ? ` (${r.listedParticipants.join(', ')})` : '';
  return `onward ${onwardName(r.onwardDisclosure)}${listed}, ${r.retentionDays} days, purpose: ${r.purpose}`;
}

const ONWARD: Record<string, OnwardDisclosure> = {
  none: OnwardDisclosure.ONWARD_DISCLOSURE_NONE,
  consent: OnwardDisclosure.ONWARD_DISCLOSURE_WITH_CONSENT,
  listed: OnwardDisclosure.ONWARD_DISCLOSURE_LISTED,
};

/** The officer's tightening of the policy's restrictions, when any flag is given. */
function restrictionsFrom(options: Record<string, string | undefined>): UseRestrictions | undefined {
  if (!options.onward && !options.listed && !options.retentionDays && !options.purpose) return undefined;
  const retentionDays = options.retentionDays ? Number(options.retentionDays) : 0;
  if (!Number.isInteger(retentionDays) || retentionDays < 0)
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, '--retention-days must be a whole number of days', {
      field: 'retention-days',
      rule: 'integer',
    });
  const listed = options.listed
    ? options.listed
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '')
    : [];
  return {
    purpose: options.purpose ?? '',
    onwardDisclosure: options.onward
      ? (ONWARD[options.onward] ?? 0)
      : listed.length
        ? OnwardDisclosure.ONWARD_DISCLOSURE_LISTED
        : 0,
    listedParticipants: listed,
    retentionDays,
  };
}

function iso(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString().replace('.000Z', 'Z') : '-';
}

/**
 * Applies the request-content flags that `trace create` and `lookups trace` share — criterion,
 * circumstances, intended use, authority, reference, priority — to `base`.
 */
export function applyRequestFlags(base: TraceRequest, flag: (name: string) => string | undefined): void {
  const criterion = flag('criterion');
  if (criterion) {
    const [kind = '', ...basis] = criterion.split(':');
    base.illicitCriteria.push({
      kind: choice<IllicitKind>(IllicitKind, 'ILLICIT_KIND_', kind, 'criterion'),
      legalBasis: basis.join(':').trim(),
    });
  }
  const finding = flag('finding');
  if (finding || flag('date') || flag('place') || flag('agency')) {
    base.circumstances = {
      kind: finding
        ? choice<FindingKind>(FindingKind, 'FINDING_KIND_', finding, 'finding')
        : (base.circumstances?.kind ?? 0),
      date: flag('date') ?? base.circumstances?.date ?? '',
      place: flag('place') ?? base.circumstances?.place ?? '',
      agency: flag('agency') ?? base.circumstances?.agency ?? '',
      description: base.circumstances?.description ?? '',
      circumstance: base.circumstances?.circumstance ?? 0,
    };
  }
  const set = (name: string, apply: (value: string) => void) => {
    const value = flag(name);
    if (value) apply(value);
  };
  set('intendedUse', (v) => (base.intendedUse = v));
  set('authority', (v) => (base.requestingAuthority = v));
  set('reference', (v) => (base.caseReference = v));
  set('priority', (v) => (base.priority = choice<Priority>(Priority, 'PRIORITY_', v, 'priority')));
  set('justification', (v) => (base.urgencyJustification = v));
}

/** The flag that gives each part of a trace request (the request's field path, indexes as []). */
const REQUEST_FLAGS: Record<string, string> = {
  requesting_authority: '--authority',
  case_reference: '--reference',
  priority: '--priority',
  urgency_justification: '--justification',
  illicit_criteria: '--criterion',
  'illicit_criteria[].kind': '--criterion',
  'illicit_criteria[].legal_basis': '--criterion (the legal basis after the colon)',
  circumstances: '--finding, --date and --place',
  'circumstances.kind': '--finding',
  'circumstances.date': '--date',
  'circumstances.place': '--place',
  'circumstances.agency': '--agency',
  'weapon.markings': '--manufacturer, --serial, --type and --calibre',
  'weapon.markings.manufacturer': '--manufacturer',
  'weapon.markings.serial_number': '--serial',
  'weapon.markings.model': '--model',
  'weapon.markings.type': '--type',
  'weapon.markings.calibre': '--calibre',
  'weapon.markings.country_of_manufacture': '--country',
  'weapon.markings.year': '--year',
  'weapon.imports': '--import',
  'weapon.photos': '--photo',
  'weapon.serial_obliterated': '--obliterated',
  intended_use: '--intended-use',
};

/** The flag for a violation of a trace request's content, or `--file (<path>)` for a part no flag sets. */
export function requestFlag(field: string): string {
  const path = field.replace(/^(.*\.)?request\./, '').replace(/\[\d+\]/g, '[]');
  return REQUEST_FLAGS[path] ?? `--file (${path})`;
}

/**
 * REQUEST_INCOMPLETE as an officer at the command line reads it: every missing or wrong item,
 * each named by the flag that gives it (`--criterion: at least one illicit criterion ... is
 * required`), not by the request's internal field path. Other errors are returned as they are.
 */
export function requestIncompleteForCli(error: unknown): unknown {
  const failure = TracenetError.from(error);
  if (failure.codeName !== 'REQUEST_INCOMPLETE' || failure.violations.length === 0) return error;
  const items = failure.violations.map((v) => `${requestFlag(v.field)}: ${v.message}`);
  const first = failure.violations[0];
  return new TracenetError(
    ErrorCode.ERROR_CODE_REQUEST_INCOMPLETE,
    `the trace request lacks ${items.length === 1 ? 'an item' : `${items.length} items`}: ${items.join('; ')}`,
    {
      field: first ? (requestFlag(first.field).split(' ')[0]?.replace(/,$/, '') ?? '') : '',
      rule: first?.rule ?? '',
      violations: failure.violations.map((v) => ({ ...v, field: requestFlag(v.field) })),
      cause: error,
    },
  );
}

/** Builds the request content from flags, on top of an optional JSON file. */
async function requestFrom(options: Record<string, string | undefined>): Promise<TraceRequest> {
  const base = options.file
    ? TraceRequest.fromJSON(
        JSON.parse(await readInput(options.file, `request file ${options.file} does not exist`, 'file')),
      )
    : TraceRequest.fromJSON({});
  const weapon = base.weapon ?? {
    markings: undefined,
    imports: [],
    governmentTransfer: undefined,
    controlComponent: undefined,
    components: [],
    manufactureMethod: 0,
    photos: [],
    otherInformation: '',
    serialObliterated: false,
  };
  const markings = weapon.markings ?? {
    manufacturer: '',
    countryOfManufacture: '',
    serialNumber: '',
    model: '',
    type: 0,
    calibre: '',
    year: 0,
  };
  if (options.manufacturer) markings.manufacturer = options.manufacturer;
  if (options.model) markings.model = options.model;
  if (options.serial) markings.serialNumber = options.serial;
  if (options.calibre) markings.calibre = options.calibre;
  if (options.country) markings.countryOfManufacture = options.country;
  if (options.type) markings.type = choice<WeaponType>(WeaponType, 'WEAPON_TYPE_', options.type, 'type');
  if (options.year) {
    if (!/^\d{4}$/.test(options.year))
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, '--year must be a year of four digits', {
        field: 'year',
        rule: 'format',
      });
    markings.year = Number(options.year);
  }
  if (options.import) weapon.imports = importMarks(options.import);
  if (options.photo) weapon.photos = await photosFrom(options.photo);
  if (options.obliterated) weapon.serialObliterated = true;
  weapon.markings = markings;
  base.weapon = weapon;
  applyRequestFlags(base, (name) => options[name]);
  return base;
}

function answerFrom(options: Record<string, string | undefined>): Omit<AnswerCaseRequest, 'caseId'> {
  const outcome = choice<TraceOutcome>(TraceOutcome, 'TRACE_OUTCOME_', options.outcome ?? '', 'outcome');
  return {
    outcome,
    lastLegalRecord: options.lastLegalRecord ?? '',
    pointOfDiversion: options.pointOfDiversion ?? '',
    referral: options.referredTo
      ? { participant: options.referredTo, basis: options.basis ?? '', event: undefined }
      : undefined,
    history: [],
    details: options.details ?? '',
    restrictions: restrictionsFrom(options),
    release: (options.release ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== ''),
  };
}

function answerOptions(command: Command, required: boolean): Command {
  const outcome = new Option('--outcome <outcome>', 'traced, referred, no-record or insufficient-information');
  return command
    .addOption(required ? outcome.makeOptionMandatory() : outcome)
    .option('--last-legal-record <text>', 'traced: the last legal record')
    .option('--point-of-diversion <text>', 'traced: where the weapon left legal control, when known')
    .option('--referred-to <participant>', 'referred: the next participant in the line of supply')
    .option('--basis <text>', 'referred: why, e.g. "exported to KEN on 2012-03-14 under licence L"')
    .option('--details <text>', 'free text')
    .option(
      '--release <fields>',
      'comma-separated fields you confirm for release although the release policy asks for approval or keeps them for a request, e.g. history.end_user',
    )
    .addOption(
      new Option(
        '--onward <disclosure>',
        "tighten onward disclosure: none, consent or listed (never looser than the peer's policy)",
      ).choices(Object.keys(ONWARD)),
    )
    .option(
      '--listed <participants>',
      'listed: comma-separated participants that may receive the answer, e.g. org:UN-POE',
    )
    .option('--retention-days <n>', "shorter retention than the peer's policy, in days")
    .option('--purpose <text>', 'what the answer may be used for (default: the intended use of the request)');
}

/** The flags that give a trace request's content, shared by `trace create` and `trace check`. */
function requestOptions(command: Command): Command {
  return command
    .option('--file <json>', 'request content as JSON (TraceRequest fields); flags override it')
    .option('--manufacturer <name>', 'manufacturer as marked')
    .option('--model <model>', 'model as marked')
    .option('--serial <serial>', 'serial number as marked')
    .option(
      '--type <type>',
      'pistol, revolver, rifle, carbine, shotgun, submachine-gun, assault-rifle, machine-gun, ...',
    )
    .option('--calibre <calibre>', 'calibre as marked, e.g. 9x19mm')
    .option('--country <iso3>', 'country of manufacture as marked')
    .option(
      '--criterion <kind:legal basis>',
      'illicit criterion and its legal basis, e.g. "national-law:Code pénal art. 222-52"',
    )
    .option('--finding <kind>', 'seized, found or surrendered')
    .option('--date <YYYY-MM-DD>', 'date of the finding')
    .option('--place <place>', 'place of the finding')
    .option('--agency <agency>', 'agency that seized or found it')
    .option('--intended-use <text>', 'what the information will be used for')
    .option('--authority <name>', 'requesting authority')
    .option('--reference <ref>', 'your case reference')
    .option('--priority <priority>', 'routine or urgent', 'routine')
    .option('--justification <text>', 'why it is urgent')
    .option('--year <yyyy>', 'year of manufacture as marked')
    .option('--import <marks>', 'import marks, comma-separated COUNTRY[:YEAR], e.g. COD:2015')
    .option('--photo <files>', 'photos of the markings, comma-separated .jpg or .png files')
    .option('--obliterated', 'the serial is obliterated, wholly or in part (write "?" for each illegible character)');
}

/**
 * Registers `tracenet trace ...`: the ITI workflow from the command line, through the running
 * node's Authority API. `--json` prints the proto3 JSON mapping (`Case.toJSON`: enum names,
 * base64 bytes, default values left out), the same form `trace create --file` reads.
 */
export function registerTraceCommands(program: Command): void {
  const trace = program.command('trace').description('ITI traces: create, follow and answer trace requests');

  /** Runs `work` with a Cases client of the node in --data, printing the resulting case. */
  const withCases =
    (
      work: (
        cases: UnaryClient<CasesServer>,
        args: string[],
        options: Record<string, string | undefined>,
      ) => Promise<Case>,
    ) =>
    async (...all: unknown[]) => {
      const command = all.at(-1) as Command;
      const options = command.opts<Record<string, string | undefined> & { data: string; json?: boolean }>();
      const args = all.slice(0, -2).map(String);
      const { address, token, channel } = await connection(options.data);
      const cases = connectUnary<CasesServer>(CasesClient, address, token, channel);
      try {
        const c = await work(cases, args, options).catch((error: unknown) => {
          throw requestIncompleteForCli(error);
        });
        output(Boolean(options.json), Case.toJSON(c), () => caseText(c));
      } finally {
        cases.close();
      }
    };
  const caseCommand = (name: string, description: string) =>
    trace
      .command(name)
      .description(description)
      .argument('<case>', 'case id, e.g. case-000001')
      .addOption(dataOption())
      .addOption(jsonOption());

  requestOptions(
    trace
      .command('create')
      .description('create a trace request and send it (or keep it as a draft)')
      .requiredOption('--to <participant>', 'participant to ask, e.g. BEL'),
  )
    .option('--draft', 'keep as a draft instead of sending')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(
      withCases(async (cases, _args, options) => {
        const request = await requestFrom(options);
        return (await cases.call('createCase', { recipient: options.to ?? '', request, send: !options.draft }))
          .case as Case;
      }),
    );

  registerCheckCommand(trace, requestOptions, requestFrom);

  caseCommand('send', 'send a draft').action(
    withCases(async (cases, [caseId = '']) => (await cases.call('sendCase', { caseId })).case as Case),
  );
  caseCommand('show', 'show a case with its timeline').action(
    withCases(async (cases, [caseId = '']) => (await cases.call('getCase', { caseId })).case as Case),
  );

  pagingOptions(
    trace
      .command('list')
      .description('list cases, newest first, a page at a time (--all: every page)')
      .addOption(
        new Option('--role <role>', 'requester (ours), requested (theirs) or shared (shared with us)').choices([
          'requester',
          'requested',
          'shared',
        ]),
      )
      .addOption(
        new Option('--state <state>', 'only cases in this state').choices(
          Object.keys(CaseState)
            .filter((k) => k.startsWith('CASE_STATE_') && !k.endsWith('UNSPECIFIED'))
            .map((k) => stateName(CaseState[k as keyof typeof CaseState] as CaseState)),
        ),
      )
      .option('--peer <participant>', 'only cases with this participant')
      .option('--overdue', 'only overdue cases'),
    500,
  )
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(
      async (
        options: PagingOptions & {
          role?: string;
          state?: string;
          peer?: string;
          overdue?: boolean;
          data: string;
          json?: boolean;
        },
      ) => {
        const { address, token, channel } = await connection(options.data);
        const cases = connectUnary<CasesServer>(CasesClient, address, token, channel);
        try {
          const page = await pages(options, async (cursor, limit) => {
            const result = await cases.call('listCases', {
              role:
                options.role === 'requester'
                  ? CaseRole.CASE_ROLE_REQUESTER
                  : options.role === 'requested'
                    ? CaseRole.CASE_ROLE_REQUESTED
                    : options.role === 'shared'
                      ? CaseRole.CASE_ROLE_SHARED
                      : CaseRole.CASE_ROLE_UNSPECIFIED,
              state: options.state
                ? (CaseState[`CASE_STATE_${options.state.toUpperCase()}` as keyof typeof CaseState] as CaseState)
                : CaseState.CASE_STATE_UNSPECIFIED,
              peer: options.peer ?? '',
              overdueOnly: Boolean(options.overdue),
              limit,
              cursor,
            });
            return { items: result.cases, next: result.nextCursor };
          });
          morePages(options.json, page.next);
          output(
            options.json,
            page.items.map((c) => Case.toJSON(c)),
            () => (page.items.length === 0 ? ['No cases.'] : [...page.items.map(caseLine), ...moreLine(page.next)]),
          );
        } finally {
          cases.close();
        }
      },
    );

  caseCommand('ack', 'acknowledge a received request')
    .option('--reference <ref>', 'your case reference (assigned when absent)')
    .action(
      withCases(
        async (cases, [caseId = ''], o) =>
          (await cases.call('acknowledgeCase', { caseId, reference: o.reference ?? '' })).case as Case,
      ),
    );

  answerOptions(caseCommand('answer', 'answer a received request'), true).action(
    withCases(
      async (cases, [caseId = ''], o) => (await cases.call('answerCase', { caseId, ...answerFrom(o) })).case as Case,
    ),
  );

  caseCommand('delay', 'tell the requester the answer will be late, and why')
    .addOption(reasonOption())
    .requiredOption('--explanation <text>', 'explanation for the requester')
    .option('--expected-by <YYYY-MM-DD>', 'when an answer can be expected')
    .action(
      withCases(
        async (cases, [caseId = ''], o) =>
          (
            await cases.call('delayCase', {
              caseId,
              reason: REASONS[o.reason ?? ''] ?? 0,
              explanation: o.explanation ?? '',
              expectedBy: o.expectedBy ?? '',
            })
          ).case as Case,
      ),
    );

  answerOptions(caseCommand('restrict', 'answer with part of the information only, and say why'), false)
    .addOption(reasonOption())
    .requiredOption('--explanation <text>', 'explanation for the requester')
    .action(
      withCases(async (cases, [caseId = ''], o) => {
        const partialAnswer = o.outcome ? { caseId, ...answerFrom(o) } : undefined;
        return (
          await cases.call('restrictCase', {
            caseId,
            reason: REASONS[o.reason ?? ''] ?? 0,
            explanation: o.explanation ?? '',
            partialAnswer,
          })
        ).case as Case;
      }),
    );

  caseCommand('refuse', 'refuse a received request, with its reason')
    .addOption(reasonOption())
    .requiredOption('--explanation <text>', 'explanation for the requester')
    .action(
      withCases(
        async (cases, [caseId = ''], o) =>
          (
            await cases.call('refuseCase', {
              caseId,
              reason: REASONS[o.reason ?? ''] ?? 0,
              explanation: o.explanation ?? '',
            })
          ).case as Case,
      ),
    );

  caseCommand('clarify', 'ask the requester a question (requested side)')
    .requiredOption('--question <text>', 'the question')
    .action(
      withCases(
        async (cases, [caseId = ''], o) =>
          (await cases.call('requestClarification', { caseId, question: o.question ?? '' })).case as Case,
      ),
    );

  caseCommand('reply', "answer the requested participant's question (requester side)")
    .requiredOption('--answer <text>', 'the answer')
    .action(
      withCases(
        async (cases, [caseId = ''], o) =>
          (await cases.call('replyClarification', { caseId, answer: o.answer ?? '', weapon: undefined })).case as Case,
      ),
    );

  caseCommand('close', 'close an answered, restricted or refused case with feedback')
    .option('--not-useful', 'the answer did not help')
    .option('--feedback <text>', 'feedback for the requested participant')
    .action(
      withCases(
        async (cases, [caseId = ''], o) =>
          (await cases.call('closeCase', { caseId, useful: !o.notUseful, feedback: o.feedback ?? '' })).case as Case,
      ),
    );

  caseCommand('withdraw', 'withdraw a request')
    .option('--reason <text>', 'why')
    .action(
      withCases(
        async (cases, [caseId = ''], o) =>
          (await cases.call('withdrawCase', { caseId, reason: o.reason ?? '' })).case as Case,
      ),
    );

  caseCommand('follow-on', 'open the follow-on case to the participant a referred answer names')
    .option('--intended-use <text>', 'changed intended use')
    .option('--information <text>', 'information to add for the next participant')
    .option('--draft', 'keep as a draft instead of sending')
    .action(
      withCases(
        async (cases, [caseId = ''], o) =>
          (
            await cases.call('followOn', {
              caseId,
              intendedUse: o.intendedUse ?? '',
              otherInformation: o.information ?? '',
              send: !o.draft,
            })
          ).case as Case,
      ),
    );

  caseCommand(
    'share',
    "pass an answer on to a third participant, as its use restrictions or the provider's consent allow; the provider is notified",
  )
    .requiredOption('--to <participant>', 'third participant, e.g. org:UN-POE')
    .option('--note <text>', 'note for the third participant')
    .action(
      withCases(
        async (cases, [caseId = ''], o) =>
          (await cases.call('shareCase', { caseId, thirdParticipant: o.to ?? '', note: o.note ?? '' })).case as Case,
      ),
    );

  const consent = trace
    .command('consent')
    .description("consent of an answer's provider to its disclosure to a third participant");
  const consentCommand = (name: string, description: string) =>
    consent
      .command(name)
      .description(description)
      .argument('<case>', 'case id')
      .addOption(dataOption())
      .addOption(jsonOption());
  consentCommand('request', 'ask the provider of the answer to consent to its disclosure (requester side)')
    .requiredOption('--to <participant>', 'third participant, e.g. org:UN-POE')
    .requiredOption('--reason <text>', 'why the information should go to it')
    .action(
      withCases(
        async (cases, [caseId = ''], o) =>
          (await cases.call('requestConsent', { caseId, thirdParticipant: o.to ?? '', reason: o.reason ?? '' }))
            .case as Case,
      ),
    );
  consentCommand('grant', 'grant the open consent request (provider side)')
    .option('--consent-id <id>', 'the request to decide (needed when several are open)')
    .option('--conditions <text>', 'conditions of the consent')
    .action(
      withCases(
        async (cases, [caseId = ''], o) =>
          (
            await cases.call('decideConsent', {
              caseId,
              consentId: o.consentId ?? '',
              granted: true,
              conditions: o.conditions ?? '',
            })
          ).case as Case,
      ),
    );
  consentCommand('deny', 'refuse the open consent request (provider side)')
    .option('--consent-id <id>', 'the request to decide (needed when several are open)')
    .option('--reason <text>', 'why')
    .action(
      withCases(
        async (cases, [caseId = ''], o) =>
          (
            await cases.call('decideConsent', {
              caseId,
              consentId: o.consentId ?? '',
              granted: false,
              conditions: o.reason ?? '',
            })
          ).case as Case,
      ),
    );

  registerReexportCommands(trace, caseText);

  trace
    .command('chain')
    .description('show the whole line of supply: every case of the chain, in order')
    .argument('<case>', 'any case of the chain')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (caseId: string, options: { data: string; json?: boolean }) => {
      const { address, token, channel } = await connection(options.data);
      const cases = connectUnary<CasesServer>(CasesClient, address, token, channel);
      try {
        const chain = await cases.call('getTraceChain', { caseId });
        output(options.json, GetTraceChainResponse.toJSON(chain), () => chainText(chain.chainId, chain.cases));
      } finally {
        cases.close();
      }
    });
}

/** The line of supply as text: one block per case, in chain order, one line per element. */
export function chainText(chainId: string, cases: readonly Case[]): string[] {
  const lines = [`trace chain ${chainId}: ${cases.map((c) => c.peer).join(' → ')}`];
  cases.forEach((c, i) => {
    lines.push('', `${i + 1}. ${c.caseId} → ${c.peer} (${stateName(c.state)})`);
    for (const f of c.reexportFlags) lines.push(...flagLines(f, false, '   '));
    for (const t of c.timeline) lines.push(`   ${iso(t.atMs)}  ${t.actor.padEnd(10)} ${t.summary}`);
  });
  return lines;
}

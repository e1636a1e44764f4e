import { readFile, writeFile } from 'node:fs/promises';
import type { Command, Option } from 'commander';
import {
  type DestructionCertificate,
  DestructionCertificateBody,
  DestructionState,
  ErrorCode,
  type RecirculationFinding,
  type RecordDestructionRequest,
  type RecordsClient,
  TracenetError,
  type VerifyDestructionCertificateRequest,
  type VerifyDestructionCertificateResponse,
  type WeaponRecord,
  WeaponStatus,
} from '@tracenet/proto';
import { certificateFile, readCertificateFile } from '../records/destruction.js';
import { enumShortName, EVENT_TYPE, ITEM_CATEGORY, SEIZURE_CIRCUMSTANCE } from '../records/record-json.js';

/** What the destruction commands borrow from `tracenet records`. */
export interface DestructionCommandDeps {
  withClient<T>(dataDir: string, work: (client: RecordsClient, token: string) => Promise<T>): Promise<T>;
  call<Req, Res>(
    client: RecordsClient,
    method: (request: Req, ...rest: never[]) => unknown,
    request: Req,
    token: string,
  ): Promise<Res>;
  print(json: boolean | undefined, value: unknown, lines: () => readonly string[]): void;
  dataOption(): Option;
  jsonOption(): Option;
  recordToJson(record: WeaponRecord): Record<string, unknown>;
  /** Exit code 1 for a certificate that is not valid. */
  setExitCode(code: number): void;
}

const CIRCUMSTANCE_WORDS: Readonly<Record<number, string>> = {
  1: 'illicit trafficking',
  2: 'illicit possession',
  3: 'used or suspected of use in a crime',
  4: 'collected in a conflict setting',
  5: 'collected in a DDR programme',
  6: 'voluntary surrender',
  7: 'found without an owner',
  8: 'other',
};

const CATEGORY_WORDS: Readonly<Record<number, string>> = {
  1: 'firearm',
  2: 'part or component',
  3: 'accessory',
  4: 'ammunition',
};

/**
 * The lines `records show` adds for the fields of docs/protocol.md 19.1: what the item is, an
 * illicit origin established otherwise, the collection, and the destruction.
 */
export function ddrLines(r: WeaponRecord): string[] {
  const lines: string[] = [];
  if (r.itemCategory > 1 || r.quantity > 1)
    lines.push(
      `  item: ${CATEGORY_WORDS[r.itemCategory] ?? enumShortName(ITEM_CATEGORY, r.itemCategory)}${r.quantity > 1 ? `, ${r.quantity.toLocaleString('en')} ${r.itemCategory === 4 ? 'rounds' : 'items'}` : ''}`,
    );
  for (const e of r.events.filter((event) => event.circumstance !== 0))
    lines.push(
      `  circumstance of the ${enumShortName(EVENT_TYPE, e.type)} event of ${e.date}: ${CIRCUMSTANCE_WORDS[e.circumstance] ?? enumShortName(SEIZURE_CIRCUMSTANCE, e.circumstance)}`,
    );
  const o = r.illicitOrigin;
  if (o) lines.push(`  illicit origin established on ${o.date} by ${o.authority}: ${o.basis}`);
  const c = r.collection;
  if (c) {
    lines.push(
      `  collected: ${c.date} in ${c.programme} at ${c.collectionPoint}${c.conflictSetting ? ' (conflict setting)' : ''}`,
    );
    if (c.uniqueMark) lines.push(`  unique mark applied at collection: ${c.uniqueMark}`);
  }
  const d = r.destruction;
  if (d?.state === DestructionState.DESTRUCTION_STATE_PENDING)
    lines.push(
      `  pending destruction since ${d.designatedDate}${d.deactivated ? ' (deactivated while it waits)' : ''}`,
    );
  if (d?.state === DestructionState.DESTRUCTION_STATE_DESTROYED) {
    lines.push(
      `  destroyed: ${d.destroyedDate} by ${d.method} (designated ${d.designatedDate}${d.deactivated ? ', deactivated' : ''})`,
      `  witnesses: ${d.witnesses.join('; ')}`,
      `  certificate: ${d.certificateId} (tracenet records certificate ${r.recordId} --out FILE)`,
    );
  }
  return lines;
}

const SEEN_IN: Readonly<Record<string, string>> = {
  trace_request: 'in a trace request',
  trace_answer: "in the answer's history",
  lookup: 'in a lookup',
  record: 'in a record',
};

/**
 * The line `tracenet trace show` prints for a case whose weapon was recorded as destroyed and
 * turned up again (docs/protocol.md 19.5).
 */
export function recirculationLine(f: RecirculationFinding): string {
  const certificate = f.certificateId ? `, certificate ${f.certificateId}` : '';
  const record = f.recordId ? ` (our record ${f.recordId})` : '';
  const seen = f.seenDate ? `, seized again on ${f.seenDate}` : ', seized again';
  return `RECIRCULATED AFTER RECORDED DESTRUCTION: destroyed by ${f.destroyedBy} on ${f.destroyedDate}${certificate}${record}${seen} (seen ${SEEN_IN[f.seenIn] ?? f.seenIn}${f.seenBy ? ` by ${f.seenBy}` : ''})`;
}

function describeVerdict(v: VerifyDestructionCertificateResponse): string[] {
  const b = v.body;
  const what = b
    ? [
        `  certificate:  ${b.certificateId}`,
        `  issuer:       ${b.issuer} (key ${b.issuerKeyId})`,
        `  weapon:       ${[b.marking?.manufacturer, b.marking?.model].filter(Boolean).join(' ')}, serial ${b.marking?.serialNumber || b.controlComponentSerial || '—'}${b.uniqueMark ? `, unique mark ${b.uniqueMark}` : ''}`,
        `  destroyed:    ${b.destroyedDate} by ${b.method}`,
        `  witnesses:    ${b.witnesses.join('; ')}`,
        ...(b.programme ? [`  programme:    ${b.programme}`] : []),
        `  signed:       ${Number.isSafeInteger(b.issuedAtMs) ? new Date(b.issuedAtMs).toISOString() : '?'}`,
      ]
    : [];
  if (!v.valid && what.length > 0) what.unshift('  What it claims (not verified):');
  return v.valid
    ? [`VALID: the certificate is signed by ${b?.issuer ?? '?'} with the key it names.`, ...what]
    : [`NOT VALID: ${REFUSAL_WORDS[v.rule] ?? 'it breaks a rule'} (${v.field}: ${v.rule}).`, ...what];
}

/** Why a certificate is not valid, in words (docs/protocol.md 19.3). */
const REFUSAL_WORDS: Readonly<Record<string, string>> = {
  required: 'the certificate has no body',
  max_size: 'the body is too large to be a certificate',
  length: 'the signature is not 64 bytes',
  protobuf: 'the body is not a destruction certificate',
  safe_integer: 'the time of signing is out of range',
  version: 'the certificate is of a version this node does not know',
  certificate_id: 'the certificate id is not dc_ and 22 characters',
  unknown_issuer: 'the issuer is neither this node nor a pinned peer: pin its card first',
  unknown_key: 'the issuer has no such key (or its grace after a rotation has ended)',
  revoked_key: 'the issuer revoked the key that signed it',
  signature: 'the signature does not match: the certificate was changed after signing, or signed by someone else',
};

const isoDate = (value: string, option: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value))
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `${option} must be a date YYYY-MM-DD`, {
      field: option,
      rule: 'date',
    });
  return value;
};

/**
 * Adds `tracenet records designate|destroy|certificate|verify-certificate` (docs/records.md,
 * "Weapons pending destruction").
 *
 * @example
 * ```ts
 * registerDestructionCommands(records, { withClient, call, print, dataOption, jsonOption, recordToJson });
 * ```
 */
export function registerDestructionCommands(records: Command, deps: DestructionCommandDeps): void {
  const { withClient, call, print } = deps;

  records
    .command('designate')
    .description('designate a weapon for destruction: it is then recorded as pending destruction')
    .argument('<record-id>', 'record id (rec_…)')
    .requiredOption('--date <YYYY-MM-DD>', 'date of the designation')
    .option('--deactivated', 'the weapon has been deactivated while it waits')
    .addOption(deps.dataOption())
    .addOption(deps.jsonOption())
    .action(
      async (recordId: string, options: { date: string; deactivated?: boolean; data: string; json?: boolean }) => {
        const date = isoDate(options.date, 'date');
        const stored = await withClient(options.data, async (client, token) => {
          const { record } = await call<{ recordId: string }, { record?: WeaponRecord }>(
            client,
            client.getRecord,
            { recordId },
            token,
          );
          if (!record)
            throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no record ${recordId}`, { field: 'record_id' });
          const designated: WeaponRecord = {
            ...record,
            status:
              record.status === WeaponStatus.WEAPON_STATUS_DESTROYED
                ? WeaponStatus.WEAPON_STATUS_UNSPECIFIED
                : record.status,
            destruction: {
              state: DestructionState.DESTRUCTION_STATE_PENDING,
              designatedDate: date,
              deactivated: options.deactivated === true,
              destroyedDate: '',
              method: '',
              witnesses: [],
              certificateId: '',
            },
          };
          return call<{ record: WeaponRecord }, { record?: WeaponRecord }>(
            client,
            client.putRecord,
            { record: designated },
            token,
          );
        });
        print(options.json, stored.record ? deps.recordToJson(stored.record) : {}, () => [
          `${recordId} is pending destruction since ${date}${options.deactivated ? ' (deactivated)' : ''}.`,
          `When it is destroyed: tracenet records destroy ${recordId} --date YYYY-MM-DD --method … --witness …`,
        ]);
      },
    );

  records
    .command('destroy')
    .description('record the destruction of a weapon pending destruction; the node signs its certificate')
    .argument('<record-id>', 'record id (rec_…)')
    .requiredOption('--date <YYYY-MM-DD>', 'date of the destruction (not after today)')
    .requiredOption('--method <method>', 'how, e.g. cutting, crushing, smelting')
    .requiredOption(
      '--witness <name>',
      'a witness of the destruction (repeat for each, at most 50)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addOption(deps.dataOption())
    .addOption(deps.jsonOption())
    .action(
      async (
        recordId: string,
        options: { date: string; method: string; witness: string[]; data: string; json?: boolean },
      ) => {
        const done = await withClient(options.data, (client, token) =>
          call<RecordDestructionRequest, { record?: WeaponRecord; certificate?: DestructionCertificate }>(
            client,
            client.recordDestruction,
            { recordId, destroyedDate: options.date, method: options.method, witnesses: options.witness },
            token,
          ),
        );
        const d = done.record?.destruction;
        print(
          options.json,
          { record: done.record ? deps.recordToJson(done.record) : {}, certificateId: d?.certificateId ?? '' },
          () => [
            `${recordId} is recorded as destroyed on ${d?.destroyedDate ?? options.date}.`,
            `  certificate:  ${d?.certificateId ?? ''}`,
            `  To give it to another state: tracenet records certificate ${recordId} --out ${d?.certificateId ?? 'certificate'}.json`,
          ],
        );
      },
    );

  records
    .command('certificate')
    .description('the signed destruction certificate of a destroyed weapon, as a file another node can verify')
    .argument('<record-id>', 'record id (rec_…)')
    .option('--out <file>', 'write the certificate file here (otherwise it is printed)')
    .addOption(deps.dataOption())
    .addOption(deps.jsonOption())
    .action(async (recordId: string, options: { out?: string; data: string; json?: boolean }) => {
      const got = await withClient(options.data, (client, token) =>
        call<{ recordId: string }, { certificate?: DestructionCertificate }>(
          client,
          client.getDestructionCertificate,
          { recordId },
          token,
        ),
      );
      if (!got.certificate)
        throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no certificate for ${recordId}`, {
          field: 'record_id',
        });
      const file = certificateFile(got.certificate);
      if (options.out === undefined) {
        print(options.json, JSON.parse(file), () => file.trimEnd().split('\n'));
        return;
      }
      await writeFile(options.out, file, { flag: 'wx' });
      const body = DestructionCertificateBody.decode(got.certificate.body);
      print(options.json, { file: options.out, certificateId: body.certificateId }, () => [
        `Wrote certificate ${body.certificateId} of ${recordId} to ${options.out ?? ''}.`,
        `Another node that has pinned ${body.issuer} checks it with: tracenet records verify-certificate ${options.out ?? ''}`,
      ]);
    });

  records
    .command('verify-certificate')
    .description(
      "verify a destruction certificate file: issued by this node or a pinned peer, and signed with the issuer's key",
    )
    .argument('<file>', 'a certificate file (tracenet records certificate --out)')
    .addOption(deps.dataOption())
    .addOption(deps.jsonOption())
    .action(async (path: string, options: { data: string; json?: boolean }) => {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (cause) {
        throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `cannot read ${path}`, { field: 'file', cause });
      }
      const certificate = readCertificateFile(text);
      if (typeof certificate === 'string')
        throw new TracenetError(ErrorCode.ERROR_CODE_MALFORMED, `${path}: ${certificate}`, {
          field: 'file',
          rule: 'certificate_file',
        });
      const verdict = await withClient(options.data, (client, token) =>
        call<VerifyDestructionCertificateRequest, VerifyDestructionCertificateResponse>(
          client,
          client.verifyDestructionCertificate,
          { certificate },
          token,
        ),
      );
      print(
        options.json,
        {
          valid: verdict.valid,
          field: verdict.field,
          rule: verdict.rule,
          body: verdict.body ? DestructionCertificateBody.toJSON(verdict.body) : null,
        },
        () => describeVerdict(verdict),
      );
      if (!verdict.valid) deps.setExitCode(1);
    });
}

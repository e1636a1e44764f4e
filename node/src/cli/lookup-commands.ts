import { readFile } from 'node:fs/promises';
import type { ChannelCredentials, Client } from '@grpc/grpc-js';
import { type Command, Option } from 'commander';
import {
  Case,
  ErrorCode,
  HitNotice,
  type InterestReport,
  LookupHit,
  LookupOutcome,
  LookupResponse,
  LookupsClient,
  type LookupsServer,
  RecordsClient,
  type RecordsServer,
  TraceRequest,
  TracenetError,
  type WeaponRecord,
} from '@tracenet/proto';
import { connectUnary, type UnaryClient } from '../api/unary-client.js';
import { outcomeName } from '../lookup/lookup-client.js';
import { categoryName, INTEREST_CATEGORIES } from '../records/interest.js';
import { enumChoices, parseEnum, recordToJson, WEAPON_TYPE } from '../records/record-json.js';
import {
  connection,
  dataOption,
  jsonOption,
  output,
  parseDuration,
  printable,
  readInput,
  reportedCode,
  moreLine,
  type Page,
  type PagingOptions,
  pages,
  pagingOptions,
} from './context.js';
import { applyRequestFlags, caseText, requestIncompleteForCli } from './trace-commands.js';

/** Runs `work` with a client of one Authority service of the node in `dataDir`, closing it after. */
async function withService<S, T>(
  Ctor: new (address: string, credentials: ChannelCredentials) => Client,
  dataDir: string,
  work: (client: UnaryClient<S>) => Promise<T>,
): Promise<T> {
  const { address, token, channel } = await connection(dataDir);
  const client = connectUnary<S>(Ctor, address, token, channel);
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** One line per peer of a lookup, then the peers that did not answer in time. */
export function lookupText(response: LookupResponse): string[] {
  const hits = response.results.reduce((n, r) => n + r.hits.length, 0);
  const lines = [
    `Lookup ${response.queryId}: ${response.results.length} peer(s) asked, ${hits} hit(s), ${response.notAnswered.length} not answered in time`,
  ];
  for (const r of response.results) {
    const head = `  ${r.peer.padEnd(12)} ${outcomeName(r.outcome).toUpperCase().replace('_', ' ').padEnd(8)} ${String(r.elapsedMs).padStart(5)} ms`;
    if (r.outcome === LookupOutcome.LOOKUP_OUTCOME_ERROR) lines.push(`${head}  ${reportedCode(r.errorCode)}`);
    else lines.push(head);
    for (const h of r.hits) lines.push(`      ${hitLine(h)}`);
  }
  if (response.notAnswered.length > 0) lines.push(`Not answered in time: ${response.notAnswered.join(', ')}`);
  if (hits > 0)
    lines.push(
      'A hit releases no details; to ask for them: tracenet lookups trace <reference> --owner <participant> ... (see --help)',
    );
  return lines;
}

function hitLine(h: LookupHit): string {
  const what =
    h.recordedDestroyed && h.category === 0
      ? 'RECORDED DESTROYED'
      : `${categoryName(h.category)}${h.recordedDestroyed ? ', RECORDED DESTROYED' : ''}`;
  const destroyed = h.recordedDestroyed
    ? `  (destroyed on ${h.destroyedDate}, certificate ${h.certificateId}: it has turned up again)`
    : '';
  return `${h.reference}  ${what}${destroyed}${h.partial ? '  PARTIAL (wildcard match: a candidate, not an identification)' : ''}${h.contactPoint ? `  contact: ${h.contactPoint}` : ''}`;
}

/** Two lines per hit notice. */
export function hitNoticesText(hits: readonly HitNotice[]): string[] {
  if (hits.length === 0) return ["No hits on this node's records."];
  return hits.flatMap((h) => [
    `${iso(h.atMs)}  by ${h.askedBy.padEnd(10)} ${categoryName(h.category).padEnd(10)} ${h.recordId}  ${h.reference}${h.partial ? '  partial' : ''}`,
    `    purpose: ${h.purpose}${h.requestingAuthority ? `  (for ${h.requestingAuthority})` : ''}  query ${h.queryId}`,
  ]);
}

/** The hit with `reference` in a file that `lookups search --json` wrote (or a single hit as JSON). */
async function hitFromFile(file: string, reference: string): Promise<LookupHit | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await readInput(file, `file ${file} does not exist`, 'from'));
  } catch (cause) {
    if (cause instanceof TracenetError) throw cause;
    throw new TracenetError(ErrorCode.ERROR_CODE_MALFORMED, `${file} is not JSON: ${(cause as Error).message}`, {
      field: 'from',
      cause,
    });
  }
  const response = LookupResponse.fromJSON(value);
  const all =
    response.results.length > 0
      ? response.results.flatMap((r) => r.hits)
      : [LookupResponse.fromJSON({ results: [{ hits: [value] }] }).results[0]?.hits[0]].filter(
          (h): h is LookupHit => h !== undefined,
        );
  return all.find((h) => h.reference === reference);
}

/** The content of a trace request from `--file` and the flags (the lookup's weapon fills what they leave empty). */
async function traceRequestFrom(options: Record<string, string | boolean | undefined>): Promise<TraceRequest> {
  const text = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  const file = text('file');
  const base = file
    ? TraceRequest.fromJSON(JSON.parse(await readInput(file, `request file ${file} does not exist`, 'file')))
    : TraceRequest.fromPartial({});
  const calibre = text('calibre');
  const type = text('type');
  if (calibre || type) {
    const weapon = base.weapon ?? TraceRequest.fromPartial({ weapon: {} }).weapon;
    if (weapon) {
      const markings = weapon.markings ?? {
        manufacturer: '',
        countryOfManufacture: '',
        serialNumber: '',
        model: '',
        type: 0,
        calibre: '',
        year: 0,
      };
      if (calibre) markings.calibre = calibre;
      if (type) markings.type = parseEnum(WEAPON_TYPE, type) ?? 0;
      weapon.markings = markings;
      base.weapon = weapon;
    }
  }
  applyRequestFlags(base, text);
  return base;
}

function reportText(record: WeaponRecord): string[] {
  const r = record.interest;
  if (!r || r.category === 0) return [`${record.recordId} is not a record of interest: peers' lookups do not hit it.`];
  return [
    `${record.recordId} is a record of interest: ${categoryName(r.category)} on ${r.date}, reported by ${r.agency}${r.reference ? ` (${r.reference})` : ''}.`,
    `Peers whose policy allows lookups get a hit on it${r.contactPoint ? ` naming the contact point "${r.contactPoint}"` : ''}; you are told of every hit (tracenet lookups hits).`,
  ];
}

/**
 * Registers `tracenet lookups search|hits|trace` and, under the `records` command, `records
 * report`, `records clear-report` and `records aliases load` (docs/protocol.md section 13,
 * docs/operations.md "Lookups"). Every command talks to the running node of `--data` through the
 * Authority API; failures are one-line TracenetErrors and exit code 1.
 *
 * @example
 * ```ts
 * const records = registerRecordCommands(program, { connect: connection });
 * registerLookupCommands(program, records);
 * ```
 */
export function registerLookupCommands(program: Command, records: Command): Command {
  const lookups = program
    .command('lookups')
    .description(
      "hit / no-hit lookups of weapons in other states' records of interest, and the hits peers made on yours",
    );

  lookups
    .command('search')
    .description(
      'ask peers whether a weapon is among their records of interest (lost, stolen, trafficked, smuggled); answers are hit or no hit, never the record',
    )
    .requiredOption(
      '--manufacturer <name>',
      'manufacturer as marked (aliases such as "FN" / "FN Herstal" match when the peer has them)',
    )
    .requiredOption(
      '--serial <serial>',
      'serial as marked; "?" stands for one obliterated character, "*" for any run (at least 3 known characters)',
    )
    .option('--model <model>', 'narrow to this model')
    .option('--calibre <calibre>', 'narrow to this calibre')
    .addOption(new Option('--type <type>', 'narrow to this weapon type').choices(enumChoices(WEAPON_TYPE)))
    .requiredOption('--purpose <text>', 'why you ask; every owner of a hit records it')
    .option('--authority <name>', 'the authority on whose behalf you ask')
    .option('--peers <list>', 'comma-separated participants to ask (default: every pinned peer)')
    .option('--deadline <duration>', 'how long to wait for each peer, e.g. 2s, 500ms (at most 60s)', '2s')
    .addOption(dataOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExample:\n  tracenet lookups search --manufacturer "FN Herstal" --serial "FX-04?2-*" --purpose "seizure, case 2024/118" --peers BEL,KEN',
    )
    .action(
      async (options: {
        manufacturer: string;
        serial: string;
        model?: string;
        calibre?: string;
        type?: string;
        purpose: string;
        authority?: string;
        peers?: string;
        deadline: string;
        data: string;
        json?: boolean;
      }) => {
        const deadlineMs = parseDuration(options.deadline);
        const peers = (options.peers ?? '')
          .split(',')
          .map((p) => p.trim())
          .filter((p) => p !== '');
        const response = await withService<LookupsServer, LookupResponse>(LookupsClient, options.data, (client) =>
          client.call(
            'lookup',
            {
              weapon: {
                manufacturer: options.manufacturer,
                serialNumber: options.serial,
                model: options.model ?? '',
                calibre: options.calibre ?? '',
                type: options.type ? (parseEnum(WEAPON_TYPE, options.type) ?? 0) : 0,
              },
              purpose: options.purpose,
              requestingAuthority: options.authority ?? '',
              peers,
              deadlineMs,
            },
            deadlineMs + 30_000,
          ),
        );
        output(options.json, LookupResponse.toJSON(response), () => lookupText(response));
      },
    );

  pagingOptions(
    lookups
      .command('hits')
      .description(
        "list the hits peers' lookups made on this node's records of interest, newest first: who asked, when, and the purpose they stated",
      ),
    500,
  )
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (options: PagingOptions & { data: string; json?: boolean }) => {
      const page = await withService<LookupsServer, Page<HitNotice>>(LookupsClient, options.data, (client) =>
        pages(options, async (cursor, limit) => {
          const result = await client.call('listHits', { limit, cursor });
          return { items: result.hits, next: result.nextCursor };
        }),
      );
      output(options.json, { hits: page.items.map((h) => HitNotice.toJSON(h)), nextCursor: page.next }, () => [
        ...hitNoticesText(page.items),
        ...moreLine(page.next),
      ]);
    });

  lookups
    .command('trace')
    .description(
      'open a trace request to the owner of a hit, quoting its reference; the weapon of the lookup fills the markings the request leaves empty',
    )
    .argument('<hit-reference>', 'reference of the hit (roi_…), as `lookups search` printed it')
    .option('--owner <participant>', 'participant that answered with the hit')
    .option(
      '--from <json>',
      'file written by `lookups search --json`: the owner is taken from the hit with this reference',
    )
    .option('--file <json>', 'request content as JSON (TraceRequest fields); flags override it')
    .option('--calibre <calibre>', 'calibre as marked, when the lookup did not give it')
    .addOption(
      new Option('--type <type>', 'weapon type, when the lookup did not give it').choices(enumChoices(WEAPON_TYPE)),
    )
    .option(
      '--criterion <kind:legal basis>',
      'illicit criterion and its legal basis, e.g. "national-law:Code pénal art. 222-52"',
    )
    .option('--finding <kind>', 'seized, found or surrendered')
    .option('--date <YYYY-MM-DD>', 'date of the finding')
    .option('--place <place>', 'place of the finding')
    .option('--agency <agency>', 'agency that seized or found it')
    .option(
      '--intended-use <text>',
      "what the trace's information will be used for (required: the lookup's purpose is not reused)",
    )
    .option('--authority <name>', 'requesting authority (default: that of the lookup)')
    .option('--reference <ref>', 'your case reference')
    .option('--priority <priority>', 'routine or urgent', 'routine')
    .option('--justification <text>', 'why it is urgent')
    .option('--draft', 'keep as a draft instead of sending')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(
      async (
        reference: string,
        options: Record<string, string | boolean | undefined> & {
          owner?: string;
          from?: string;
          draft?: boolean;
          data: string;
          json?: boolean;
        },
      ) => {
        let owner = options.owner;
        if (!owner && options.from) owner = (await hitFromFile(options.from, reference))?.owner;
        if (!owner) {
          throw new TracenetError(
            ErrorCode.ERROR_CODE_MISSING_FIELD,
            `--owner is required (or --from naming a search result with the hit ${reference})`,
            { field: 'hit.owner', rule: 'required' },
          );
        }
        const request = await traceRequestFrom(options);
        // A trace asks for more than a lookup: its own purpose, stated for this request (the
        // node would otherwise take the purpose of the lookup that found the hit).
        if (request.intendedUse.trim() === '')
          throw new TracenetError(
            ErrorCode.ERROR_CODE_MISSING_FIELD,
            '--intended-use is required: say what the information of this trace will be used for (the purpose of the lookup is not reused)',
            { field: 'intended-use', rule: 'required' },
          );
        const hit = LookupHit.fromPartial({ reference, owner });
        const response = await withService<LookupsServer, { case?: Case | undefined }>(
          LookupsClient,
          options.data,
          (client) =>
            client.call('traceFromHit', { hit, request, send: !options.draft }).catch((error: unknown) => {
              throw requestIncompleteForCli(error);
            }),
        );
        const c = response.case;
        if (!c) throw new TracenetError(ErrorCode.ERROR_CODE_INTERNAL, 'the node returned no case');
        output(options.json, Case.toJSON(c), () => caseText(c));
      },
    );

  records
    .command('report')
    .description(
      "report a record as lost, stolen, trafficked or smuggled: peers' lookups can then hit it (hit or no hit only, never the record)",
    )
    .argument(
      '<record-id>',
      "record id: rec_… of the node's own store, or a registry's (pg_…: the node keeps the report over the registry)",
    )
    .addOption(
      new Option('--category <category>', 'why the weapon is of interest')
        .choices(Object.keys(INTEREST_CATEGORIES))
        .makeOptionMandatory(),
    )
    .requiredOption('--date <YYYY-MM-DD>', 'date of the loss, theft or finding')
    .requiredOption('--agency <name>', 'reporting agency')
    .option('--reference <ref>', "the agency's own reference of the report (stays on this node)")
    .option('--contact <text>', 'contact point peers see with a hit, e.g. "NCB Brussels, +32 ..., ncb@example.org"')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(
      async (
        recordId: string,
        options: {
          category: string;
          date: string;
          agency: string;
          reference?: string;
          contact?: string;
          data: string;
          json?: boolean;
        },
      ) => {
        const report: InterestReport = {
          category: INTEREST_CATEGORIES[options.category] ?? 0,
          date: options.date,
          agency: options.agency,
          reference: options.reference ?? '',
          contactPoint: options.contact ?? '',
        };
        const { record } = await withService<RecordsServer, { record?: WeaponRecord | undefined }>(
          RecordsClient,
          options.data,
          (client) => client.call('reportRecord', { recordId, report }),
        );
        if (!record) throw new TracenetError(ErrorCode.ERROR_CODE_INTERNAL, 'the node returned no record');
        output(options.json, recordToJson(record), () => reportText(record));
      },
    );

  records
    .command('clear-report')
    .description(
      "withdraw this node's report of a record: peers' lookups no longer hit it (a registry's own report is withdrawn in the registry)",
    )
    .argument('<record-id>', "record id (rec_…, or a registry's, e.g. pg_…)")
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (recordId: string, options: { data: string; json?: boolean }) => {
      const { record } = await withService<RecordsServer, { record?: WeaponRecord | undefined }>(
        RecordsClient,
        options.data,
        (client) => client.call('clearReport', { recordId }),
      );
      if (!record) throw new TracenetError(ErrorCode.ERROR_CODE_INTERNAL, 'the node returned no record');
      output(options.json, recordToJson(record), () => reportText(record));
    });

  records
    .command('aliases')
    .description('the manufacturer and calibre alias tables weapons are matched with')
    .command('load')
    .description(
      'replace the manufacturer alias table (kept as <data>/aliases.csv), or with --calibres the calibre alias table (<data>/calibre-aliases.csv), with a CSV file: on each line a canonical name, then its other spellings',
    )
    .argument('<file>', 'CSV file, e.g. docs/examples/manufacturer-aliases.csv or docs/examples/calibre-aliases.csv')
    .option('--calibres', 'the file is the calibre alias table (replaces the default one the node ships with)')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (file: string, options: { data: string; json?: boolean; calibres?: boolean }) => {
      let csv: Buffer;
      try {
        csv = await readFile(file);
      } catch (cause) {
        throw new TracenetError(
          ErrorCode.ERROR_CODE_NOT_FOUND,
          `alias file ${file} cannot be read: ${(cause as Error).message}`,
          { field: 'file', rule: 'exists', cause },
        );
      }
      const calibres = options.calibres === true;
      const loaded = await withService<RecordsServer, { names: number; aliases: number }>(
        RecordsClient,
        options.data,
        async (client) => {
          try {
            return await client.call('loadAliases', { csv, calibres });
          } catch (error) {
            const failure = TracenetError.from(error);
            if (failure.violations.length > 1)
              process.stderr.write(printable(failure.violations.map((v) => `  ${v.field}: ${v.message}`)));
            throw failure;
          }
        },
      );
      output(options.json, loaded, () => [
        `Loaded ${loaded.names} ${calibres ? 'calibre' : 'manufacturer'}(s) with ${loaded.aliases} alias(es) from ${file}; identity searches, automatic answers and lookups use them from now on.`,
      ]);
    });

  return lookups;
}

#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { logVerbosity, setLogVerbosity } from '@grpc/grpc-js';
import { Command, Option } from 'commander';
import {
  AddPeerResponse,
  ErrorCode,
  MessageDirection,
  MessageKind,
  ParticipantKind,
  type PeerSummary,
  type RegistryAdapterStatus,
  type ReleaseRule,
  SetPeerPolicyResponse,
  TracenetError,
} from '@tracenet/proto';
import { connectAuthority, type LocalAuthorityClient } from '../api/authority-client.js';
import { Journal } from '../audit/audit-log.js';
import { checkBeforeOpen, checkStoredAudit } from '../audit/store-check.js';
import { DEFAULT_CONFIG, loadConfig } from '../config/config.js';
import { initSodium } from '../crypto/sodium.js';
import { PeerRegistry, summarisePeer } from '../federation/peers.js';
import { readRosterKey, RosterGuard } from '../keys/roster.js';
import { dataPaths, exists, initDataDir, loadIdentity } from '../identity/data-dir.js';
import { parsePeerCardFile } from '../identity/peer-card.js';
import { TracenetNode } from '../node.js';
import { openStore, type Store } from '../store/store.js';
import { pino } from 'pino';
import { VERSION } from '../version.js';
import {
  authorityChannel,
  connection,
  dataOption,
  deadlineText,
  jsonOption,
  moreLine,
  morePages,
  output,
  pages,
  pagingOptions,
  parseDuration,
  readInput,
  reportedCode,
  requireDataDir,
  running,
  wholeNumber,
} from './context.js';
import { approvalText, registerApprovalCommands } from './approval-commands.js';
import { inSetupMode, registerAccessCommands } from './access-commands.js';
import { registerAuditListCommand } from './audit-commands.js';
import { EXIT, reportFailure } from './exit-codes.js';
import { registerBackupCommands } from './backup-commands.js';
import { cliToken } from './login-file.js';
import { registerKeyCommands } from './key-commands.js';
import { registerLookupCommands } from './lookup-commands.js';
import {
  collectReleaseRule,
  registerPeerCardCommands,
  releaseRuleLines,
  releaseRulesFrom,
  RELEASE_RULE_HELP,
} from './peer-commands.js';
import { NODE_POLICY_ID } from '../workflow/release.js';
import { registerRecordCommands } from './records-commands.js';
import { registerRegistryCommands } from './registry-commands.js';
import { registerTraceCommands } from './trace-commands.js';
import { registerStatsCommands } from './stats-commands.js';

// grpc-js prints its own errors on stderr ("E No address added ..."); every command reports its
// failure itself in one line, so grpc-js stays quiet unless GRPC_VERBOSITY asks otherwise.
if (process.env.GRPC_VERBOSITY === undefined && process.env.GRPC_NODE_VERBOSITY === undefined)
  setLogVerbosity(logVerbosity.NONE);

// Files the node creates (store, runtime file) are readable by their owner only.
process.umask(0o077);

// `tracenet … | head -1`: the reader went away, nobody reads what is left, and that is not a
// failure. Exit quietly with 0 instead of crashing on the unhandled EPIPE of the stream.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

async function authority(dataDir: string): Promise<LocalAuthorityClient | undefined> {
  const info = await running(dataDir);
  return info ? connectAuthority(info.authority, await cliToken(dataDir), await authorityChannel(info)) : undefined;
}

async function requireAuthority(dataDir: string): Promise<LocalAuthorityClient> {
  const { address, token, channel } = await connection(dataDir);
  return connectAuthority(address, token, channel);
}

/**
 * Opens the store of a stopped node for an offline command, after the same check of its audit log
 * as a start (a damaged log is refused: only `tracenet start --accept-audit-damage` accepts it).
 */
async function offline<T>(
  dataDir: string,
  work: (store: Store, journal: Journal, peers: PeerRegistry) => Promise<T>,
): Promise<T> {
  await initSodium();
  const identity = await loadIdentity(dataDir);
  const paths = dataPaths(dataDir);
  const config = await loadConfig({ file: paths.config, env: process.env });
  const logger = pino({ level: 'silent' });
  const clock = { now: Date.now };
  await checkBeforeOpen({
    paths,
    signingKeys: (keyId) => identity.signingPublicKeyOf(keyId),
    logger,
    accept: false,
    now: clock.now(),
  });
  const store = await openStore(paths.store, { sync: config.store.sync });
  try {
    const journal = new Journal({
      store,
      clock,
      logger,
      keyId: identity.keyId,
      signingSecretKey: identity.keys.signingSecretKey,
      checkpointEvery: config.audit.checkpointEvery,
      headFile: { path: paths.auditHead, sync: config.store.sync },
    });
    await journal.init();
    // Offline pins obey the roster exactly as the running node does.
    const roster = new RosterGuard({
      store,
      journal,
      clock,
      logger,
      operatorKey: await readRosterKey(dataDir, config),
      graceMs: config.federation.rosterGraceMs,
      federation: config.federation.name,
    });
    await roster.load();
    const peers = new PeerRegistry({ store, journal, identity, roster });
    await peers.load();
    const result = await work(store, journal, peers);
    await journal.checkpoint();
    await journal.close();
    return result;
  } finally {
    await store.close();
  }
}

function describePeer(peer: PeerSummary): string {
  const kind = peer.kind === ParticipantKind.PARTICIPANT_KIND_ORGANISATION ? 'organisation' : 'state';
  const held = peer.heldKeyId ? `  (rotation to key ${peer.heldKeyId} held until the roster lists it)` : '';
  return `${peer.participantId.padEnd(12)} ${kind.padEnd(12)} key ${peer.keyId}  ${peer.endpoints.join(', ')}  valid until ${new Date(peer.validUntilMs).toISOString().slice(0, 10)}  ${peer.displayName}${held}`;
}

const DIRECTIONS: Record<string, MessageDirection> = {
  inbox: MessageDirection.MESSAGE_DIRECTION_INBOX,
  outbox: MessageDirection.MESSAGE_DIRECTION_OUTBOX,
  sent: MessageDirection.MESSAGE_DIRECTION_SENT,
  failed: MessageDirection.MESSAGE_DIRECTION_FAILED,
};

/** Whether the command line asks for JSON: failures are then reported as JSON too. */
const jsonWanted = process.argv.includes('--json');

const program = new Command('tracenet')
  .description('Tracenet node: federated firearms tracing between states (UN International Tracing Instrument).')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  // Commander's usage errors come back as exceptions (exit code 3, JSON with --json): see the end.
  .exitOverride()
  .configureOutput({ writeErr: (text) => (jsonWanted ? undefined : process.stderr.write(text)) });

// A mistyped --data says so before a command looks for a node in it (init and restore create it).
program.hook('preAction', async (_program, command) => {
  const creates = command.name() === 'init' || (command.name() === 'restore' && command.parent?.name() === 'backup');
  const data = command.opts<{ data?: unknown }>().data;
  if (creates || typeof data !== 'string') return;
  await requireDataDir(data, command.getOptionValueSource('data') !== 'default');
});

program
  .command('init')
  .description(
    'create the identity of a new node: keys (mode 0600), TLS certificate, Authority token and signed peer card',
  )
  .requiredOption('--id <participant>', 'participant id: ISO 3166-1 alpha-3 (FRA) or org:<name> (org:UN-POE)')
  .addOption(dataOption())
  .option('--name <text>', 'display name in the peer card')
  .option(
    '--endpoint <host:port...>',
    'Federation endpoints to advertise in the card (kept in config.json; default: the address the node binds)',
  )
  .option(
    '--validity-days <n>',
    'validity of card and certificate in days',
    wholeNumber('validity-days', 1, 36_500),
    365,
  )
  .addOption(jsonOption())
  .action(
    async (options: {
      id: string;
      data: string;
      name?: string;
      endpoint?: string[];
      validityDays: number;
      json?: boolean;
    }) => {
      await initSodium();
      // Check the endpoints and the config file before anything is created.
      if (options.endpoint) {
        await loadConfig({ overrides: { 'federation.advertise': options.endpoint } });
        if (await exists(dataPaths(options.data).config)) {
          throw new TracenetError(
            ErrorCode.ERROR_CODE_ALREADY_EXISTS,
            `${dataPaths(options.data).config} exists; set federation.advertise there instead of --endpoint`,
            {
              field: 'endpoint',
              rule: 'config_exists',
            },
          );
        }
      }
      const { identity } = await initDataDir({
        dataDir: options.data,
        participantId: options.id,
        ...(options.name ? { displayName: options.name } : {}),
        endpoints: options.endpoint ?? [DEFAULT_CONFIG.federation.listen],
        validityDays: options.validityDays,
        nowMs: Date.now(),
      });
      // Explicit endpoints are configuration: every start advertises them, whatever it binds.
      if (options.endpoint) {
        await writeFile(
          dataPaths(options.data).config,
          `${JSON.stringify({ federation: { advertise: options.endpoint } }, null, 2)}\n`,
          { flag: 'wx' },
        );
      }
      output(
        Boolean(options.json),
        { participantId: identity.participantId, keyId: identity.keyId, dataDir: resolve(options.data) },
        () => [
          `Initialised ${identity.participantId} (key ${identity.keyId}) in ${resolve(options.data)}`,
          `Next: tracenet peers export --data ${options.data} > ${identity.participantId.replace(':', '_')}.card.json   (give it to your peers)`,
          `      tracenet start --data ${options.data}`,
        ],
      );
    },
  );

program
  .command('start')
  .description('run the node until SIGINT or SIGTERM')
  .addOption(dataOption())
  .option('--federation-listen <host:port>', 'bind address of the Federation service (TLS)')
  .option('--authority-listen <host:port>', 'bind address of the Authority API (loopback)')
  .option('--advertise <host:port...>', 'endpoints to put in the peer card (default: the bound address)')
  .option('--metrics-listen <host:port>', 'address of the Prometheus endpoint; "" turns it off')
  .option('--console-listen <host:port>', 'address of the officers\' web console (HTTPS); "" turns it off')
  .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
  .option(
    '--accept-audit-damage',
    'start although the audit log is damaged: record what was found in the log and go on (only after finding out what happened)',
  )
  .action(
    async (options: {
      data: string;
      federationListen?: string;
      authorityListen?: string;
      advertise?: string[];
      metricsListen?: string;
      consoleListen?: string;
      logLevel?: string;
      acceptAuditDamage?: boolean;
    }) => {
      const config = await loadConfig({
        file: dataPaths(options.data).config,
        env: process.env,
        overrides: {
          'federation.listen': options.federationListen,
          'authority.listen': options.authorityListen,
          'federation.advertise': options.advertise,
          'metrics.listen': options.metricsListen,
          'console.listen': options.consoleListen,
          'log.level': options.logLevel,
        },
      });
      // The signals are taken before the node opens: opening already logs, and a stop asked for
      // then is carried out as soon as there is a node to stop.
      let asked: string | undefined;
      let stopping: Promise<void> | undefined;
      const started: { node?: TracenetNode } = {};
      const stop = (signal: string) => {
        asked ??= signal;
        const node = started.node;
        if (!node) return;
        node.logger.info({ signal }, 'stopping');
        stopping ??= node.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            node.logger.error({ err: error }, 'stop failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      const node = await TracenetNode.open({
        dataDir: options.data,
        config,
        acceptAuditDamage: Boolean(options.acceptAuditDamage),
      });
      started.node = node;
      if (asked) {
        stop(asked);
        return;
      }
      try {
        await node.start();
      } catch (error) {
        await node.stop().catch(() => undefined);
        throw error;
      }
    },
  );

const peers = program
  .command('peers')
  .description('pinned peers: export this node card, show a card file, add, list and remove peers');

peers
  .command('export')
  .description("print this node's signed peer card (JSON) for other participants to pin")
  .addOption(dataOption())
  .option('-o, --out <file>', 'write to a file instead of standard output')
  .action(async (options: { data: string; out?: string }) => {
    const text = await readInput(
      dataPaths(options.data).card,
      `${options.data} holds no node identity; run: tracenet init --id <ID> --data ${options.data}`,
      'data',
    );
    if (options.out) await writeFile(options.out, text);
    else process.stdout.write(text);
  });

peers
  .command('add')
  .description('verify a peer card file and pin the peer (through the running node, or offline)')
  .argument('<card-file>', 'card file exported by the peer with: tracenet peers export')
  .option(
    '--replace-keys',
    'pin a card with other keys than the pinned one, refusing the old keys at once: only after checking the new key id with the participant out of band (after a revocation)',
  )
  .addOption(dataOption())
  .addOption(jsonOption())
  .action(async (file: string, options: { data: string; json?: boolean; replaceKeys?: boolean }) => {
    await initSodium();
    const card = parsePeerCardFile(await readInput(file, `card file ${file} does not exist`));
    const client = await authority(options.data);
    let result: { peer: PeerSummary | undefined; replaced: boolean };
    if (client) {
      try {
        result = await client.call('addPeer', { card, replaceKeys: Boolean(options.replaceKeys) });
      } finally {
        client.close();
      }
      const waiting = (result as AddPeerResponse).pendingApproval;
      if (waiting) {
        output(Boolean(options.json), AddPeerResponse.toJSON(result as AddPeerResponse), () => approvalText(waiting));
        return;
      }
    } else {
      result = await offline(options.data, async (_store, _journal, registry) => {
        const pinned = await registry.pin(card, Date.now(), { replaceKeys: Boolean(options.replaceKeys) });
        return { peer: summarisePeer(pinned.peer), replaced: pinned.replaced };
      });
    }
    output(Boolean(options.json), result, () => [
      `Pinned ${result.peer ? describePeer(result.peer) : ''}${result.replaced ? ' (replaced an older card)' : ''}`,
    ]);
  });

peers
  .command('list')
  .description('list pinned peers')
  .addOption(dataOption())
  .addOption(jsonOption())
  .action(async (options: { data: string; json?: boolean }) => {
    const client = await authority(options.data);
    let list: PeerSummary[];
    if (client) {
      try {
        list = (await client.call('listPeers', {})).peers;
      } finally {
        client.close();
      }
    } else {
      list = await offline(options.data, async (_s, _j, registry) => registry.list().map(summarisePeer));
    }
    output(Boolean(options.json), list, () => (list.length === 0 ? ['No peers pinned.'] : list.map(describePeer)));
  });

program
  .command('notice')
  .description('notices: free correspondence between participants')
  .command('send')
  .description('send a notice to a pinned peer through the running node')
  .requiredOption('--to <participant>', 'recipient participant id')
  .requiredOption('--subject <text>', 'subject')
  .requiredOption('--text <text>', 'text')
  .addOption(dataOption())
  .addOption(jsonOption())
  .action(async (options: { to: string; subject: string; text: string; data: string; json?: boolean }) => {
    const client = await requireAuthority(options.data);
    try {
      const result = await client.call('sendNotice', {
        recipient: options.to,
        subject: options.subject,
        text: options.text,
        correlationId: '',
      });
      output(Boolean(options.json), result, () => [`Queued ${result.messageId} for ${options.to}`]);
    } finally {
      client.close();
    }
  });

pagingOptions(
  program
    .command('messages')
    .description('list messages: inbox, outbox, sent or failed, a page at a time (--all: every page)')
    .addOption(new Option('--direction <where>', 'which messages').choices(Object.keys(DIRECTIONS)).default('inbox')),
  1000,
)
  .addOption(dataOption())
  .addOption(jsonOption())
  .action(
    async (options: {
      direction: string;
      limit: number;
      cursor?: string;
      all?: boolean;
      data: string;
      json?: boolean;
    }) => {
      const client = await requireAuthority(options.data);
      try {
        const page = await pages(options, async (cursor, limit) => {
          const result = await client.call('listMessages', {
            direction: DIRECTIONS[options.direction] ?? MessageDirection.UNRECOGNIZED,
            limit,
            cursor,
          });
          return { items: result.messages, next: result.nextCursor };
        });
        morePages(options.json, page.next);
        output(Boolean(options.json), page.items, () =>
          page.items.length === 0
            ? [`No ${options.direction} messages.`]
            : [
                ...page.items.map(
                  (m) =>
                    `${new Date(m.atMs || m.createdAtMs).toISOString()}  ${m.peer.padEnd(12)} ${(MessageKind[m.kind] ?? String(m.kind)).replace('MESSAGE_KIND_', '').padEnd(10)} ${m.messageId}${m.lastError ? `  ${reportedCode(m.lastError)}` : ''}`,
                ),
                ...moreLine(page.next),
              ],
        );
      } finally {
        client.close();
      }
    },
  );

program
  .command('status')
  .description('show the running node, its delivery counts and the state of its registry')
  .addOption(dataOption())
  .addOption(jsonOption())
  .action(async (options: { data: string; json?: boolean }) => {
    const client = await requireAuthority(options.data);
    try {
      const info = await client.call('getNodeInfo', {});
      const stats = await client.call('getDeliveryStats', {});
      const setupMode = await inSetupMode(options.data);
      // The console's address is the running node's (runtime file), not part of its NodeInfo.
      const consoleAddress = (await running(options.data))?.console ?? '';
      output(
        Boolean(options.json),
        {
          participantId: info.participantId,
          keyId: info.keyId,
          federationAddress: info.federationAddress,
          consoleUrl: consoleAddress === '' ? '' : `https://${consoleAddress}`,
          ...stats,
          registry: info.registry,
          setupMode,
        },
        () => [
          `${info.participantId} (key ${info.keyId}) federation ${info.federationAddress}, version ${info.softwareVersion}`,
          ...(consoleAddress === '' ? [] : [`officers' console https://${consoleAddress}`]),
          ...(setupMode
            ? [
                'setup mode: no administrator account yet, the bootstrap token works; create one with tracenet officers add <id> --role administrator',
              ]
            : []),
          `inbox ${stats.inbox}  outbox ${stats.outbox}  sent ${stats.sent}  failed ${stats.failed}  oldest queued ${Math.round(stats.oldestOutboxAgeMs / 1000)} s`,
          ...info.registry.flatMap(registryLines),
        ],
      );
    } finally {
      client.close();
    }
  });

/**
 * One adapter of the registry in `tracenet status`: `registry postgres  DOWN since <time>
 * (12 min)  latency 5003 ms`, then its last error on a line of its own.
 */
function registryLines(a: RegistryAdapterStatus): string[] {
  const since =
    a.sinceMs === 0 ? '' : ` since ${new Date(a.sinceMs).toISOString()} (${elapsed(Date.now() - a.sinceMs)})`;
  const state = a.sinceMs === 0 ? 'not checked yet' : a.up ? 'up' : 'DOWN';
  const lines = [`registry ${a.kind.padEnd(8)} ${state}${since}  latency ${Math.round(a.latencyMs)} ms`];
  if (a.lastError !== '') lines.push(`  last error ${new Date(a.lastErrorAtMs).toISOString()}: ${a.lastError}`);
  return lines;
}

/** A duration for people: `42 s`, `12 min`, `3 h`, `2 days`. */
function elapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

const audit = program.command('audit').description('audit log: verify it, list who did what');
registerAuditListCommand(audit);
audit
  .command('verify')
  .description(
    "check the hash chain, signed checkpoints and heads, and (node stopped) the store's files; exit code 1 when broken; never writes",
  )
  .addOption(dataOption())
  .addOption(jsonOption())
  .action(async (options: { data: string; json?: boolean }) => {
    const client = await authority(options.data);
    let result;
    if (client) {
      try {
        result = (await client.call('verifyAudit', {})).result;
      } finally {
        client.close();
      }
    } else {
      // Reads the store's files without opening LevelDB, which would rewrite them (ADR 0010).
      await initSodium();
      const identity = await loadIdentity(options.data);
      result = (await checkStoredAudit(dataPaths(options.data), (keyId) => identity.signingPublicKeyOf(keyId)))
        .verification;
    }
    if (!result) throw new TracenetError(ErrorCode.ERROR_CODE_INTERNAL, 'no verification result');
    const verdict = result;
    output(Boolean(options.json), verdict, () => [
      verdict.ok
        ? `Audit log intact: ${verdict.entries} entries, ${verdict.checkpoints} signed checkpoints, head ${verdict.headSeq} ${verdict.headHash.slice(0, 16)}…`
        : verdict.firstBrokenSeq === 0
          ? `Audit log BROKEN: ${verdict.reason}`
          : `Audit log BROKEN at entry ${verdict.firstBrokenSeq}: ${verdict.reason} (${verdict.entries} entries verified before it)`,
    ]);
    if (!verdict.ok) process.exitCode = EXIT.auditBroken;
  });

peers
  .command('policy')
  .description(
    'show or set what a pinned peer may do here, what happens automatically and what answers release ("*": release rules of every peer)',
  )
  .argument('<participant>', 'pinned peer, e.g. FRA')
  .option('--accept-requests', 'the peer may send trace requests')
  .option('--deny-requests', 'the peer may not send trace requests')
  .option('--auto-ack', 'acknowledge its requests at once')
  .option('--no-auto-ack', 'do not acknowledge automatically')
  .option('--auto-answer', 'answer its requests from records when exactly one record matches (implies --auto-ack)')
  .option('--no-auto-answer', 'do not answer automatically')
  .option(
    '--auto-no-record',
    'with --auto-answer: answer "no record" automatically when the registry is healthy and holds nothing that may be the weapon',
  )
  .option('--no-auto-no-record', 'leave "no record" to an officer (the default)')
  .option('--ack-within <duration>', 'acknowledgement deadline, e.g. 2d (both directions)')
  .option('--answer-within <duration>', 'answer deadline, e.g. 30d (both directions)')
  .option('--allow-lookups', "the peer may look up this node's records of interest (hit / no hit)")
  .option('--deny-lookups', 'the peer may not look up records here')
  .option('--lookups-per-minute <n>', 'lookups the peer may make per minute (0: the default, 60)', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 1_000_000)
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        `--lookups-per-minute must be a whole number from 0 to 1000000, not "${v}"`,
        { field: 'lookups_per_minute', rule: 'range' },
      );
    return n;
  })
  .option('--release-rule <rule>', RELEASE_RULE_HELP, collectReleaseRule)
  .option('--clear-release-rules', 'remove every release rule of the policy')
  .addOption(dataOption())
  .addOption(jsonOption())
  .action(
    async (
      participant: string,
      options: {
        releaseRule?: ReleaseRule[];
        clearReleaseRules?: boolean;
        acceptRequests?: boolean;
        denyRequests?: boolean;
        autoAck?: boolean;
        autoAnswer?: boolean;
        autoNoRecord?: boolean;
        ackWithin?: string;
        answerWithin?: string;
        allowLookups?: boolean;
        denyLookups?: boolean;
        lookupsPerMinute?: number;
        data: string;
        json?: boolean;
      },
      command: Command,
    ) => {
      const client = await requireAuthority(options.data);
      try {
        let policy = (await client.call('getPeerPolicy', { participantId: participant })).policy;
        const given = (name: string) => command.getOptionValueSource(name) === 'cli';
        const changes =
          given('acceptRequests') ||
          given('denyRequests') ||
          given('autoAck') ||
          given('autoAnswer') ||
          given('autoNoRecord') ||
          options.ackWithin ||
          options.answerWithin ||
          given('allowLookups') ||
          given('denyLookups') ||
          given('lookupsPerMinute') ||
          given('releaseRule') ||
          given('clearReleaseRules');
        if (policy && changes) {
          const set = await client.call('setPeerPolicy', {
            policy: {
              ...policy,
              acceptRequests: options.denyRequests ? false : options.acceptRequests ? true : policy.acceptRequests,
              autoAcknowledge: given('autoAck') ? Boolean(options.autoAck) : policy.autoAcknowledge,
              autoAnswer: given('autoAnswer') ? Boolean(options.autoAnswer) : policy.autoAnswer,
              autoAnswerNoRecord: given('autoNoRecord') ? Boolean(options.autoNoRecord) : policy.autoAnswerNoRecord,
              acknowledgeWithinMs: options.ackWithin ? parseDuration(options.ackWithin) : policy.acknowledgeWithinMs,
              answerWithinMs: options.answerWithin ? parseDuration(options.answerWithin) : policy.answerWithinMs,
              allowLookups: options.denyLookups ? false : options.allowLookups ? true : policy.allowLookups,
              lookupsPerMinute: options.lookupsPerMinute ?? policy.lookupsPerMinute,
              releaseRules: releaseRulesFrom(options, policy.releaseRules),
            },
          });
          // Held for a supervisor's approval (docs/protocol.md 12.12): nothing changed yet.
          if (set.pendingApproval) {
            const waiting = set.pendingApproval;
            output(options.json, SetPeerPolicyResponse.toJSON(set), () => approvalText(waiting));
            return;
          }
          policy = set.policy;
        }
        const p = policy;
        if (p?.participantId === NODE_POLICY_ID) {
          output(options.json, p, () => [
            'node-wide policy "*": release rules of every peer (a peer\'s own rules for a field replace them)',
            ...releaseRuleLines(p.releaseRules),
          ]);
          return;
        }
        const days = (ms: number, fallback: string) => (ms > 0 ? deadlineText(ms) : fallback);
        output(options.json, p, () => [
          p
            ? `${p.participantId}: requests ${p.acceptRequests ? 'accepted' : 'refused'}, auto-acknowledge ${p.autoAcknowledge ? 'on' : 'off'}, auto-answer ${p.autoAnswer ? `on${p.autoAnswerNoRecord ? ' (no record too)' : ''}` : 'off'}, acknowledge within ${days(p.acknowledgeWithinMs, '7 d (default)')}, answer within ${days(p.answerWithinMs, '30 d (default)')}, lookups ${p.allowLookups ? `allowed, ${p.lookupsPerMinute || '60 (default)'} per minute` : 'refused'}`
            : 'no policy',
          ...(p ? releaseRuleLines(p.releaseRules) : []),
        ]);
      } finally {
        client.close();
      }
    },
  );

registerPeerCardCommands(peers, {
  authority,
  offline: (dataDir, work) => offline(dataDir, (_store, _journal, registry) => work(registry)),
});
registerTraceCommands(program);
registerApprovalCommands(program);
registerKeyCommands(program, { connect: requireAuthority });
const recordsCommand = registerRecordCommands(program, { connect: connection });
registerLookupCommands(program, recordsCommand);
registerBackupCommands(program);
registerRegistryCommands(program);
registerStatsCommands(program);
registerAccessCommands(program, {
  offline: (dataDir, work) => offline(dataDir, (store, journal) => work(store, journal)),
});

program.parseAsync(process.argv).catch((error: unknown) => {
  const failure = reportFailure(error, jsonWanted);
  if (!failure) return;
  // Commander printed its own usage error already (unless --json asked for JSON).
  if (failure.text) process.stderr.write(failure.text);
  process.exitCode = failure.exitCode;
});

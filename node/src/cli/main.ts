#!/usr/bin/env node
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { ErrorCode, MessageDirection, MessageKind, ParticipantKind, type PeerSummary, TracenetError } from '@tracenet/proto';
import { connectAuthority, type LocalAuthorityClient } from '../api/authority-client.js';
import { Journal } from '../audit/audit-log.js';
import { verifyAuditLog } from '../audit/verify.js';
import { loadConfig } from '../config/config.js';
import { initSodium } from '../crypto/sodium.js';
import { PairKeyCache } from '../envelope/pair-key.js';
import { PeerRegistry, summarisePeer } from '../federation/peers.js';
import { dataPaths, exists, initDataDir, loadIdentity, readAuthorityToken } from '../identity/data-dir.js';
import { parsePeerCardFile } from '../identity/peer-card.js';
import { TracenetNode, type RuntimeInfo } from '../node.js';
import { openStore, type Store } from '../store/store.js';
import { pino } from 'pino';
import { VERSION } from '../version.js';

const DEFAULT_DATA = process.env.TRACENET_DATA ?? './tracenet-data';

/** Prints a result: JSON with --json, readable text otherwise. */
function output(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

/** The running node's runtime info, or undefined when no node runs on this data directory. */
async function running(dataDir: string): Promise<RuntimeInfo | undefined> {
  const path = dataPaths(dataDir).runtime;
  if (!(await exists(path))) return undefined;
  const info = JSON.parse(await readFile(path, 'utf8')) as RuntimeInfo;
  try {
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}

async function authority(dataDir: string): Promise<LocalAuthorityClient | undefined> {
  const info = await running(dataDir);
  return info ? connectAuthority(info.authority, await readAuthorityToken(dataDir)) : undefined;
}

async function requireAuthority(dataDir: string): Promise<LocalAuthorityClient> {
  const client = await authority(dataDir);
  if (!client) throw new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, `no node is running on ${dataDir}; start it with: tracenet start --data ${dataDir}`, { rule: 'node_running' });
  return client;
}

/** Opens the store of a stopped node for an offline command. */
async function offline<T>(dataDir: string, work: (store: Store, journal: Journal, peers: PeerRegistry) => Promise<T>): Promise<T> {
  await initSodium();
  const identity = await loadIdentity(dataDir);
  const store = await openStore(dataPaths(dataDir).store);
  try {
    const journal = new Journal({ store, clock: { now: Date.now }, logger: pino({ level: 'silent' }), keyId: identity.keyId, signingSecretKey: identity.keys.signingSecretKey, checkpointEvery: 1000 });
    await journal.init();
    const peers = new PeerRegistry({ store, journal, pairKeys: new PairKeyCache(identity.keys.encryptionSecretKey, identity.keys.encryptionPublicKey), selfId: identity.participantId });
    await peers.load();
    const result = await work(store, journal, peers);
    await journal.checkpoint();
    return result;
  } finally {
    await store.close();
  }
}

function describePeer(peer: PeerSummary): string {
  const kind = peer.kind === ParticipantKind.PARTICIPANT_KIND_ORGANISATION ? 'organisation' : 'state';
  return `${peer.participantId.padEnd(12)} ${kind.padEnd(12)} key ${peer.keyId}  ${peer.endpoints.join(', ')}  valid until ${new Date(peer.validUntilMs).toISOString().slice(0, 10)}  ${peer.displayName}`;
}

const DIRECTIONS: Record<string, MessageDirection> = {
  inbox: MessageDirection.MESSAGE_DIRECTION_INBOX,
  outbox: MessageDirection.MESSAGE_DIRECTION_OUTBOX,
  sent: MessageDirection.MESSAGE_DIRECTION_SENT,
  failed: MessageDirection.MESSAGE_DIRECTION_FAILED,
};

function dataOption(): Option {
  return new Option('-d, --data <dir>', 'data directory of the node (env TRACENET_DATA)').default(DEFAULT_DATA);
}

function jsonOption(): Option {
  return new Option('--json', 'print machine-readable JSON');
}

const program = new Command('tracenet')
  .description('Tracenet node: federated firearms tracing between states (UN International Tracing Instrument).')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)');

program
  .command('init')
  .description('create the identity of a new node: keys (mode 0600), TLS certificate, Authority token and signed peer card')
  .requiredOption('--id <participant>', 'participant id: ISO 3166-1 alpha-3 (FRA) or org:<name> (org:UN-POE)')
  .addOption(dataOption())
  .option('--name <text>', 'display name in the peer card')
  .option('--endpoint <host:port...>', 'Federation endpoints to advertise in the card', ['127.0.0.1:7443'])
  .option('--validity-days <n>', 'validity of card and certificate in days', (v) => Number.parseInt(v, 10), 365)
  .addOption(jsonOption())
  .action(async (options: { id: string; data: string; name?: string; endpoint: string[]; validityDays: number; json?: boolean }) => {
    await initSodium();
    const { identity } = await initDataDir({
      dataDir: options.data,
      participantId: options.id,
      ...(options.name ? { displayName: options.name } : {}),
      endpoints: options.endpoint,
      validityDays: options.validityDays,
      nowMs: Date.now(),
    });
    output(Boolean(options.json), { participantId: identity.participantId, keyId: identity.keyId, dataDir: resolve(options.data) }, () =>
      [
        `Initialised ${identity.participantId} (key ${identity.keyId}) in ${resolve(options.data)}`,
        `Next: tracenet peers export --data ${options.data} > ${identity.participantId.replace(':', '_')}.card.json   (give it to your peers)`,
        `      tracenet start --data ${options.data}`,
      ].join('\n'),
    );
  });

program
  .command('start')
  .description('run the node until SIGINT or SIGTERM')
  .addOption(dataOption())
  .option('--federation-listen <host:port>', 'bind address of the Federation service (TLS)')
  .option('--authority-listen <host:port>', 'bind address of the Authority API (loopback)')
  .option('--advertise <host:port...>', 'endpoints to put in the peer card (default: the bound address)')
  .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
  .action(async (options: { data: string; federationListen?: string; authorityListen?: string; advertise?: string[]; logLevel?: string }) => {
    const config = await loadConfig({
      file: dataPaths(options.data).config,
      env: process.env,
      overrides: {
        'federation.listen': options.federationListen,
        'authority.listen': options.authorityListen,
        'federation.advertise': options.advertise,
        'log.level': options.logLevel,
      },
    });
    const node = await TracenetNode.open({ dataDir: options.data, config });
    let stopping: Promise<void> | undefined;
    const stop = (signal: string) => {
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
    try {
      await node.start();
    } catch (error) {
      await node.stop().catch(() => undefined);
      throw error;
    }
  });

const peers = program.command('peers').description('pinned peers: export this node card, add and list peers');

peers
  .command('export')
  .description("print this node's signed peer card (JSON) for other participants to pin")
  .addOption(dataOption())
  .option('-o, --out <file>', 'write to a file instead of standard output')
  .action(async (options: { data: string; out?: string }) => {
    const text = await readFile(dataPaths(options.data).card, 'utf8');
    if (options.out) await writeFile(options.out, text);
    else process.stdout.write(text);
  });

peers
  .command('add')
  .description('verify a peer card file and pin the peer (through the running node, or offline)')
  .argument('<card-file>', 'card file exported by the peer with: tracenet peers export')
  .addOption(dataOption())
  .addOption(jsonOption())
  .action(async (file: string, options: { data: string; json?: boolean }) => {
    await initSodium();
    const card = parsePeerCardFile(await readFile(file, 'utf8'));
    const client = await authority(options.data);
    let result: { peer: PeerSummary | undefined; replaced: boolean };
    if (client) {
      try {
        result = await client.call('addPeer', { card });
      } finally {
        client.close();
      }
    } else {
      result = await offline(options.data, async (_store, _journal, registry) => {
        const pinned = await registry.pin(card, Date.now());
        return { peer: summarisePeer(pinned.peer), replaced: pinned.replaced };
      });
    }
    output(Boolean(options.json), result, () => `Pinned ${result.peer ? describePeer(result.peer) : ''}${result.replaced ? ' (replaced an older card)' : ''}`);
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
    output(Boolean(options.json), list, () => (list.length === 0 ? 'No peers pinned.' : list.map(describePeer).join('\n')));
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
      const result = await client.call('sendNotice', { recipient: options.to, subject: options.subject, text: options.text, correlationId: '' });
      output(Boolean(options.json), result, () => `Queued ${result.messageId} for ${options.to}`);
    } finally {
      client.close();
    }
  });

program
  .command('messages')
  .description('list messages: inbox, outbox, sent or failed')
  .addOption(new Option('--direction <where>', 'which messages').choices(Object.keys(DIRECTIONS)).default('inbox'))
  .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 100)
  .addOption(dataOption())
  .addOption(jsonOption())
  .action(async (options: { direction: string; limit: number; data: string; json?: boolean }) => {
    const client = await requireAuthority(options.data);
    try {
      const result = await client.call('listMessages', { direction: DIRECTIONS[options.direction] ?? MessageDirection.UNRECOGNIZED, limit: options.limit, cursor: '' });
      output(Boolean(options.json), result.messages, () =>
        result.messages.length === 0
          ? `No ${options.direction} messages.`
          : result.messages
              .map((m) => `${new Date(m.atMs || m.createdAtMs).toISOString()}  ${m.peer.padEnd(12)} ${(MessageKind[m.kind] ?? String(m.kind)).replace('MESSAGE_KIND_', '').padEnd(10)} ${m.messageId}${m.lastError ? `  ${m.lastError}` : ''}`)
              .join('\n'),
      );
    } finally {
      client.close();
    }
  });

program
  .command('status')
  .description('show the running node and its delivery counts')
  .addOption(dataOption())
  .addOption(jsonOption())
  .action(async (options: { data: string; json?: boolean }) => {
    const client = await requireAuthority(options.data);
    try {
      const info = await client.call('getNodeInfo', {});
      const stats = await client.call('getDeliveryStats', {});
      output(Boolean(options.json), { participantId: info.participantId, keyId: info.keyId, federationAddress: info.federationAddress, ...stats }, () =>
        [
          `${info.participantId} (key ${info.keyId}) federation ${info.federationAddress}, version ${info.softwareVersion}`,
          `inbox ${stats.inbox}  outbox ${stats.outbox}  sent ${stats.sent}  failed ${stats.failed}  oldest queued ${Math.round(stats.oldestOutboxAgeMs / 1000)} s`,
        ].join('\n'),
      );
    } finally {
      client.close();
    }
  });

program
  .command('audit')
  .description('audit log')
  .command('verify')
  .description('check the hash chain and signed checkpoints; exit code 1 when broken')
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
      await initSodium();
      const identity = await loadIdentity(options.data);
      const store = await openStore(dataPaths(options.data).store);
      try {
        result = await verifyAuditLog(store, identity.keys.signingPublicKey);
      } finally {
        await store.close();
      }
    }
    if (!result) throw new TracenetError(ErrorCode.ERROR_CODE_INTERNAL, 'no verification result');
    const verdict = result;
    output(Boolean(options.json), verdict, () =>
      verdict.ok
        ? `Audit log intact: ${verdict.entries} entries, ${verdict.checkpoints} signed checkpoints, head ${verdict.headSeq} ${verdict.headHash.slice(0, 16)}…`
        : `Audit log BROKEN at entry ${verdict.firstBrokenSeq}: ${verdict.reason} (${verdict.entries} entries verified before it)`,
    );
    if (!verdict.ok) process.exitCode = 1;
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  const failure = TracenetError.from(error);
  const where = failure.field ? ` (${failure.field})` : '';
  process.stderr.write(`tracenet: ${failure.codeName}: ${failure.message}${where}\n`);
  process.exitCode = 1;
});

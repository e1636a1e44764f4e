import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { isDeepStrictEqual } from 'node:util';
import { pino, type Logger } from 'pino';
import {
  type AuditVerification,
  ErrorCode,
  KeyRevocation,
  KeyRotation,
  MessageKind,
  PeerCard,
  PeerCardBody,
  type RecordsProfile,
  TracenetError,
} from '@tracenet/proto';
import { addAuthorityService } from './api/authority-service.js';
import { addCasesService } from './api/cases-service.js';
import { addFederationService } from './api/federation-service.js';
import { addLookupsService } from './api/lookups-service.js';
import { addRecordsService } from './api/records-service.js';
import { nodeDestructionDeps } from './api/destruction-calls.js';
import { Journal } from './audit/audit-log.js';
import { checkBeforeOpen, recordAcceptedDamage } from './audit/store-check.js';
import { checkAuditLog, type AuditDamage } from './audit/verify.js';
import type { NodeConfig } from './config/config.js';
import { initSodium } from './crypto/sodium.js';
import { bearerInterceptor } from './edge/interceptors.js';
import { RefusalTally, type RefusalSource } from './federation/refusal-tally.js';
import { type Admission, type PortTls, ServicePort } from './edge/service-port.js';
import { keyAuditEvent } from './keys/key-audit.js';
import { KeyAnnouncements } from './keys/key-announcements.js';
import { Outbox } from './federation/outbox.js';
import { PeerRegistry } from './federation/peers.js';
import { Receiver } from './federation/receiver.js';
import { requestResendAfterRestore, ResendRequests } from './federation/resend.js';
import { readRosterKey, RosterGuard } from './keys/roster.js';
import { createGrpcTransport, type Transport } from './federation/transport.js';
import {
  dataPaths,
  eraseRetiredSecrets,
  issuePeerCard,
  loadIdentity,
  readAuthorityToken,
  readSecret,
  rotateKeys,
  writeCardFile,
  type NodeIdentity,
} from './identity/data-dir.js';
import { parsePeerCardFile } from './identity/peer-card.js';
import { profileFromConfig } from './identity/records-profile.js';
import { certificateFingerprint } from './identity/tls.js';
import { AliasTables } from './lookup/aliases.js';
import { HitStore } from './lookup/hit-store.js';
import { LookupClient } from './lookup/lookup-client.js';
import { LookupHistory } from './lookup/lookup-history.js';
import { LookupResponder } from './lookup/lookup-responder.js';
import { createHealth, TRACENET_SERVICES } from './ops/health.js';
import { createMetrics, kindLabel, type Metrics } from './ops/metrics.js';
import { addReflection } from './ops/reflection.js';
import { createBackup } from './ops/backup.js';
import { createCaseStats, outboxOldestAgeSeconds } from './ops/sources.js';
import { RecordStore } from './records/record-store.js';
import { createRegistry } from './registry/create.js';
import { PeriodicRegistryCheck } from './registry/monitor.js';
import type { Registry } from './registry/registry.js';
import { openStore, STORE_SCHEMA_VERSION, type Store } from './store/store.js';
import type { Clock } from './util/clock.js';
import { AccessControl } from './access/access-control.js';
import { OidcSignIn } from './access/oidc-sign-in.js';
import { addAccessService } from './api/access-service.js';
import { ServiceTable } from './api/service-table.js';
import { addStatisticsService } from './api/statistics-service.js';
import { Statistics } from './stats/statistics.js';
import type { ConsoleServer } from './console/server/console-server.js';
import { ServiceGroup } from './util/lifecycle.js';
import { type Scheduler, schedulerOf, systemScheduler, type Timer } from './util/scheduler.js';
import { Approvals } from './workflow/approvals.js';
import { PolicyStore } from './workflow/policy.js';
import { Workflow } from './workflow/workflow.js';
import { hostAndPort, withPort } from './util/host-port.js';

/** What a node is made of; tests inject the clock, logger or transport. */
export interface NodeOptions {
  readonly dataDir: string;
  readonly config: NodeConfig;
  /**
   * Time of the node. A {@link Scheduler} (a `ManualScheduler` in tests) drives its timers too; a
   * plain {@link Clock} sets only the time, and the timers run on the system's.
   */
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly transport?: Transport;
  /**
   * Start even though the audit log is damaged (`tracenet start --accept-audit-damage`): the damage
   * is recorded in the log and a new head signed (docs/protocol.md 8.6). Without it, a damaged log
   * stops `open` with STORAGE_UNAVAILABLE (rule `audit_damaged`) and the store is left as it was.
   */
  readonly acceptAuditDamage?: boolean;
  /**
   * The store to use instead of `<data>/store`: unit tests whose subject is not storage pass
   * `openMemoryStore()`. The check of the store's files before it opens is then not made.
   */
  readonly store?: Store;
}

/** The parts of a node that make hit / no-hit lookups (docs/protocol.md section 13). */
export interface NodeLookups {
  /** Answers peers' `Federation.Lookup` calls on this node's records of interest. */
  readonly responder: LookupResponder;
  /** Asks peers (the Lookups service's `Lookup`). */
  readonly client: LookupClient;
  /** Hits peers made on this node's records. */
  readonly hits: HitStore;
  /** This node's own lookups and the hits it received. */
  readonly history: LookupHistory;
  /** The manufacturer alias table (`<data>/aliases.csv`). */
  readonly aliases: AliasTables;
}

/** What `<data>/node.json` says while a node runs: how local tools reach it. */
export interface RuntimeInfo {
  readonly pid: number;
  readonly participantId: string;
  readonly federation: string;
  readonly authority: string;
  /** With TLS on the Authority port: the certificate file it presents, which local tools trust (absolute path). */
  readonly authorityCertificate?: string;
  /** The officers' web console ("host:port", HTTPS), when `console.listen` is set. */
  readonly console?: string;
  readonly startedAt: string;
}

/** Largest request message of the Authority port (an import sends its rows in messages below it). */
const AUTHORITY_MAX_RECEIVE_BYTES = 4 * 1024 * 1024;

/** Whether "host:port" names a loopback address (127.0.0.0/8, ::1, localhost). */
function isLoopback(address: string): boolean {
  const host = hostAndPort(address).host.toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(host);
}

/**
 * A Tracenet node: its identity, store, audit journal, pinned peers, receiver and outbox, served
 * over the Federation (mutual TLS with pinned certificates, peer-facing) and Authority (local,
 * bearer token) ports, each behind the limits of its {@link ServicePort}.
 *
 * @example
 * ```ts
 * const node = await TracenetNode.open({ dataDir, config: await loadConfig({}) });
 * await node.start();
 * // ...
 * await node.stop();
 * ```
 */
export class TracenetNode {
  readonly identity: NodeIdentity;
  readonly store: Store;
  readonly journal: Journal;
  readonly peers: PeerRegistry;
  /** The federation roster this node enforces (docs/protocol.md 15.4); inert without `federation.rosterKey`. */
  readonly roster: RosterGuard;
  readonly receiver: Receiver;
  readonly outbox: Outbox;
  readonly policies: PolicyStore;
  /** Four-eyes approval: the approval policy and the approvals queue (docs/protocol.md 12.12). */
  readonly approvals: Approvals;
  /** The node's own records (LevelDB): what the Records API writes. */
  readonly records: RecordStore;
  /** Every source of records the node answers and searches from (docs/integration.md). */
  readonly registry: Registry;
  readonly workflow: Workflow;
  readonly lookups: NodeLookups;
  /** Prometheus metrics (docs/operations-metrics.md); served on `metrics.listen` while running. */
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly #health = createHealth();
  /** Refusals before authentication, counted per source and interval into the audit log (docs/protocol.md 4.13). */
  readonly refusals: RefusalTally;
  /** Accounts, sessions and API keys: who may call the Authority API (docs/protocol.md 7.1). */
  readonly access: AccessControl;
  /** Damage a verification found while the node runs: health stays NOT_SERVING until a restart checks again. */
  #auditDamage: AuditDamage | undefined;
  #card: PeerCard;
  /** Once a minute: the roster's expiry alerts and the erasure of retired keys whose grace ended. */
  #minuteTimer: Timer | undefined;
  /** Serializes key rotations and the erasure of retired keys. */
  #rotating: Promise<unknown> = Promise.resolve();
  #federation: ServicePort | undefined;
  #authority: ServicePort | undefined;
  #oidc: OidcSignIn | undefined;
  #federationAddress = '';
  #authorityAddress = '';
  /** The officers' web console, when `console.listen` is set. */
  #console: ConsoleServer | undefined;
  #state: 'stopped' | 'starting' | 'running' | 'stopping' = 'stopped';
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  readonly #services: ServiceGroup;

  private constructor(
    private readonly options: NodeOptions & { clock: Scheduler; transport: Transport },
    parts: Pick<
      TracenetNode,
      | 'identity'
      | 'store'
      | 'journal'
      | 'peers'
      | 'roster'
      | 'receiver'
      | 'outbox'
      | 'policies'
      | 'approvals'
      | 'records'
      | 'registry'
      | 'workflow'
      | 'lookups'
      | 'metrics'
      | 'logger'
      | 'refusals'
      | 'access'
    > & { card: PeerCard },
  ) {
    this.identity = parts.identity;
    this.store = parts.store;
    this.journal = parts.journal;
    this.peers = parts.peers;
    this.roster = parts.roster;
    this.receiver = parts.receiver;
    this.outbox = parts.outbox;
    this.policies = parts.policies;
    this.approvals = parts.approvals;
    this.records = parts.records;
    this.registry = parts.registry;
    this.workflow = parts.workflow;
    this.lookups = parts.lookups;
    this.metrics = parts.metrics;
    this.logger = parts.logger;
    this.#card = parts.card;
    this.refusals = parts.refusals;
    this.access = parts.access;
    // The parts that work from the store, in the order they start; they stop in reverse.
    // Registry outages turn `tracenet.v1.Registry` NOT_SERVING; the node itself keeps serving.
    this.registry.monitor.on('change', () => this.#health.dependency('tracenet.v1.Registry', this.registry.monitor.up));
    this.#services = new ServiceGroup([
      ['access', { start: () => this.access.start(), stop: async () => undefined }],
      ['registry', { start: () => this.registry.open(), stop: () => this.registry.close() }],
      [
        'registry check',
        new PeriodicRegistryCheck({
          scheduler: this.options.clock,
          intervalMs: this.options.config.registry.healthCheckIntervalMs,
          check: () => this.registry.health(),
          logger: this.logger,
        }),
      ],
      ['outbox', this.outbox],
      // A step rather than a service: on the first start after a restore, peers deliver again what
      // the backup lacks (docs/protocol.md 5.6), queued before the workflow resumes its cases.
      [
        'resend after restore',
        {
          start: async () => {
            await requestResendAfterRestore({
              store: this.store,
              journal: this.journal,
              outbox: this.outbox,
              peers: this.peers,
              clockToleranceMs: this.options.config.envelope.replayWindowMs,
              logger: this.logger,
            });
          },
          stop: async () => undefined,
        },
      ],
      ['workflow', this.workflow],
      [
        'lookup responder',
        { start: () => this.lookups.responder.start(), stop: async () => this.lookups.responder.stop() },
      ],
      ['metrics', this.metrics],
      ['refusal tally', { start: async () => this.refusals.start(), stop: () => this.refusals.stop() }],
    ]);
  }

  /** Loads identity and store of an initialised data directory. Nothing listens yet. */
  static async open(options: NodeOptions): Promise<TracenetNode> {
    await initSodium();
    const clock = schedulerOf(options.clock ?? systemScheduler);
    const identity = await loadIdentity(options.dataDir);
    // A year still to come in records.profile is refused before anything starts (docs/protocol.md 17.2).
    profileFromConfig(options.config.records.profile, clock.now());
    const logger = (options.logger ?? pino({ level: options.config.log.level })).child({
      node: identity.participantId,
    });
    const card = parsePeerCardFile(await readFile(dataPaths(options.dataDir).card, 'utf8'));
    // The store holds received bodies and cases in clear: owner only, whatever the umask.
    await chmod(options.dataDir, 0o700);
    const paths = dataPaths(options.dataDir);
    // Before LevelDB opens the store, which would replay its log and drop damaged records silently.
    const damage = options.store
      ? undefined
      : await checkBeforeOpen({
          paths,
          signingKeys: (keyId) => identity.signingPublicKeyOf(keyId),
          logger,
          accept: options.acceptAuditDamage ?? false,
          now: clock.now(),
        });
    const store =
      options.store ?? (await openStore(paths.store, { sync: options.config.store.sync, scheduler: clock }));
    if (!options.store) await chmod(paths.store, 0o700);
    if (store.opened.backup !== undefined) {
      logger.warn(
        { fromVersion: store.opened.foundVersion, toVersion: STORE_SCHEMA_VERSION, backup: store.opened.backup },
        'store layout migrated; the store as it was is kept beside it',
      );
    }
    const journal = new Journal({
      store,
      clock,
      logger,
      // Read at each signature: after a key rotation, checkpoints are signed with the new key.
      get keyId() {
        return identity.keyId;
      },
      get signingSecretKey() {
        return identity.keys.signingSecretKey;
      },
      checkpointEvery: options.config.audit.checkpointEvery,
      headFile: { path: paths.auditHead, sync: options.config.store.sync },
    });
    try {
      await journal.init();
      if (damage) await recordAcceptedDamage(journal, store, damage);
      const roster = new RosterGuard({
        store,
        journal,
        clock,
        logger,
        operatorKey: await readRosterKey(options.dataDir, options.config),
        graceMs: options.config.federation.rosterGraceMs,
        federation: options.config.federation.name,
      });
      await roster.load();
      const peers = new PeerRegistry({ store, journal, identity, roster });
      await peers.load();
      // A roster installed just before a crash may list keys of rotations still held.
      await peers.applyHeldRotations(clock.now());
      const transport =
        options.transport ?? createGrpcTransport({ maxEnvelopeBytes: options.config.envelope.maxBytes });
      const refusals = new RefusalTally({
        journal,
        clock,
        logger,
        config: { intervalMs: options.config.audit.refusalIntervalMs, maxSources: options.config.audit.refusalSources },
      });
      const receiver = new Receiver({
        identity,
        peers,
        journal,
        store,
        clock,
        logger,
        config: {
          maxEnvelopeBytes: options.config.envelope.maxBytes,
          replayWindowMs: options.config.envelope.replayWindowMs,
        },
        refusals,
      });
      const outbox = new Outbox({
        identity,
        peers,
        transport,
        journal,
        store,
        clock,
        logger,
        config: {
          ...options.config.outbox,
          defaultTtlMs: options.config.envelope.defaultTtlMs,
          maxEnvelopeBytes: options.config.envelope.maxBytes,
        },
      });
      const policies = new PolicyStore({ store, journal });
      await policies.load();
      const approvals = new Approvals({ store, journal, clock });
      await approvals.load();
      const records = new RecordStore({ store, journal, clock, logger });
      const aliases = new AliasTables({
        path: join(options.dataDir, 'aliases.csv'),
        calibrePath: join(options.dataDir, 'calibre-aliases.csv'),
        journal,
        logger,
      });
      await aliases.init();
      const registry = await createRegistry({
        config: options.config.registry,
        dataDir: options.dataDir,
        records,
        aliases: () => aliases.table,
        clock,
        logger,
      });
      const workflow = new Workflow({
        selfId: identity.participantId,
        store,
        journal,
        outbox,
        policies,
        approvals,
        records: registry,
        isPinned: (id) => peers.get(id) !== undefined,
        recordsProfile: (id) => peers.get(id)?.body.recordsProfile,
        clock,
        logger,
        deadlineCheckIntervalMs: options.config.workflow.deadlineCheckIntervalMs,
        autoAnswerRetryMs: options.config.workflow.autoAnswerRetryMs,
        outageDelayAfterMs: options.config.registry.outageDelayAfterMs,
      });
      const keyAnnouncements = new KeyAnnouncements({
        identity,
        peers,
        clock,
        logger,
        config: { maxGraceMs: options.config.keys.maxGraceMs },
        next: workflow,
      });
      receiver.setInboundHandler(new ResendRequests({ outbox, logger, next: keyAnnouncements }));
      const envelopeLimits = {
        maxEnvelopeBytes: options.config.envelope.maxBytes,
        replayWindowMs: options.config.envelope.replayWindowMs,
      };
      const hits = new HitStore(store);
      await hits.init();
      const history = new LookupHistory(store);
      const lookups: NodeLookups = {
        responder: new LookupResponder({
          identity,
          peers,
          policies,
          records,
          registry,
          aliases,
          hits,
          journal,
          store,
          clock,
          logger,
          config: envelopeLimits,
          refusals,
        }),
        client: new LookupClient({
          identity,
          peers,
          transport,
          history,
          journal,
          clock,
          logger,
          config: envelopeLimits,
        }),
        hits,
        history,
        aliases,
      };
      const cases = createCaseStats(workflow);
      const metrics = createMetrics({
        listen: options.config.metrics.listen,
        logger,
        outboxDepth: () => outbox.depth(),
        outboxOldestAgeSeconds: () => outboxOldestAgeSeconds(store, clock),
        casesByState: cases.byState,
        overdueCases: cases.overdue,
        registryAdapters: () => registry.monitor.statuses(),
      });
      registry.monitor.on('call', (call) => metrics.registryCall(call));
      receiver.on('accepted', (m) => metrics.messageReceived(kindLabel(m.kind), m.sender));
      receiver.on('rejected', (r) => {
        metrics.messageRejected(r.code, r.kind === undefined ? undefined : kindLabel(r.kind));
        if (r.unauthenticated)
          metrics.envelopeUnauthenticated('deliver', r.unauthenticated.code, r.unauthenticated.rule);
      });
      lookups.responder.on('refused', (r) => {
        if (r.unauthenticated)
          metrics.envelopeUnauthenticated('lookup', r.unauthenticated.code, r.unauthenticated.rule);
      });
      receiver.on('duplicate', (d) => metrics.messageDuplicate(kindLabel(d.kind), d.sender));
      outbox.on('delivered', (d) =>
        metrics.messageDelivered(kindLabel(d.kind), (d.deliveredAtMs - d.createdAtMs) / 1000, d.recipient),
      );
      outbox.on('failed', (f) => metrics.messageFailed(kindLabel(f.kind), f.code, f.recipient));
      const parts = {
        identity,
        store,
        journal,
        peers,
        roster,
        receiver,
        outbox,
        policies,
        approvals,
        records,
        registry,
        workflow,
        lookups,
        metrics,
        logger,
        card,
        refusals,
        access: new AccessControl({
          store,
          journal,
          clock,
          logger,
          bootstrapToken: await readAuthorityToken(options.dataDir),
          sessionTtlMs: options.config.access.sessionTtlMs,
        }),
      };
      return new TracenetNode({ ...options, clock, transport }, parts);
    } catch (error) {
      // The journal keeps the head file open once it has written (a failed start may have); the
      // start's own error is the one to report.
      await journal.close().catch(() => undefined);
      await store.close();
      throw error;
    }
  }

  /** The node's current signed peer card. */
  get card(): PeerCard {
    return this.#card;
  }

  /** Bound Federation address, "host:port" (after start). */
  get federationAddress(): string {
    return this.#federationAddress;
  }

  /** Bound Authority address, "host:port" (after start). */
  get authorityAddress(): string {
    return this.#authorityAddress;
  }

  /**
   * Starts the parts that work from the store (outbox, workflow, lookups, metrics), then binds both
   * ports, re-issues the peer card when the advertised endpoints changed and writes
   * `<data>/node.json`. Nothing is served before the case counter and the outbox queue are loaded,
   * so no request can arrive ahead of them. Idempotent; a start that fails stops what it started.
   */
  async start(): Promise<void> {
    if (this.#state !== 'stopped' || this.#stopping) return;
    this.#state = 'starting';
    this.#starting = this.#start();
    try {
      await this.#starting;
    } catch (error) {
      await this.#halt();
      this.#state = 'stopped';
      throw error;
    } finally {
      this.#starting = undefined;
    }
  }

  async #start(): Promise<void> {
    const { config, dataDir } = this.options;
    const authorityTls = await this.#authorityTls();
    await this.#services.start();
    await this.eraseRetiredKeys();

    const federation = config.federation;
    this.#federation = new ServicePort({
      key: 'federation.listen',
      limits: { ...federation, maxReceiveBytes: config.envelope.maxBytes },
      tls: { material: this.identity.tls, requestCertificate: true, admit: (socket) => this.#admitPeer(socket) },
      maxConnectionsPerIdentity: federation.maxConnectionsPerPeer,
      arrivingPerIdentity: federation.maxArrivingPerPeer,
      onRefused: (source, reason) => this.#refused('federation', source, reason),
      logger: this.logger,
    });
    const port = this.#federation;
    addFederationService(port.server, {
      receiver: this.receiver,
      lookups: this.lookups.responder,
      card: () => this.#card,
      sourceOf: (call) => port.sourceOf(call),
      logger: this.logger,
    });
    this.#health.addTo(port.server, ['tracenet.v1.Federation']);
    this.#federationAddress = withPort(federation.listen, await port.listen(federation.listen));

    const token = this.access;
    const authority = config.authority;
    this.#authority = new ServicePort({
      key: 'authority.listen',
      limits: { ...authority, maxReceiveBytes: AUTHORITY_MAX_RECEIVE_BYTES, maxConnectionAgeMs: 0 },
      ...(authorityTls ? { tls: authorityTls } : {}),
      // The token is checked from the metadata, before the request is read (7.1); health and reflection need none.
      interceptors: [bearerInterceptor(token, (path) => path.startsWith('/tracenet.v1.'))],
      onRefused: (source, reason) => this.#refused('authority', source, reason),
      logger: this.logger,
    });
    // Every Authority handler is also kept by path, for the console (node/src/console/server).
    const server = new ServiceTable(this.#authority.server);
    addAuthorityService(server, {
      identity: this.identity,
      peers: this.peers,
      outbox: this.outbox,
      policies: this.policies,
      journal: this.journal,
      store: this.store,
      clock: this.options.clock,
      logger: this.logger,
      token,
      card: () => this.#card,
      federationAddress: () => this.#federationAddress,
      roster: this.roster,
      rotateKeys: (graceMs) => this.rotateKeys({ graceMs }),
      revokeKeys: (reason) => this.revokeKeys({ reason }),
      verifyAudit: () => this.verifyAudit(),
      createBackup: (includeKeys) => this.createBackup(includeKeys),
      registry: () => this.registry.monitor.statuses(),
      approvals: this.approvals,
    });
    addCasesService(server, { workflow: this.workflow, approvals: this.approvals, token, logger: this.logger });
    // Sign-in through the state's identity provider; its provider is discovered at the first sign-in.
    this.#oidc ??= new OidcSignIn({
      settings: config.access.oidc,
      consoleRedirectUri: config.console.oidcRedirectUri,
      accounts: this.access,
      clock: this.options.clock,
      logger: this.logger,
      audit: (refusal) =>
        this.journal.write([], [{ type: 'officer.sign_in_failed', fields: { ...refusal, method: 'oidc' } }]),
    });
    addAccessService(server, { access: this.access, token, logger: this.logger, oidc: this.#oidc });
    addRecordsService(server, {
      records: this.records,
      registry: this.registry,
      destruction: nodeDestructionDeps(this.identity, this.peers, this.options.clock),
      aliases: this.lookups.aliases,
      clock: this.options.clock,
      logger: this.logger,
      token,
    });
    addLookupsService(server, {
      client: this.lookups.client,
      hits: this.lookups.hits,
      history: this.lookups.history,
      workflow: this.workflow,
      logger: this.logger,
      token,
    });
    // Figures from this node's own store (docs/statistics.md).
    addStatisticsService(server, {
      statistics: new Statistics({
        participant: this.identity.participantId,
        store: this.store,
        journal: this.journal,
        clock: this.options.clock,
        aliases: () => this.lookups.aliases.table,
      }),
      logger: this.logger,
      token,
    });
    this.#health.addTo(
      this.#authority.server,
      TRACENET_SERVICES.filter((service) => service !== 'tracenet.v1.Federation'),
      ['tracenet.v1.Registry'],
    );
    addReflection(this.#authority.server);
    this.#authorityAddress = withPort(authority.listen, await this.#authority.listen(authority.listen));
    if (config.console.listen !== '')
      // Loaded only for a node with a console: Fastify and its plugins stay out of the others' memory.
      this.#console = await (await import('./console/server/console-server.js')).startConsole({
        settings: config.console,
        methods: server,
        tls: await this.#consoleTls(),
        participantId: this.identity.participantId,
        clock: this.options.clock,
        logger: this.logger,
        oidcConfigured: config.access.oidc.issuer !== '',
        maxRequestBytes: AUTHORITY_MAX_RECEIVE_BYTES,
      });

    await this.#refreshCard(
      config.federation.advertise.length > 0 ? config.federation.advertise : [this.#federationAddress],
    );
    await this.journal.write(
      [],
      [{ type: 'node.started', fields: { federation: this.#federationAddress, keyId: this.identity.keyId } }],
    );
    const runtime: RuntimeInfo = {
      pid: process.pid,
      participantId: this.identity.participantId,
      federation: this.#federationAddress,
      authority: this.#authorityAddress,
      ...(this.#console ? { console: this.#console.address } : {}),
      ...(authorityTls ? { authorityCertificate: resolve(dataDir, config.authority.tls.certificate) } : {}),
      startedAt: new Date(this.options.clock.now()).toISOString(),
    };
    // Written aside and renamed, so that a reader never sees a half-written file.
    const runtimePath = dataPaths(dataDir).runtime;
    await writeFile(`${runtimePath}.tmp`, `${JSON.stringify(runtime, null, 2)}\n`);
    await rename(`${runtimePath}.tmp`, runtimePath);
    // The roster's expiry is an alert even without traffic; retired keys are erased when their grace ends.
    this.#minuteTimer = this.options.clock
      .setInterval(() => {
        if (this.roster.configured) this.roster.check();
        this.eraseRetiredKeys().catch((error: unknown) =>
          this.logger.error({ err: error }, 'retired keys could not be erased; trying again in a minute'),
        );
        this.access
          .purgeEnded()
          .catch((error: unknown) =>
            this.logger.error({ err: error }, 'ended sessions could not be removed; trying again in a minute'),
          );
      }, 60_000)
      .unref();
    this.#state = 'running';
    this.#health.serving();
    // Storage faults (docs/operations.md): NOT_SERVING while the store refuses writes, SERVING once it has recovered.
    this.store.watchWritable((writable) => {
      if (this.#state !== 'running') return;
      if (writable && !this.#auditDamage) this.#health.serving();
      else this.#health.notServing();
    });
    this.logger.info(
      {
        federation: this.#federationAddress,
        authority: this.#authorityAddress,
        ...(this.#console ? { console: `https://${this.#console.address}` } : {}),
        keyId: this.identity.keyId,
      },
      'node ready',
    );
  }

  /**
   * Admits a Federation connection whose client certificate a pinned card names (docs/protocol.md
   * 2.5); anyone else is closed before a byte of HTTP/2 is read.
   */
  #admitPeer(socket: TLSSocket): Admission {
    const certificate = socket.getPeerCertificate();
    if (!certificate.raw) return { refused: 'tls.no_certificate' };
    const peer = this.peers.byTlsFingerprint(certificateFingerprint(certificate.raw), this.options.clock.now());
    return peer ? { identity: peer.participantId } : { refused: 'tls.unpinned_certificate' };
  }

  /** A connection refused by a port: counted for the audit log (4.13) and the metrics. */
  #refused(port: 'federation' | 'authority', source: RefusalSource, reason: string): void {
    this.refusals.count(source, reason);
    this.metrics.connectionRefused(port, reason);
  }

  /** The console's address ("host:port"), or '' when it is off. */
  get consoleAddress(): string {
    return this.#console?.address ?? '';
  }

  /** A file named by configuration key `key` (relative to the data directory; a secret must be mode 0600). */
  async #readConfigured(key: string, path: string, secret: boolean): Promise<string> {
    const file = resolve(this.options.dataDir, path);
    try {
      return secret ? await readSecret(file) : await readFile(file, 'utf8');
    } catch (cause) {
      if (cause instanceof TracenetError) throw cause;
      throw new TracenetError(
        ErrorCode.ERROR_CODE_NOT_FOUND,
        `${key}: cannot read ${file}: ${(cause as Error).message}`,
        {
          field: key,
          rule: 'exists',
          cause,
        },
      );
    }
  }

  /**
   * The HTTPS certificate of the console: `console.tls` when set, else the node's own
   * self-signed certificate (a first start; browsers ask the officer to accept it).
   */
  async #consoleTls(): Promise<{ cert: string; key: string }> {
    const { tls } = this.options.config.console;
    if (tls.certificate === '' && tls.key === '')
      return { cert: this.identity.tls.certificatePem, key: this.identity.tls.privateKeyPem };
    if (tls.certificate === '' || tls.key === '')
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'console.tls.certificate and console.tls.key go together',
        { field: tls.certificate === '' ? 'console.tls.certificate' : 'console.tls.key', rule: 'console_tls' },
      );
    return {
      cert: await this.#readConfigured('console.tls.certificate', tls.certificate, false),
      key: await this.#readConfigured('console.tls.key', tls.key, true),
    };
  }

  /**
   * The TLS of the Authority port from `authority.tls`, or undefined for plaintext, which is
   * allowed on a loopback address only (docs/protocol.md 7.1): the port carries the node's whole
   * authority. Checked before anything starts.
   */
  async #authorityTls(): Promise<PortTls | undefined> {
    const { listen, tls } = this.options.config.authority;
    const configError = (field: string, rule: string, message: string) =>
      new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, message, { field, rule });
    if (tls.certificate === '' && tls.key === '') {
      if (tls.clientCa !== '')
        throw configError(
          'authority.tls.clientCa',
          'authority_tls',
          'authority.tls.clientCa needs authority.tls.certificate and authority.tls.key',
        );
      if (isLoopback(listen)) return undefined;
      throw configError(
        'authority.listen',
        'authority_loopback',
        `authority.listen is ${listen}, not a loopback address, and authority.tls names no certificate: the Authority port carries the node's whole authority (cases, records, peers, keys) and is served in plaintext only on loopback. Set authority.tls.certificate and authority.tls.key (and authority.tls.clientCa to require client certificates), or listen on 127.0.0.1`,
      );
    }
    if (tls.certificate === '' || tls.key === '')
      throw configError(
        tls.certificate === '' ? 'authority.tls.certificate' : 'authority.tls.key',
        'authority_tls',
        'authority.tls.certificate and authority.tls.key go together',
      );
    const clientCa =
      tls.clientCa === '' ? undefined : await this.#readConfigured('authority.tls.clientCa', tls.clientCa, false);
    return {
      material: {
        certificatePem: await this.#readConfigured('authority.tls.certificate', tls.certificate, false),
        privateKeyPem: await this.#readConfigured('authority.tls.key', tls.key, true),
      },
      requestCertificate: clientCa !== undefined,
      ...(clientCa !== undefined ? { clientCa } : {}),
      admit: (socket): Admission =>
        clientCa === undefined || socket.authorized ? {} : { refused: 'tls.client_certificate' },
    };
  }

  /**
   * Stops accepting, lets attempts in flight settle, checkpoints the audit log and closes the
   * store. Idempotent: a second call waits for the first. A stopped node is not started again.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    // A stop that arrives during start (SIGTERM right after launch) lets the start finish first, so
    // that nothing the start writes, such as node.json, outlives the stop.
    await this.#starting?.catch(() => undefined);
    const wasRunning = this.#state === 'running';
    this.#state = 'stopping';
    await this.#halt();
    if (wasRunning) await this.journal.write([], [{ type: 'node.stopped', fields: {} }]);
    await this.journal.checkpoint();
    await this.journal.close();
    await this.store.close();
    await rm(dataPaths(this.options.dataDir).runtime, { force: true });
    this.#state = 'stopped';
    this.logger.info('node stopped');
  }

  /** Stops serving and every background part; each step is harmless when already done. */
  async #halt(): Promise<void> {
    this.#minuteTimer?.cancel();
    this.#minuteTimer = undefined;
    this.#health.notServing();
    this.#health.close();
    await this.#console?.close();
    this.#console = undefined;
    await Promise.all([this.#federation?.shutdown(), this.#authority?.shutdown()]);
    // In reverse order of start: the refusal tally first, which writes what was counted before
    // authentication, the running interval included (4.13); the registry last.
    await this.#services.stop();
    this.options.transport.close();
  }

  /**
   * A backup of the node while it runs (docs/protocol.md 7.5): the audit entry `backup.created`
   * first, so that the backup holds it, then the store under one snapshot, the data directory's
   * files (secret keys only with `includeKeys`) and the manifest signed with the current keys.
   */
  async *createBackup(includeKeys: boolean): AsyncGenerator<Buffer> {
    await this.journal.write([], [{ type: 'backup.created', fields: { keys: includeKeys } }]);
    yield* createBackup({
      store: this.store,
      dataDir: this.options.dataDir,
      identity: this.identity,
      includeKeys,
      nowMs: () => this.options.clock.now(),
    });
  }

  /**
   * Verifies the whole audit log while the node runs (docs/protocol.md 8.6), on one snapshot of the
   * store and against `<data>/audit-head.json`. Damage found after the last one the operator
   * accepted is logged at error level, counted in `tracenet_audit_damaged` and turns health
   * NOT_SERVING until a restart checks the store again (and refuses to start without
   * `--accept-audit-damage`).
   */
  async verifyAudit(): Promise<AuditVerification> {
    const findings = await checkAuditLog(
      this.store,
      (keyId) => this.identity.signingPublicKeyOf(keyId),
      dataPaths(this.options.dataDir).auditHead,
    );
    if (findings.damage && !this.#auditDamage) {
      this.#auditDamage = findings.damage;
      this.logger.error(
        {
          kind: findings.damage.kind,
          reason: findings.damage.reason,
          firstBrokenSeq: findings.verification.firstBrokenSeq,
        },
        'the audit log is damaged; the node stops serving (NOT_SERVING)',
      );
      this.metrics.auditDamaged(findings.damage.kind);
      this.#health.notServing();
    }
    return findings.verification;
  }

  /**
   * Rotates the node's keys (docs/protocol.md 15.2): new signing and encryption keys and TLS
   * certificate, a new card, and a KEY_ROTATION message to every pinned peer, signed with the
   * previous keys and sent before anything else queued. The previous keys open envelopes addressed
   * to them until the grace ends; queued messages are sealed with the new keys from now on.
   *
   * @example
   * ```ts
   * const { keyId, graceUntilMs } = await node.rotateKeys({ graceMs: 86_400_000 });
   * ```
   */
  rotateKeys(
    options: { graceMs?: number } = {},
  ): Promise<{ previousKeyId: string; keyId: string; graceUntilMs: number; card: PeerCard; announcedTo: string[] }> {
    const graceMs = options.graceMs && options.graceMs > 0 ? options.graceMs : this.options.config.keys.rotationGraceMs;
    if (graceMs < 60_000) {
      return Promise.reject(
        new TracenetError(
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          'the grace must be at least one minute; use a revocation to drop keys at once',
          { field: 'grace_ms', rule: 'min_grace' },
        ),
      );
    }
    return this.#serialize(async () => {
      const rotation = await this.#replaceKeys(graceMs, false);
      const body = (card: PeerCard) =>
        KeyRotation.encode({
          card,
          previousKeyId: rotation.previousKeyId,
          graceUntilMs: rotation.graceUntilMs,
        }).finish();
      const announcedTo = await this.#announce(
        MessageKind.MESSAGE_KIND_KEY_ROTATION,
        body(this.#card),
        rotation.previousKeyId,
        graceMs,
        [
          keyAuditEvent('keys.rotated', {
            previousKeyId: rotation.previousKeyId,
            keyId: rotation.keyId,
            graceUntilMs: rotation.graceUntilMs,
            tlsFingerprint: PeerCardBody.decode(this.#card.body).tlsCertificateSha256.toString('hex'),
          }),
        ],
      );
      return { ...rotation, card: this.#card, announcedTo };
    });
  }

  /**
   * Revokes the node's current keys (docs/protocol.md 15.3): rotates without grace, refuses at
   * once anything addressed to the revoked keys, and sends every pinned peer a KEY_REVOCATION
   * signed with the new keys. Peers can open it only once they pinned the new card out of band
   * (`tracenet peers add --replace-keys`) or on the word of a roster; the outbox retries until then.
   */
  revokeKeys(
    options: { reason?: string } = {},
  ): Promise<{ revokedKeyId: string; keyId: string; card: PeerCard; announcedTo: string[] }> {
    const reason = options.reason ?? '';
    if (reason.length > 500)
      return Promise.reject(
        new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'reason is longer than 500 characters', {
          field: 'reason',
          rule: 'max_length',
        }),
      );
    return this.#serialize(async () => {
      const rotation = await this.#replaceKeys(0, true);
      const body = KeyRevocation.encode({
        revokedKeyIds: [rotation.previousKeyId],
        revokedAtMs: this.options.clock.now(),
        reason,
      }).finish();
      const announcedTo = await this.#announce(
        MessageKind.MESSAGE_KIND_KEY_REVOCATION,
        body,
        undefined,
        this.options.config.envelope.defaultTtlMs,
        [keyAuditEvent('keys.revoked', { revokedKeyId: rotation.previousKeyId, keyId: rotation.keyId })],
      );
      return { revokedKeyId: rotation.previousKeyId, keyId: rotation.keyId, card: this.#card, announcedTo };
    });
  }

  /**
   * Erases the secret key files of retired keys whose grace has ended (docs/protocol.md 15.2), with
   * an audit entry `keys.erased` per key id. Runs at start and once a minute; returns the key ids.
   */
  eraseRetiredKeys(): Promise<string[]> {
    return this.#serialize(async () => {
      const erased = await eraseRetiredSecrets(this.options.dataDir, this.identity, this.options.clock.now());
      if (erased.length === 0) return erased;
      await this.journal.write(
        [],
        erased.map((keyId) => keyAuditEvent('keys.erased', { keyId })),
      );
      this.logger.info({ keyIds: erased }, 'secret keys of retired keys erased: their grace has ended');
      return erased;
    });
  }

  #serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#rotating.then(work, work);
    this.#rotating = run.catch(() => undefined);
    return run;
  }

  /** New key files, new card, new TLS certificate on the Federation port. */
  async #replaceKeys(
    graceMs: number,
    revoke: boolean,
  ): Promise<{ previousKeyId: string; keyId: string; graceUntilMs: number }> {
    const now = this.options.clock.now();
    const previous = PeerCardBody.decode(this.#card.body);
    const rotation = await rotateKeys(this.options.dataDir, this.identity, { nowMs: now, graceMs, revoke });
    // Peers accept a rotation only to a newer card (15.2), even within the millisecond of the last one.
    this.#card = issuePeerCard(
      this.identity,
      previous.endpoints,
      Math.max(now, previous.issuedAtMs + 1),
      this.#recordsProfile(now),
    );
    await writeCardFile(this.options.dataDir, this.#card);
    this.#federation?.replaceCertificate(this.identity.tls);
    this.logger.warn(
      {
        previousKeyId: rotation.previousKeyId,
        keyId: rotation.keyId,
        revoked: revoke,
        graceUntil: new Date(rotation.graceUntilMs).toISOString(),
      },
      revoke ? 'keys revoked and replaced' : 'keys rotated',
    );
    return rotation;
  }

  /** Queues one key message per pinned peer, with the audit entry of the change, in one batch. */
  async #announce(
    kind: MessageKind,
    body: Uint8Array,
    senderKeyId: string | undefined,
    ttlMs: number,
    audit: ReturnType<typeof keyAuditEvent>[],
  ): Promise<string[]> {
    const prepared = this.peers.list().map((peer) =>
      this.outbox.prepare({
        recipient: peer.participantId,
        kind,
        body,
        ttlMs,
        urgent: true,
        ...(senderKeyId !== undefined ? { senderKeyId } : {}),
      }),
    );
    await this.journal.write(
      prepared.flatMap((p) => p.operations),
      [...audit, ...prepared.flatMap((p) => p.audit)],
    );
    for (const p of prepared) p.schedule();
    return this.peers.list().map((peer) => peer.participantId);
  }

  /** The records profile this node declares in its card (`records.profile`, docs/protocol.md 17.2). */
  #recordsProfile(nowMs: number): RecordsProfile | undefined {
    return profileFromConfig(this.options.config.records.profile, nowMs);
  }

  async #refreshCard(endpoints: readonly string[]): Promise<void> {
    const body = PeerCardBody.decode(this.#card.body);
    const now = this.options.clock.now();
    const sameEndpoints =
      body.endpoints.length === endpoints.length && body.endpoints.every((e, i) => e === endpoints[i]);
    const fresh =
      body.keyId === this.identity.keyId && body.validUntilMs - now > (body.validUntilMs - body.validFromMs) / 2;
    const profile = this.#recordsProfile(now);
    const sameProfile = isDeepStrictEqual(body.recordsProfile, profile);
    if (sameEndpoints && fresh && sameProfile) return;
    this.#card = issuePeerCard(this.identity, endpoints, Math.max(now, body.issuedAtMs + 1), profile);
    await writeCardFile(this.options.dataDir, this.#card);
    this.logger.info({ endpoints }, 'peer card re-issued');
  }
}

import { ParticipantKind, PeerPolicy } from '@tracenet/proto';
import { outcomeOf, type Outcome } from './check.js';
import type { ParticipantKeys } from './codec/index.js';
import { type FakePeer, PeerHost } from './fake-peer.js';
import { connectTarget, spawnEnvironment, type SpawnIdentity, spawnTarget, type Target } from './target.js';

/**
 * What a case is about. A node may declare that it lacks an optional feature
 * (`--without lookups`); the cases of that feature are then skipped, never passed.
 */
export const FEATURES = [
  'envelope',
  'delivery',
  'access',
  'request',
  'workflow',
  'deadlines',
  'lookups',
  'restrictions',
  'panels',
  'keys',
  'limits',
  'authority',
  'outbound',
  'quality',
  'destruction',
  'reexport',
] as const;
export type Feature = (typeof FEATURES)[number];

/**
 * Features a node may lack and still be a Tracenet node; the others are the core of tracenet.v1.
 * `limits` are the Federation port's limits of protocol 5.1, which a node SHOULD apply.
 */
export const OPTIONAL_FEATURES: readonly Feature[] = [
  'deadlines',
  'lookups',
  'restrictions',
  'panels',
  'keys',
  'limits',
  'quality',
  'destruction',
  'reexport',
];

/**
 * One black-box check of one rule of docs/protocol.md, run against the node under test over the
 * wire. It throws a {@link CaseFailure} (expected vs got) when the node breaks the rule.
 *
 * @example
 * ```ts
 * const c: ConformanceCase = {
 *   id: 'envelope.tampered-header', section: '4.5', feature: 'envelope',
 *   title: 'a header changed on the path fails the AEAD check',
 *   async run(ctx) { ... },
 * };
 * ```
 */
export interface ConformanceCase {
  /** Stable id, `<area>.<rule>`; expected-failure lists and `--only` name cases by it. */
  readonly id: string;
  /** The section of docs/protocol.md it enforces, e.g. `4.5`. */
  readonly section: string;
  /** Further sections whose rules it also enforces (a rule stated in one place and applied in another). */
  readonly cites?: readonly string[];
  readonly feature: Feature;
  readonly title: string;
  run(ctx: CaseContext): Promise<void>;
}

/** What the suite tells the cases about the node under test beyond its card. */
export interface SuiteSettings {
  /** The node's `max_envelope_bytes` (protocol 4.2); 4 MiB by default. */
  readonly maxEnvelopeBytes: number;
  /** The node's replay window `W` (protocol 4); 5 minutes by default. */
  readonly replayWindowMs: number;
  /** The node's `outbox.attemptTimeoutMs` (protocol 5.5); 10 s by default. */
  readonly attemptTimeoutMs: number;
  /** Federation connections of one source address still in their TLS handshake (protocol 5.1); 8 by default. */
  readonly maxConnectionsPerAddress: number;
  /** How long a Federation TLS handshake may take from the connection (protocol 5.1); 5 s by default. */
  readonly handshakeTimeoutMs: number;
  /** Federation connections of one pinned peer's client certificate (protocol 5.1); 4 by default. */
  readonly maxConnectionsPerPeer: number;
  /** Requests of one pinned peer whose message is still arriving; the others wait unread (protocol 5.1); 2 by default. */
  readonly maxArrivingPerPeer: number;
  /** How long a Federation request message may take to arrive, from the call's start (protocol 5.1); 10 s by default. */
  readonly arrivalTimeoutMs: number;
}

/**
 * The Federation port limits the suite assumes of the node under test: the reference node's
 * defaults (`federation.*` in docs/reliability.md, section Security). A node with others tells
 * the suite (`--max-connections-per-address`, …) or declares `--without limits`.
 */
export const DEFAULT_PORT_LIMITS = {
  maxConnectionsPerAddress: 8,
  handshakeTimeoutMs: 5000,
  maxConnectionsPerPeer: 4,
  maxArrivingPerPeer: 2,
  arrivalTimeoutMs: 10_000,
} as const satisfies Partial<SuiteSettings>;

/** How a case gets a fake peer: pinned on the node (default) and with a policy, if given. */
export interface PeerOptions {
  readonly policy?: Partial<PeerPolicy>;
  readonly kind?: ParticipantKind;
  /** Pin the peer's card on the node (default true). */
  readonly pin?: boolean;
  /** Validity of the peer's card from now (default one day). */
  readonly validForMs?: number;
  /** Its participant id (default: a fresh one) and keys (default: new ones). */
  readonly participantId?: string;
  readonly keys?: ParticipantKeys;
}

/** A node under test and the fake peers the suite plays against it. */
export interface NodeUnderTest {
  readonly target: Target;
  readonly host: PeerHost;
  /** A new fake peer, pinned on the node through `Authority.AddPeer` and given a policy. */
  peer(options?: PeerOptions): Promise<FakePeer>;
  /** Sets the node's whole policy for a peer (`Authority.SetPeerPolicy`, protocol 12.5). */
  setPolicy(peer: FakePeer, policy: Partial<PeerPolicy>): Promise<void>;
}

/** A node a case started for itself (docs/conformance.md section 3): it can be restarted. */
export interface OwnNode extends NodeUnderTest {
  /** Stops the node and runs its command again on the same data; `target` and `host` follow. */
  restart(): Promise<void>;
  /** Reads the node's card again (after it rotated its keys, 15.2); `target` and `host` follow. */
  reconnect(): Promise<void>;
}

/** How a case may start nodes of its own: the `--spawn` command. */
export interface Spawner {
  readonly command: string;
  readonly readyTimeoutMs?: number;
}

/** Thrown by a case that cannot run against this target; the runner reports it skipped with the reason. */
export class CaseSkipped extends Error {
  override readonly name = 'CaseSkipped';
}

/** What a case works with. Fake peers it creates belong to it: what they receive unasked fails it. */
export interface CaseContext extends NodeUnderTest {
  readonly settings: SuiteSettings;
  /** Captures a call's answer or error as received. */
  call<T>(promise: Promise<T>): Promise<Outcome<T>>;
  /** The fake peers of this case, also those of its own nodes. */
  readonly peers: readonly FakePeer[];
  /**
   * Starts a fresh node of the case's own with the `--spawn` command (section 3 of
   * docs/conformance.md), with what `identity` asks; it is stopped when the case ends. Without
   * `--spawn` the case is skipped.
   */
  node(identity?: SpawnIdentity): Promise<OwnNode>;
  /** Stops the case's own nodes (the runner calls it when the case ends). */
  dispose(): Promise<void>;
}

/** Fake peers of `host` against `target`, each pushed to `peers`. */
function attach(host: PeerHost, peers: FakePeer[]): NodeUnderTest {
  const setPolicy = async (peer: FakePeer, policy: Partial<PeerPolicy>) => {
    await host.target.authority.call('setPeerPolicy', {
      policy: PeerPolicy.fromPartial({ ...policy, participantId: peer.participantId }),
    });
  };
  return {
    get target() {
      return host.target;
    },
    host,
    async peer(options = {}) {
      const peer = host.createPeer({
        ...(options.kind ? { kind: options.kind } : {}),
        ...(options.validForMs ? { validForMs: options.validForMs } : {}),
        ...(options.participantId ? { participantId: options.participantId } : {}),
        ...(options.keys ? { keys: options.keys } : {}),
      });
      peers.push(peer);
      if (options.pin ?? true) {
        await host.target.authority.call('addPeer', { card: peer.card, replaceKeys: false });
        if (options.policy) await setPolicy(peer, options.policy);
      }
      return peer;
    },
    setPolicy,
  };
}

/** Builds the context of one case; `spawner` lets it start nodes of its own. */
export function caseContext(target: Target, host: PeerHost, settings: SuiteSettings, spawner?: Spawner): CaseContext {
  const peers: FakePeer[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const main = attach(host, peers);
  return {
    ...main,
    get target() {
      return target;
    },
    settings,
    peers,
    call: outcomeOf,
    async node(identity = {}) {
      if (!spawner) throw new CaseSkipped('this case starts a node of its own: run the suite with --spawn');
      const spawned = await spawnTarget(spawner.command, {
        env: spawnEnvironment(identity),
        ...(spawner.readyTimeoutMs ? { readyTimeoutMs: spawner.readyTimeoutMs } : {}),
      });
      // What to close when the case ends; filled as the node comes up.
      const own: { target?: Target; host?: PeerHost } = {};
      cleanups.push(async () => {
        await own.host?.stop();
        own.target?.close();
        await spawned.stop();
      });
      own.target = await connectTarget(spawned.address);
      const host = await PeerHost.start(own.target, { replayWindowMs: settings.replayWindowMs });
      own.host = host;
      return {
        ...attach(host, peers),
        get target() {
          return host.target;
        },
        async restart() {
          const address = await spawned.restart();
          own.target?.close();
          own.target = await connectTarget(address);
          host.retarget(own.target);
        },
        async reconnect() {
          own.target?.close();
          own.target = await connectTarget(spawned.address);
          host.retarget(own.target);
        },
      };
    },
    async dispose() {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    },
  };
}

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import type Dockerode from 'dockerode';
import { GenericContainer, getContainerRuntimeClient, type StartedTestContainer, Wait } from 'testcontainers';
import {
  CasesClient,
  type CasesServer,
  type GetDeliveryStatsResponse,
  type MessageDirection,
  type MessageSummary,
  PeerPolicy,
} from '@tracenet/proto';
import { buildNodeImage } from '../../../scripts/docker/build-node-image.mjs';
import { ensureDockerEngine, engineVersion } from '../../../scripts/docker/engine.mjs';
import { connectAuthority, type LocalAuthorityClient } from '../../src/api/authority-client.js';
import { type AuthorityChannel, connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { listAllMessages, requireBuiltCli, until } from '../integration/processes.js';

// Ryuk (testcontainers' reaper) is an image that cannot be pulled here: every container and
// network is removed by Cluster.stop() instead. The Docker host is this machine.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';

/** Port of the Federation service inside every container; cards advertise `<alias>:7443`. */
export const FEDERATION_PORT = 7443;
/** Port of the Authority API inside every container, mapped to 127.0.0.1 on the host for the test. */
export const AUTHORITY_PORT = 7444;

/** Whether the cluster tier can run here, and why not. */
export type DockerAvailability =
  | { readonly ok: true; readonly image: string; readonly setupMs: number; readonly engine: string }
  | { readonly ok: false; readonly reason: string };

let availability: Promise<DockerAvailability> | undefined;

/**
 * Starts (or finds) a Docker engine and builds the node image from the built repo, once per test
 * process. As root it installs and starts the engine itself (scripts/docker/engine.mjs); otherwise
 * the tier is skipped with the reason. In CI (`CI` set) a missing engine is an error instead.
 */
export function dockerForTests(): Promise<DockerAvailability> {
  availability ??= (async (): Promise<DockerAvailability> => {
    const started = Date.now();
    const engine = await ensureDockerEngine({ log: (line) => console.info(`[cluster] ${line}`) });
    if (!engine.ok) {
      if (process.env.CI)
        throw new Error(`cluster tier: CI must run it, but there is no Docker engine: ${engine.reason}`);
      return { ok: false, reason: engine.reason };
    }
    requireBuiltCli();
    const { image } = await buildNodeImage({ log: (line) => console.info(`[cluster] ${line}`) });
    return { ok: true, image, setupMs: Date.now() - started, engine: engineVersion() };
  })();
  return availability;
}

/** A GenericContainer whose Authority port is published on 127.0.0.1 only (never on every interface). */
class NodeContainer extends GenericContainer {
  withLoopbackPort(port: number): this {
    this.withExposedPorts(port);
    this.hostConfig.PortBindings = {
      ...this.hostConfig.PortBindings,
      [`${port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '0' }],
    };
    return this;
  }
}

/** One node container with its data directory bound from the host and clients for its Authority API. */
export class ClusterNode {
  #authority: LocalAuthorityClient | undefined;
  #cases: UnaryClient<CasesServer> | undefined;
  #port = 0;

  constructor(
    readonly participantId: string,
    /** Network alias: the host name in the node's card. */
    readonly alias: string,
    /** The node's data directory on the host (bound at /data/node in the container). */
    readonly dataDir: string,
    readonly container: StartedTestContainer,
    private readonly docker: Dockerode,
    private readonly network: Dockerode.Network,
    private readonly networkName: string,
    private readonly token: string,
  ) {}

  get id(): string {
    return this.container.getId();
  }

  #handle(): Dockerode.Container {
    return this.docker.getContainer(this.id);
  }

  /**
   * The Authority port of the container listens on 0.0.0.0, so over TLS (protocol 7.1), with the
   * certificate the entry point made in the data directory.
   */
  #channel(): AuthorityChannel {
    return {
      credentials: credentials.createSsl(readFileSync(join(this.dataDir, 'authority.crt'))),
      options: { 'grpc.ssl_target_name_override': 'localhost' },
    };
  }

  /** The Authority API, through the port published on 127.0.0.1. */
  get client(): LocalAuthorityClient {
    this.#authority ??= connectAuthority(`127.0.0.1:${this.#port}`, this.token, this.#channel());
    return this.#authority;
  }

  /** The Cases service of the Authority API. */
  get cases(): UnaryClient<CasesServer> {
    this.#cases ??= connectUnary<CasesServer>(CasesClient, `127.0.0.1:${this.#port}`, this.token, this.#channel());
    return this.#cases;
  }

  stats(): Promise<GetDeliveryStatsResponse> {
    return this.client.call('getDeliveryStats', {});
  }

  /** Every message of one direction, paging with the API's cursor. */
  listAll(direction: MessageDirection): Promise<MessageSummary[]> {
    return listAllMessages(this.client, direction);
  }

  closeClients(): void {
    this.#authority?.close();
    this.#cases?.close();
    this.#authority = undefined;
    this.#cases = undefined;
  }

  /** Reads the published Authority port (it changes when the container starts again) and waits until the node answers. */
  async ready(timeoutMs = 30_000): Promise<void> {
    const info = await this.#handle().inspect();
    const binding = info.NetworkSettings.Ports[`${AUTHORITY_PORT}/tcp`]?.[0];
    if (!binding) throw new Error(`${this.participantId}: Authority port not published`);
    this.closeClients();
    this.#port = Number(binding.HostPort);
    await until(
      async () => {
        try {
          await this.client.call('getNodeInfo', {});
          return true;
        } catch {
          return false;
        }
      },
      `${this.participantId} answering on 127.0.0.1:${this.#port}`,
      timeoutMs,
      100,
    );
  }

  /** `docker kill -s KILL`: a crash. Resolves once the container has stopped. */
  async kill(): Promise<void> {
    this.closeClients();
    await this.#handle().kill({ signal: 'SIGKILL' });
    await this.#handle().wait();
  }

  /** `docker stop`: SIGTERM to the node (PID 1), SIGKILL after `graceSeconds`. */
  async stop(graceSeconds = 20): Promise<void> {
    this.closeClients();
    const info = await this.#handle().inspect();
    if (info.State.Running) await this.#handle().stop({ t: graceSeconds });
  }

  /** The exit code of a stopped container (0 after a graceful stop, 137 after SIGKILL). */
  async exitCode(): Promise<number> {
    return (await this.#handle().inspect()).State.ExitCode;
  }

  /** `docker start` of the same container: same data (bind), same alias and network. */
  async start(): Promise<void> {
    await this.#handle().start();
    await this.ready();
  }

  /** Freezes every process of the container (cgroup freezer): it neither reads nor answers. */
  async pause(): Promise<void> {
    await this.#handle().pause();
  }

  async unpause(): Promise<void> {
    await this.#handle().unpause();
  }

  /** The container's address on the cluster network. */
  async address(): Promise<string> {
    const info = await this.#handle().inspect();
    const address = info.NetworkSettings.Networks[this.networkName]?.IPAddress;
    if (!address) throw new Error(`${this.participantId} has no address on the cluster network`);
    return address;
  }

  /** Cuts the container off the network (a partition); returns its address, for {@link reconnect}. */
  async disconnect(): Promise<string> {
    const address = await this.address();
    await this.network.disconnect({ Container: this.id, Force: true });
    return address;
  }

  /** Joins the network again with the same address and alias: the partition heals. */
  async reconnect(address: string): Promise<void> {
    await this.network.connect({
      Container: this.id,
      EndpointConfig: { Aliases: [this.alias], IPAMConfig: { IPv4Address: address } },
    });
  }

  /** The node's log (pino JSON lines and stderr), for failure messages. */
  async logs(tail = 40): Promise<string> {
    // Without a TTY, Docker frames each chunk: 1 byte stream, 3 zero bytes, 4 bytes length (big endian).
    const framed = (await this.#handle().logs({ stdout: true, stderr: true, tail })) as unknown as Buffer;
    const chunks: Buffer[] = [];
    for (let at = 0; at + 8 <= framed.length; ) {
      const length = framed.readUInt32BE(at + 4);
      chunks.push(framed.subarray(at + 8, at + 8 + length));
      at += 8 + length;
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

/** How to start a cluster. */
export interface ClusterOptions {
  readonly image: string;
  readonly participants: readonly string[];
  /** Policies to set once all are pinned: on node `of`, for peer `policy.participantId`. */
  readonly policies?: ReadonlyArray<{ of: string; policy: Pick<PeerPolicy, 'participantId'> & Partial<PeerPolicy> }>;
  /** Environment of every node (e.g. TRACENET_OUTBOX_MAX_BACKOFF_MS). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * 3–5 node containers on a Docker network of their own (a /24 chosen at random in 10.213.0.0/16, so
 * that a reconnected node gets its address back), each with its data directory bound from a
 * host temporary directory. Every card advertises `<alias>:7443`; the cards are pinned through
 * the Authority API. Each container is also on Docker's default bridge, which carries only the
 * published Authority port: the test reaches a partitioned node's API, its peers cannot reach it
 * (they know it by its alias, which only the cluster network resolves). `stop()` removes containers, network and directories, also after a failure.
 */
export class Cluster {
  readonly nodes = new Map<string, ClusterNode>();
  #baseDir = '';
  #stopped = false;

  private constructor(
    private readonly docker: Dockerode,
    private readonly network: Dockerode.Network,
    readonly networkName: string,
  ) {}

  static async start(options: ClusterOptions): Promise<Cluster> {
    const client = await getContainerRuntimeClient();
    const docker = client.container.dockerode;
    const name = `tracenet-cluster-${process.pid}-${Date.now().toString(36)}`;
    let network: Dockerode.Network | undefined;
    for (let attempt = 0; !network; attempt++) {
      const subnet = `10.213.${Math.floor(Math.random() * 250) + 1}.0/24`;
      try {
        network = await docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          CheckDuplicate: true,
          IPAM: { Config: [{ Subnet: subnet }] },
          Labels: { 'tracenet.test': 'cluster' },
        });
      } catch (error) {
        if (attempt >= 10 || !/overlap|in use/i.test(String(error))) throw error;
      }
    }
    const cluster = new Cluster(docker, network, name);
    try {
      cluster.#baseDir = await mkdtemp(join(tmpdir(), 'tracenet-cluster-'));
      await Promise.all(options.participants.map((id) => cluster.#startNode(options, id)));
      const all = [...cluster.nodes.values()];
      const cards = await Promise.all(
        all.map(async (n) => ({ id: n.participantId, card: (await n.client.call('getNodeInfo', {})).card })),
      );
      await Promise.all(
        all.map((n) =>
          Promise.all(
            cards
              .filter((c) => c.id !== n.participantId)
              .map((c) => n.client.call('addPeer', { card: c.card, replaceKeys: false })),
          ),
        ),
      );
      for (const { of, policy } of options.policies ?? [])
        await cluster.node(of).client.call('setPeerPolicy', { policy: PeerPolicy.fromPartial(policy) });
      return cluster;
    } catch (error) {
      const logs = await Promise.all(
        [...cluster.nodes.values()].map(async (n) => `--- ${n.participantId}\n${await n.logs(15).catch(() => '')}`),
      );
      await cluster.stop();
      throw new Error(`cluster did not start: ${String(error)}\n${logs.join('\n')}`, { cause: error });
    }
  }

  async #startNode(options: ClusterOptions, participantId: string): Promise<void> {
    const alias = participantId.toLowerCase().replace(/[^a-z0-9-]/g, '-');
    const bind = join(this.#baseDir, alias);
    const container = await new NodeContainer(options.image)
      .withNetworkMode(this.networkName)
      .withNetworkAliases(alias)
      .withHostname(alias)
      .withEnvironment({ TRACENET_ID: participantId, TRACENET_ENDPOINT: `${alias}:${FEDERATION_PORT}`, ...options.env })
      .withBindMounts([{ source: bind, target: '/data' }])
      .withLoopbackPort(AUTHORITY_PORT)
      .withCommand(['--log-level', 'info'])
      .withWaitStrategy(Wait.forLogMessage(/"msg":"node ready"/))
      .withStartupTimeout(30_000)
      .start();
    const dataDir = join(bind, 'node');
    const node = new ClusterNode(
      participantId,
      alias,
      dataDir,
      container,
      this.docker,
      this.network,
      this.networkName,
      await readAuthorityToken(dataDir),
    );
    this.nodes.set(participantId, node);
    await node.ready();
  }

  node(participantId: string): ClusterNode {
    const node = this.nodes.get(participantId);
    if (!node) throw new Error(`${participantId} is not part of this cluster`);
    return node;
  }

  /** Stops every node gracefully (SIGTERM), so that their stores can be read from the host. */
  async stopNodes(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.stop()));
  }

  /** Removes containers and network and deletes the data directories. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const node of this.nodes.values()) node.closeClients();
    await Promise.all(
      [...this.nodes.values()].map((n) =>
        this.docker
          .getContainer(n.id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
    );
    await this.network.remove().catch(() => undefined);
    if (this.#baseDir) await rm(this.#baseDir, { recursive: true, force: true });
  }
}

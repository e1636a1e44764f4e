import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@tracenet/proto';
import { Registry } from '../../src/registry/registry.js';
import { ManualClock } from '../../src/util/clock.js';
import { testLogger } from '../support/nodes.js';
import { createTestDatabase, databaseUrl, exampleAdapter, type TestDatabase } from '../support/postgres.js';
import { ALIASES, NOW } from './fixtures.js';

/**
 * A PostgreSQL registry that is down at start, comes up, goes away and comes back, seen through a
 * TCP relay the test opens and closes in front of the real server: the registry never stops the
 * node, answers UNAVAILABLE (retryable) while it is away, and answers again without a restart.
 */
class Relay {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async up(): Promise<void> {
    this.#server = createServer((client) => {
      const upstream = tcpConnect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.#sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.#server?.listen(this.port, '127.0.0.1', resolve));
  }

  async down(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    this.#server = undefined;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('a PostgreSQL registry that comes and goes', () => {
  let db: TestDatabase;
  let relay: Relay;
  let registry: Registry;
  beforeAll(async () => {
    db = await createTestDatabase({ seed: true });
    const real = new URL(db.url);
    relay = new Relay(await freePort(), { host: real.hostname, port: Number(real.port) });
    const viaRelay = new URL(db.url);
    viaRelay.port = String(relay.port);
    const adapter = exampleAdapter({ url: databaseUrl(viaRelay.toString(), db.name) }, testLogger());
    registry = new Registry({
      adapters: [adapter],
      aliases: () => ALIASES,
      clock: new ManualClock(NOW),
      logger: testLogger(),
    });
  });
  afterAll(async () => {
    await registry?.close();
    await relay?.down();
    await db?.drop();
  });

  const fal = { manufacturer: 'FN Herstal', serialNumber: 'FN-1998-0042', model: '', calibre: '', type: 0 };

  it('does not stop the start while the database is down, and answers once it is up', async () => {
    await expect(registry.open()).resolves.toBeUndefined();
    await expect(registry.findExact(fal)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      retryable: true,
    });
    expect((await registry.health())[0]).toMatchObject({ kind: 'postgres', ok: false });
    // What the monitor keeps for status and health: down, the driver's reason, never the URL.
    const [down] = registry.monitor.statuses();
    expect(down).toMatchObject({ kind: 'postgres', up: false, lastError: expect.stringMatching(/^UNAVAILABLE: /) });
    const password = new URL(db.url).password;
    if (password !== '') expect(down?.lastError).not.toContain(password);
    expect(down?.lastError).not.toContain('postgres://');
    await relay.up();
    expect((await registry.findExact(fal)).map((r) => r.recordId)).toEqual(['pg_1']);
    expect((await registry.health())[0]).toEqual({ kind: 'postgres', ok: true });
    expect(registry.monitor.statuses()[0]).toMatchObject({ up: true, lastError: down?.lastError });
  });

  it('fails UNAVAILABLE while the database is away, and answers again when it is back, without a restart', async () => {
    await relay.down();
    await expect(registry.findExact(fal)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      retryable: true,
    });
    await relay.up();
    // The pool drops the broken connections and opens new ones.
    let found: string[] = [];
    for (let attempt = 0; attempt < 20 && found.length === 0; attempt += 1) {
      found = await registry.findExact(fal).then(
        (records) => records.map((r) => r.recordId),
        () => [],
      );
    }
    expect(found).toEqual(['pg_1']);
  });
});

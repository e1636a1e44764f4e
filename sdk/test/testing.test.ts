import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTestFederation } from '../src/testing.js';
import { isAlive } from './support/requests.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A loopback server on a port the system chose: holds the port until closed. */
async function listening(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** Ports free a moment ago (the system gave them, then they were released). */
async function freePorts(count: number): Promise<number[]> {
  const held = await Promise.all(Array.from({ length: count }, listening));
  await Promise.all(held.map(({ server }) => new Promise((resolve) => server.close(resolve))));
  return held.map(({ port }) => port);
}

describe('the test kit', () => {
  it('starts pinned nodes with a client each, and stop() leaves no process or directory behind', async () => {
    const federation = await createTestFederation({ participants: ['FRA', 'BEL'] });
    const nodes = federation.participants.map((p) => federation.node(p));
    try {
      expect((await federation.client('FRA').authority.listPeers({})).peers.map((p) => p.participantId)).toEqual([
        'BEL',
      ]);
      expect((await federation.client('BEL').authority.getNodeInfo({})).participantId).toBe('BEL');
      for (const node of nodes) expect(isAlive(node.pid)).toBe(true);
    } finally {
      await federation.stop();
      await federation.stop(); // idempotent
    }
    for (const node of nodes) expect(isAlive(node.pid), `node ${node.pid} outlived stop()`).toBe(false);
    expect(existsSync(federation.baseDir), `${federation.baseDir} left behind`).toBe(false);
  });

  it('cleans up after a restarted node and after a test that throws before calling stop()', async () => {
    // A test program that starts a federation, restarts a node, prints what it started, and crashes.
    const program = `
      import { createTestFederation } from '@tracenet/sdk/testing';
      const federation = await createTestFederation({ participants: ['FRA', 'BEL'] });
      const first = federation.node('FRA').pid;
      await federation.restart('FRA');
      console.log(JSON.stringify({ baseDir: federation.baseDir, pids: [first, federation.node('FRA').pid, federation.node('BEL').pid] }));
      throw new Error('the test failed');
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', program], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain('the test failed');
    const started = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { baseDir: string; pids: number[] };
    expect(started.pids).toHaveLength(3);
    // The exit hook sends SIGKILL; give the kernel a moment to deliver it.
    for (let i = 0; i < 100 && started.pids.some(isAlive); i += 1) await new Promise((r) => setTimeout(r, 50));
    for (const pid of started.pids) expect(isAlive(pid), `node ${pid} outlived its test`).toBe(false);
    expect(existsSync(started.baseDir), `${started.baseDir} left behind`).toBe(false);
  });

  it('gives one node its own environment, also across a restart: BEL answers from a CSV registry, FRA does not', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'tracenet-kit-registry-'));
    await writeFile(
      join(folder, 'weapons.csv'),
      'manufacturer,serial_number,type,event1_type,event1_date\nFN Herstal,FN-1998-0042,rifle,manufactured,1998-03-02\n',
    );
    const federation = await createTestFederation({
      participants: ['FRA', 'BEL'],
      nodeEnv: { BEL: { TRACENET_REGISTRY_ADAPTER: 'csv', TRACENET_REGISTRY_CSV_FOLDER: folder } },
    });
    const search = async (id: string) =>
      (
        await federation.client(id).records.searchRecords({
          query: { manufacturer: 'FN Herstal', serialNumber: 'fn19980042', model: '', calibre: '', type: 0 },
          serialOnly: false,
          limit: 0,
        })
      ).records.map((r) => r.recordId.slice(0, 4));
    try {
      expect(await search('BEL')).toEqual(['csv_']);
      expect(await search('FRA')).toEqual([]);
      await federation.restart('BEL');
      expect(await search('BEL')).toEqual(['csv_']);
    } finally {
      await federation.stop();
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('takes fixed ports when asked, keeps them across a restart, and serves metrics on the one given', async () => {
    const [authority = 0, federationPort = 0, metrics = 0] = await freePorts(3);
    const federation = await createTestFederation({
      participants: ['FRA', 'BEL'],
      ports: { BEL: { authority, federation: federationPort, metrics } },
    });
    try {
      expect(federation.node('BEL').authorityAddress).toBe(`127.0.0.1:${authority}`);
      expect(federation.node('BEL').federationAddress).toBe(`127.0.0.1:${federationPort}`);
      expect(federation.node('FRA').authorityAddress).not.toBe(`127.0.0.1:${authority}`);
      expect((await fetch(`http://127.0.0.1:${metrics}/metrics`)).status).toBe(200);
      await federation.restart('BEL');
      expect((await federation.client('BEL').authority.getNodeInfo({})).participantId).toBe('BEL');
      expect((await fetch(`http://127.0.0.1:${metrics}/metrics`)).status).toBe(200);
    } finally {
      await federation.stop();
    }
  });

  it('refuses a taken port with an error naming the participant, the port and its use, starting nothing', async () => {
    const { server, port } = await listening();
    try {
      await expect(
        createTestFederation({ participants: ['FRA', 'BEL'], ports: { BEL: { authority: port } } }),
      ).rejects.toThrow(
        `ports.BEL.authority: port ${port} on 127.0.0.1, asked for the authority port of BEL, is taken (EADDRINUSE)`,
      );
      await expect(createTestFederation({ participants: ['FRA'], ports: { FRA: { authority: 0 } } })).rejects.toThrow(
        'ports.FRA.authority: 0 is not a port number',
      );
      await expect(
        createTestFederation({ participants: ['FRA'], ports: { BEL: { authority: 7444 } } }),
      ).rejects.toThrow('ports.BEL: BEL is not one of the participants');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { TracenetError } from '@tracenet/proto';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerRecordCommands } from '../../src/cli/records-commands.js';
import { recordToJson } from '../../src/records/record-json.js';
import { event, type RecordBed, type RecordsEndpoint, startRecordBed, startRecordsServer, weapon } from './support.js';

/** `tracenet records designate|destroy|certificate|verify-certificate|show` as an officer reads them. */

let bed: RecordBed;
let endpoint: RecordsEndpoint;
let dir: string;

beforeAll(async () => {
  bed = await startRecordBed();
  endpoint = await startRecordsServer(bed);
  dir = await mkdtemp(join(tmpdir(), 'tracenet-dd-cli-'));
});
afterAll(async () => {
  await endpoint?.close();
  await bed?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ stdout: string; exitCode: number; error?: TracenetError }> {
  let stdout = '';
  let exitCode = 0;
  const program = new Command('tracenet')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void (stdout += s), writeErr: () => undefined });
  registerRecordCommands(program, {
    connect: async () => ({
      address: endpoint.address,
      token: endpoint.token,
      channel: { credentials: credentials.createInsecure() },
    }),
    stdout: { write: (s: string) => void (stdout += s) },
    stderr: { write: () => undefined, isTTY: false },
    setExitCode: (code) => void (exitCode = code),
  });
  try {
    await program.parseAsync(['node', 'tracenet', 'records', ...args]);
    return { stdout, exitCode };
  } catch (error) {
    return { stdout, exitCode: 1, error: TracenetError.from(error) };
  }
}

describe('tracenet records designate, destroy, certificate, verify-certificate', () => {
  it('takes a collected weapon to a certificate another node can check, and says so in words', async () => {
    const file = join(dir, 'collected.json');
    const record = weapon({
      collection: {
        programme: 'DDR Phase II',
        collectionPoint: 'Bunia camp',
        date: '2025-11-02',
        uniqueMark: 'COD-DDR-2025-0007',
        conflictSetting: true,
      },
      events: [
        event(1, '1998-03-02', { place: 'Herstal' }),
        event(7, '2025-11-02', { place: 'Bunia', agency: 'DDR commission', circumstance: 5 }),
      ],
    });
    await writeFile(file, JSON.stringify(recordToJson(record)));
    const id = (JSON.parse((await cli('put', file, '--json')).stdout) as { recordId: string }).recordId;

    const early = await cli('destroy', id, '--date', '2026-01-10', '--method', 'cutting', '--witness', 'A. Mbala');
    expect(early.error?.rule).toBe('pending_destruction');
    expect(early.error?.message).toContain(`tracenet records designate ${id}`);

    expect((await cli('designate', id, '--date', '2026-01-05', '--deactivated')).stdout).toContain(
      `${id} is pending destruction since 2026-01-05 (deactivated).`,
    );
    const destroyed = await cli(
      'destroy',
      id,
      '--date',
      '2026-01-10',
      '--method',
      'cutting',
      '--witness',
      'A. Mbala',
      '--witness',
      'J. Okafor',
    );
    expect(destroyed.stdout).toContain(`${id} is recorded as destroyed on 2026-01-10.`);

    const shown = (await cli('show', id)).stdout;
    expect(shown).toContain('  circumstance of the surrendered event of 2025-11-02: collected in a DDR programme');
    expect(shown).toContain('  collected: 2025-11-02 in DDR Phase II at Bunia camp (conflict setting)');
    expect(shown).toContain('  unique mark applied at collection: COD-DDR-2025-0007');
    expect(shown).toContain('  destroyed: 2026-01-10 by cutting (designated 2026-01-05, deactivated)');
    expect(shown).toContain('  witnesses: A. Mbala; J. Okafor');

    const out = join(dir, 'dc.json');
    expect((await cli('certificate', id, '--out', out)).stdout).toContain(`of ${id} to ${out}.`);
    const valid = await cli('verify-certificate', out);
    expect(valid.stdout).toMatch(/^VALID: the certificate is signed by FRA with the key it names\./);
    expect(valid.exitCode).toBe(0);

    const changed = JSON.parse(await readFile(out, 'utf8')) as { body: string };
    const body = Buffer.from(changed.body, 'base64');
    body[body.indexOf('2026-01-10') + 9] = '1'.charCodeAt(0);
    await writeFile(join(dir, 'tampered.json'), JSON.stringify({ ...changed, body: body.toString('base64') }));
    const refused = await cli('verify-certificate', join(dir, 'tampered.json'));
    expect(refused.stdout).toContain('NOT VALID: the signature does not match');
    expect(refused.stdout).toContain('What it claims (not verified):');
    expect(refused.exitCode).toBe(1);

    // A forged file's claims are shown, not verified: a terminal escape in them stays visible text
    // on its line and cannot print a false VALID over the verdict.
    const forged = Buffer.from(changed.body, 'base64');
    const witness = forged.indexOf('A. Mbala');
    forged.write('\u001b[2K\rVAL', witness, 'latin1');
    await writeFile(join(dir, 'forged.json'), JSON.stringify({ ...changed, body: forged.toString('base64') }));
    const claimed = await cli('verify-certificate', join(dir, 'forged.json'));
    expect(claimed.stdout).toMatch(/^NOT VALID: the signature does not match/);
    expect(claimed.stdout).toContain('  witnesses:    \\x1b[2K\\rVAL; J. Okafor');
    expect(claimed.stdout).not.toContain('\u001b');
    expect(claimed.stdout).not.toContain('\r');
    expect(claimed.exitCode).toBe(1);
  });
});

/**
 * Accounts from the command line (issue 17, section 1), against a real node process: setup mode
 * in `tracenet status`, the first administrator (with its TOTP secret), the bootstrap token
 * refused after it, `tracenet login` keeping the session in a login file of mode 0600 that every
 * command then uses, officers and clients managed by the administrator, a client's API key used
 * through TRACENET_TOKEN and refused once revoked, and `tracenet logout`.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, totp } from '../../src/access/totp.js';
import { initSodium } from '../../src/crypto/sodium.js';
import { ProcessBed, requireBuiltCli } from './processes.js';

const bed = new ProcessBed();

beforeAll(async () => {
  requireBuiltCli();
  await initSodium();
});

afterAll(() => bed.cleanup());

describe('tracenet officers, clients, login and logout', () => {
  it('sets up the first administrator, signs in with a 0600 login file, and manages officers and clients', async () => {
    const dataDir = await bed.init('FRA');
    await bed.start(dataDir, { env: { TRACENET_LOG_LEVEL: 'error' } });
    const home = await bed.tempDir('cli-home');
    const env = { TRACENET_LOGIN_FILE: join(home, 'tracenet', 'logins.json') };
    const passwordFile = join(home, 'password');
    await writeFile(passwordFile, 'the administrator password\n', { mode: 0o600 });

    expect((await bed.cliOk(['status', '--data', dataDir], { env })).stdout).toContain('setup mode');
    const added = JSON.parse(
      (
        await bed.cliOk(
          [
            'officers',
            'add',
            'adam',
            '--role',
            'administrator',
            '--name',
            'Adam',
            '--password-file',
            passwordFile,
            '--json',
            '--data',
            dataDir,
          ],
          { env },
        )
      ).stdout,
    ) as { totpSecret: string; officer: { roles: string[]; totpRequired: boolean } };
    expect(added.officer).toMatchObject({ roles: ['administrator'], totpRequired: true });
    expect(added.totpSecret).toMatch(/^[A-Z2-7]{32}$/);

    // The bootstrap token is retired now.
    const refused = await bed.cli(['status', '--data', dataDir], { env });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('UNAUTHORIZED');
    expect(refused.stderr).toContain('first administrator');

    // A wrong TOTP code is refused and nothing is stored.
    const code = totp(base32Decode(added.totpSecret), Date.now());
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const bad = await bed.cli(['login', 'adam', '--password-file', passwordFile, '--totp', wrong, '--data', dataDir], {
      env,
    });
    expect(bad.code).not.toBe(0);
    await expect(stat(env.TRACENET_LOGIN_FILE)).rejects.toMatchObject({ code: 'ENOENT' });
    // Back-off of one second after the failure.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const signedIn = await bed.cliOk(
      [
        'login',
        'adam',
        '--password-file',
        passwordFile,
        '--totp',
        totp(base32Decode(added.totpSecret), Date.now()),
        '--data',
        dataDir,
      ],
      { env },
    );
    expect(signedIn.stdout).toContain('Signed in as adam (administrator)');
    const file = await stat(env.TRACENET_LOGIN_FILE);
    expect(file.mode & 0o777).toBe(0o600);
    expect((await stat(join(home, 'tracenet'))).mode & 0o777).toBe(0o700);
    const stored = await readFile(env.TRACENET_LOGIN_FILE, 'utf8');
    expect(stored).toMatch(/"token": "tns_[A-Za-z0-9_-]{43}"/);
    expect(stored).not.toContain('the administrator password');

    // Every command now acts as adam.
    const status = await bed.cliOk(['status', '--data', dataDir], { env });
    expect(status.stdout).not.toContain('setup mode');
    expect((await bed.cliOk(['whoami', '--data', dataDir], { env })).stdout).toContain(
      'officer adam with roles administrator',
    );

    await writeFile(passwordFile, 'an officer password here\n');
    await bed.cliOk(
      ['officers', 'add', 'olga', '--role', 'officer,auditor', '--password-file', passwordFile, '--data', dataDir],
      { env },
    );
    const list = (await bed.cliOk(['officers', 'list', '--data', dataDir], { env })).stdout;
    expect(list).toMatch(/adam\s+administrator\s+active/);
    expect(list).toMatch(/olga\s+officer,auditor\s+active/);
    await bed.cliOk(['officers', 'roles', 'olga', '--role', 'officer', '--data', dataDir], { env });
    await bed.cliOk(['officers', 'disable', 'olga', '--data', dataDir], { env });
    expect((await bed.cliOk(['officers', 'list', '--data', dataDir], { env })).stdout).toMatch(
      /olga\s+officer\s+disabled/,
    );
    const badRole = await bed.cli(['officers', 'roles', 'olga', '--role', 'chief', '--data', dataDir], { env });
    expect(badRole.code).not.toBe(0);
    expect(badRole.stderr).toContain('unknown role');

    const client = JSON.parse(
      (
        await bed.cliOk(
          ['clients', 'add', 'case-system', '--role', 'officer', '--expires', '30d', '--json', '--data', dataDir],
          { env },
        )
      ).stdout,
    ) as { apiKey: string };
    expect(client.apiKey).toMatch(/^tnk_/);
    const asClient = { ...env, TRACENET_TOKEN: client.apiKey };
    expect((await bed.cliOk(['whoami', '--data', dataDir], { env: asClient })).stdout).toContain('client case-system');
    expect((await bed.cliOk(['clients', 'list', '--data', dataDir], { env })).stdout).toMatch(
      /case-system\s+officer\s+key [0-9a-f]{16}.*active/,
    );
    // The client holds officer only: administration is refused.
    const forbidden = await bed.cli(['officers', 'list', '--data', dataDir], { env: asClient });
    expect(forbidden.stderr).toContain('FORBIDDEN');
    await bed.cliOk(['clients', 'revoke', 'case-system', '--data', dataDir], { env });
    const revoked = await bed.cli(['whoami', '--data', dataDir], { env: asClient });
    expect(revoked.code).not.toBe(0);
    expect(revoked.stderr).toContain('revoked');

    expect((await bed.cliOk(['logout', '--data', dataDir], { env })).stdout).toContain('Signed out adam');
    await expect(stat(env.TRACENET_LOGIN_FILE)).rejects.toMatchObject({ code: 'ENOENT' });
    // Back to the bootstrap token, which stays refused.
    expect((await bed.cli(['whoami', '--data', dataDir], { env })).stderr).toContain('UNAUTHORIZED');
  }, 90_000);
});

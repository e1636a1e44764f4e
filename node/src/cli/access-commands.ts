import type { Command } from 'commander';
import { Option } from 'commander';
import {
  AccessClient,
  type AccessServer,
  type ApiClient,
  ErrorCode,
  type Officer,
  TracenetError,
} from '@tracenet/proto';
import { connectUnary, type UnaryClient } from '../api/unary-client.js';
import { systemScheduler } from '../util/scheduler.js';
import {
  authorityChannel,
  connection,
  dataOption,
  jsonOption,
  output,
  parseDuration,
  readInput,
  running,
} from './context.js';
import { forgetLogin, saveLogin } from './login-file.js';
import { oidcLoginLines, runOidcLogin } from './oidc-login.js';

const ROLES = ['officer', 'supervisor', 'auditor', 'administrator'];

/** `--role <role>`, repeatable or comma-separated. */
function roleOption(description: string): Option {
  return new Option('-r, --role <role...>', `${description}: ${ROLES.join(', ')} (repeat or separate with commas)`);
}

const rolesOf = (values: readonly string[] | undefined) =>
  (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');

/**
 * A secret the user types: from the terminal without echo, or the first line of standard input
 * when it is not a terminal (scripts: `printf '%s\n' "$PASSWORD" | tracenet login ana`). Never
 * taken from the command line, where other users of the host could read it.
 */
export async function readSecret(prompt: string, input: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (!input.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of input) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const onData = (data: Buffer) => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          finish();
          resolve(typed);
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'cancelled', { rule: 'cancelled' }));
          return;
        }
        if (char === '\u007f') typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    const finish = () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    input.on('data', onData);
  });
}

/** `--password-file <file>`: the password is its first line (for scripts; keep the file at mode 0600). */
function passwordFileOption(): Option {
  return new Option(
    '--password-file <file>',
    'read the password from the first line of this file instead of the terminal',
  );
}

/** The password of `--password-file`, else typed ({@link readSecret}). */
async function password(file: string | undefined, prompt: string): Promise<string> {
  if (file === undefined) return readSecret(prompt);
  return (
    (await readInput(file, `--password-file names ${file}, which does not exist`, 'password-file')).split(/\r?\n/)[0] ??
    ''
  );
}

async function accessClient(dataDir: string): Promise<UnaryClient<AccessServer>> {
  const { address, token, channel } = await connection(dataDir);
  return connectUnary<AccessServer>(AccessClient, address, token, channel);
}

async function withAccess<T>(dataDir: string, work: (client: UnaryClient<AccessServer>) => Promise<T>): Promise<T> {
  const client = await accessClient(dataDir);
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

const iso = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : '-');

function officerLine(o: Officer): string {
  const state = o.disabled
    ? 'disabled'
    : o.lockedUntilMs > Date.now()
      ? `locked until ${iso(o.lockedUntilMs)}`
      : 'active';
  return `${o.officerId.padEnd(20)} ${o.roles.join(',').padEnd(28)} ${state.padEnd(10)} totp ${o.totpRequired ? 'yes' : 'no '}  last sign-in ${iso(o.lastLoginAtMs)}  ${o.displayName}`;
}

function clientLine(c: ApiClient, now: number): string {
  const state = c.revokedAtMs > 0 ? `revoked ${iso(c.revokedAtMs)}` : c.expiresAtMs <= now ? 'expired' : 'active';
  return `${c.clientId.padEnd(20)} ${c.roles.join(',').padEnd(28)} key ${c.keyId}  expires ${iso(c.expiresAtMs)}  ${state}`;
}

function totpLines(secret: string, uri: string): string[] {
  return secret
    ? [
        "Second factor: add this secret to the officer's authenticator app now; it is not shown again.",
        `  secret ${secret}`,
        `  ${uri}`,
      ]
    : [];
}

/** An expiry given as a duration from now (90d) or an ISO date. */
function expiryOf(text: string): number {
  if (/^\d+(ms|s|m|h|d)$/.test(text.trim())) return Date.now() + parseDuration(text);
  const at = Date.parse(text);
  if (Number.isNaN(at))
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `--expires "${text}" is neither a duration (90d) nor a date`,
      {
        field: 'expires',
        rule: 'expiry',
      },
    );
  return at;
}

/** Whether the running node of `dataDir` is in setup mode (no administrator account yet). */
export async function inSetupMode(dataDir: string): Promise<boolean> {
  return (await withAccess(dataDir, (c) => c.call('whoAmI', {}))).setupMode;
}

/**
 * Registers `tracenet officers add|list|disable|enable|roles|reset`, `tracenet clients
 * add|list|revoke`, `tracenet login`, `tracenet logout` and `tracenet whoami` (docs/operations.md,
 * "Accounts and approvals"). Passwords are read from the terminal without echo, or from standard
 * input; the session of `tracenet login` is kept in the user's login file at mode 0600 and used
 * by every later command in preference to the bootstrap token.
 *
 * @example
 * ```ts
 * registerAccessCommands(program);
 * ```
 */
export function registerAccessCommands(program: Command): void {
  const officers = program.command('officers').description('officer accounts and their roles (administrators)');

  officers
    .command('add <officer-id>')
    .description(
      'create an officer account; the password is read from the terminal (or standard input); supervisors and administrators get a TOTP secret to add to their authenticator',
    )
    .addOption(roleOption('roles of the officer').makeOptionMandatory())
    .option('--name <text>', 'display name', '')
    .option('--require-totp', 'require a TOTP code at sign-in whatever the roles')
    .addOption(passwordFileOption())
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(
      async (
        officerId: string,
        options: {
          role?: string[];
          name: string;
          requireTotp?: boolean;
          passwordFile?: string;
          data: string;
          json?: boolean;
        },
      ) => {
        const secret = await password(options.passwordFile, `Password for ${officerId}: `);
        const added = await withAccess(options.data, (c) =>
          c.call('addOfficer', {
            officerId,
            displayName: options.name,
            roles: rolesOf(options.role),
            password: secret,
            requireTotp: Boolean(options.requireTotp),
          }),
        );
        output(Boolean(options.json), added, () => [
          `Officer ${officerId} added with roles ${added.officer?.roles.join(', ')}.`,
          ...totpLines(added.totpSecret, added.totpUri),
        ]);
      },
    );

  officers
    .command('list')
    .description('list the officer accounts')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (options: { data: string; json?: boolean }) => {
      const { officers: list } = await withAccess(options.data, (c) => c.call('listOfficers', {}));
      output(Boolean(options.json), { officers: list }, () =>
        list.length === 0 ? ['No officer accounts: the node is in setup mode.'] : list.map(officerLine),
      );
    });

  for (const [name, enable] of [
    ['disable', false],
    ['enable', true],
  ] as const)
    officers
      .command(`${name} <officer-id>`)
      .description(enable ? 'enable a disabled account again' : 'disable an account; its sessions end at once')
      .addOption(dataOption())
      .addOption(jsonOption())
      .action(async (officerId: string, options: { data: string; json?: boolean }) => {
        const { officer } = await withAccess(options.data, (c) => c.call('disableOfficer', { officerId, enable }));
        output(Boolean(options.json), { officer }, () => [`Officer ${officerId} ${enable ? 'enabled' : 'disabled'}.`]);
      });

  officers
    .command('roles <officer-id>')
    .description("replace an officer's roles")
    .addOption(roleOption('the new roles').makeOptionMandatory())
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (officerId: string, options: { role?: string[]; data: string; json?: boolean }) => {
      const { officer } = await withAccess(options.data, (c) =>
        c.call('setOfficerRoles', { officerId, roles: rolesOf(options.role) }),
      );
      output(Boolean(options.json), { officer }, () => [
        `Officer ${officerId} now has the roles ${officer?.roles.join(', ')}.`,
      ]);
    });

  officers
    .command('reset <officer-id>')
    .description(
      "set a new password for an officer (administrators only); it ends the officer's sessions and a lockout; --reset-totp issues a new TOTP secret",
    )
    .option('--reset-totp', 'issue a new TOTP secret too')
    .addOption(passwordFileOption())
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(
      async (
        officerId: string,
        options: { resetTotp?: boolean; passwordFile?: string; data: string; json?: boolean },
      ) => {
        const secret = await password(options.passwordFile, `New password for ${officerId}: `);
        const reset = await withAccess(options.data, (c) =>
          c.call('resetOfficerPassword', { officerId, password: secret, resetTotp: Boolean(options.resetTotp) }),
        );
        output(Boolean(options.json), reset, () => [
          `Password of ${officerId} reset; the officer's sessions ended.`,
          ...totpLines(reset.totpSecret, reset.totpUri),
        ]);
      },
    );

  const clients = program.command('clients').description('API keys of case systems and scripts (administrators)');

  clients
    .command('add <client-id>')
    .description('create a named client with roles and an expiry; prints its API key once')
    .addOption(roleOption('roles of the client').makeOptionMandatory())
    .requiredOption('--expires <when>', 'when the key expires: a duration from now (90d) or a date (2027-06-30)')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (clientId: string, options: { role?: string[]; expires: string; data: string; json?: boolean }) => {
      const added = await withAccess(options.data, (c) =>
        c.call('addClient', { clientId, roles: rolesOf(options.role), expiresAtMs: expiryOf(options.expires) }),
      );
      output(Boolean(options.json), added, () => [
        `Client ${clientId} added (key ${added.client?.keyId}, expires ${iso(added.client?.expiresAtMs ?? 0)}).`,
        'API key (shown once; give it to the client as its bearer token):',
        `  ${added.apiKey}`,
      ]);
    });

  clients
    .command('list')
    .description('list the clients and their keys (without the keys themselves)')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (options: { data: string; json?: boolean }) => {
      const { clients: list } = await withAccess(options.data, (c) => c.call('listClients', {}));
      const now = Date.now();
      output(Boolean(options.json), { clients: list }, () =>
        list.length === 0 ? ['No clients.'] : list.map((c) => clientLine(c, now)),
      );
    });

  clients
    .command('revoke <client-id>')
    .description("revoke a client's API key for good")
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (clientId: string, options: { data: string; json?: boolean }) => {
      const { client } = await withAccess(options.data, (c) => c.call('revokeClient', { clientId }));
      output(Boolean(options.json), { client }, () => [`Client ${clientId} revoked (key ${client?.keyId}).`]);
    });

  program
    .command('login [officer-id]')
    .description(
      'sign in to the running node: the password from the terminal (or standard input), the TOTP code with --totp or asked for; with --oidc, through your identity provider in a browser; the session is kept in your login file (mode 0600) and used by every command',
    )
    .option('--totp <code>', 'the current code of your authenticator app')
    .option('--oidc', "sign in through the node's identity provider: prints an address to open in your browser")
    .addOption(passwordFileOption())
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(
      async (
        officerId: string | undefined,
        options: { totp?: string; passwordFile?: string; oidc?: boolean; data: string; json?: boolean },
      ) => {
        const { address, channel } = await connection(options.data);
        // Sign-in takes no token.
        const client = connectUnary<AccessServer>(AccessClient, address, '', channel);
        try {
          if (options.oidc) {
            if (officerId !== undefined)
              throw new TracenetError(
                ErrorCode.ERROR_CODE_INVALID_FIELD,
                'tracenet login --oidc takes no officer id: your identity provider says who you are',
                { field: 'officer-id', rule: 'oidc_no_officer_id' },
              );
            const result = await runOidcLogin({
              access: client,
              save: (login) => saveLogin(options.data, login),
              tell: (text) => process.stderr.write(text),
              scheduler: systemScheduler,
            });
            output(Boolean(options.json), result, () => oidcLoginLines(result));
            return;
          }
          if (officerId === undefined)
            throw new TracenetError(
              ErrorCode.ERROR_CODE_MISSING_FIELD,
              'tracenet login needs your officer id (tracenet login <officer-id>), or --oidc to sign in through your identity provider',
              { field: 'officer-id', rule: 'required' },
            );
          const secret = await password(options.passwordFile, 'Password: ');
          let totpCode = options.totp ?? '';
          let response;
          try {
            response = await client.call('login', { officerId, password: secret, totpCode });
          } catch (error) {
            const failure = TracenetError.from(error);
            if (failure.rule !== 'totp_required' || !process.stdin.isTTY || totpCode !== '') throw error;
            totpCode = await readSecret('TOTP code: ');
            response = await client.call('login', { officerId, password: secret, totpCode });
          }
          const path = await saveLogin(options.data, {
            officerId,
            sessionId: response.sessionId,
            token: response.sessionToken,
            expiresAtMs: response.expiresAtMs,
          });
          output(
            Boolean(options.json),
            { officerId, sessionId: response.sessionId, expiresAtMs: response.expiresAtMs, loginFile: path },
            () => [
              `Signed in as ${officerId} (${response.officer?.roles.join(', ')}); the session ends ${iso(response.expiresAtMs)}.`,
            ],
          );
        } finally {
          client.close();
        }
      },
    );

  program
    .command('logout')
    .description('end your session on the running node and forget it')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (options: { data: string; json?: boolean }) => {
      const forgotten = await forgetLogin(options.data);
      if (!forgotten) {
        output(Boolean(options.json), { signedOut: false }, () => ['Not signed in to this node.']);
        return;
      }
      const info = await running(options.data);
      if (info) {
        const client = connectUnary<AccessServer>(
          AccessClient,
          info.authority,
          forgotten.token,
          await authorityChannel(info),
        );
        try {
          await client.call('logout', {});
        } catch (error) {
          // An expired or revoked session has ended already.
          if (TracenetError.from(error).code !== ErrorCode.ERROR_CODE_UNAUTHORIZED) throw error;
        } finally {
          client.close();
        }
      }
      output(Boolean(options.json), { signedOut: true, sessionId: forgotten.sessionId }, () => [
        `Signed out ${forgotten.officerId}.`,
      ]);
    });

  program
    .command('whoami')
    .description('who the CLI acts as on the running node: officer, client or the bootstrap token (setup mode)')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (options: { data: string; json?: boolean }) => {
      const who = await withAccess(options.data, (c) => c.call('whoAmI', {}));
      output(Boolean(options.json), who, () => [
        who.kind === 'bootstrap'
          ? 'The bootstrap token (setup mode: create the first administrator with tracenet officers add <id> --role administrator).'
          : `${who.kind} ${who.id} with roles ${who.roles.join(', ')}${who.expiresAtMs > 0 ? `, until ${iso(who.expiresAtMs)}` : ''}.`,
      ]);
    });
}

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AccessServer, ErrorCode, TracenetError } from '@tracenet/proto';
import type { UnaryClient } from '../api/unary-client.js';
import { isLoopbackHost } from '../config/config.js';
import type { Scheduler } from '../util/scheduler.js';

/** What the node answered to BeginOidcSignIn. */
export interface BegunOidcSignIn {
  readonly authorizationUrl: string;
  readonly redirectUri: string;
  /** Unix milliseconds after which the node no longer completes this sign-in. */
  readonly expiresAtMs: number;
}

/** What `tracenet login --oidc` needs: the two calls to the node, where to tell the user, and time. */
export interface OidcLoginSteps<T> {
  readonly begin: () => Promise<BegunOidcSignIn>;
  readonly complete: (callbackUrl: string) => Promise<T>;
  /** Tells the user which URL to open (the CLI prints it; a test plays the browser). */
  readonly announce: (authorizationUrl: string) => void | Promise<void>;
  readonly scheduler: Scheduler;
}

const PAGE = (title: string, text: string) =>
  `<!doctype html><html lang="en"><meta charset="utf-8"><title>${title}</title><body><h1>${title}</h1><p>${text}</p></body></html>\n`;

/**
 * Signs the CLI user in through the state's identity provider (RFC 8252, loopback redirect): asks
 * the node to begin a sign-in, listens on the redirect URI the node names (an http URL on
 * 127.0.0.1 or localhost), tells the user the URL to open, and hands the URL the browser comes
 * back to to the node, which redeems the code. The browser then shows whether it worked. Only the
 * redirect path is answered; the listener closes after the first callback or when the sign-in
 * expires.
 *
 * @example
 * ```ts
 * const signedIn = await loginThroughIdentityProvider({
 *   begin: () => access.call('beginOidcSignIn', { redirectUri: '' }),
 *   complete: (callbackUrl) => access.call('completeOidcSignIn', { callbackUrl }),
 *   announce: (url) => console.log(`Open this address in your browser: ${url}`),
 *   scheduler: systemScheduler,
 * });
 * ```
 */
export async function loginThroughIdentityProvider<T>(steps: OidcLoginSteps<T>): Promise<T> {
  const begun = await steps.begin();
  const redirect = new URL(begun.redirectUri);
  if (redirect.protocol !== 'http:' || !isLoopbackHost(redirect.hostname) || redirect.port === '') {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `the node's redirect URI ${begun.redirectUri} is not an http address with a port on this computer (127.0.0.1 or localhost), so tracenet login --oidc cannot receive the sign-in; set access.oidc.redirectUri to one, such as http://127.0.0.1:7450/oidc/callback, and register it at the identity provider`,
      { field: 'access.oidc.redirectUri', rule: 'oidc_loopback_redirect' },
    );
  }
  const host = redirect.hostname.replace(/^\[|\]$/g, '');
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      const url = new URL(request.url ?? '/', redirect.origin);
      if (settled || request.method !== 'GET' || url.pathname !== redirect.pathname) {
        response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
        return;
      }
      settled = true;
      timer.cancel();
      steps.complete(url.href).then(
        (result) => {
          response
            .writeHead(200, { 'content-type': 'text/html; charset=utf-8', connection: 'close' })
            .end(
              PAGE(
                'Signed in',
                'You are signed in to Tracenet. You can close this window and go back to the terminal.',
              ),
            );
          finish(() => resolve(result));
        },
        (error: unknown) => {
          response
            .writeHead(401, { 'content-type': 'text/html; charset=utf-8', connection: 'close' })
            .end(PAGE('Not signed in', 'Tracenet could not sign you in. The terminal says why.'));
          finish(() => reject(error));
        },
      );
    });
    const finish = (settle: () => void) => {
      server.close(() => settle());
      server.closeAllConnections();
    };
    const timer = steps.scheduler.setTimeout(
      () => {
        if (settled) return;
        settled = true;
        finish(() =>
          reject(
            new TracenetError(
              ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
              'the identity provider did not send the browser back before the sign-in expired; run tracenet login --oidc again',
              { rule: 'oidc_sign_in_expired' },
            ),
          ),
        );
      },
      Math.max(0, begun.expiresAtMs - steps.scheduler.now()),
    );
    server.once('error', (error: NodeJS.ErrnoException) => {
      settled = true;
      timer.cancel();
      reject(
        new TracenetError(
          ErrorCode.ERROR_CODE_UNAVAILABLE,
          `cannot listen on ${redirect.host} for the sign-in to come back (${error.code ?? error.message}); is another tracenet login --oidc running?`,
          { field: 'access.oidc.redirectUri', rule: 'oidc_listen', cause: error },
        ),
      );
    });
    server.listen(Number(redirect.port), host, () => {
      Promise.resolve(steps.announce(begun.authorizationUrl)).catch((error: unknown) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        finish(() => reject(error));
      });
    });
  });
}

/** What `tracenet login --oidc` keeps and prints once signed in. */
export interface OidcLoginResult {
  readonly officerId: string;
  readonly displayName: string;
  readonly roles: readonly string[];
  readonly sessionId: string;
  readonly expiresAtMs: number;
  /** Where the session was kept. */
  readonly loginFile: string;
}

/** What {@link runOidcLogin} needs: the node's Access API without a token, where to keep the session, where to write. */
export interface OidcLoginCommand {
  readonly access: UnaryClient<AccessServer>;
  /** Keeps the session for the node (the CLI's login file, mode 0600); returns the file's path. */
  readonly save: (login: {
    officerId: string;
    sessionId: string;
    token: string;
    expiresAtMs: number;
  }) => Promise<string>;
  /** Where the instructions go (standard error: standard output is for the result). */
  readonly tell: (text: string) => void;
  readonly scheduler: Scheduler;
  /** Plays the browser in tests; the CLI leaves it to the user. */
  readonly browser?: (authorizationUrl: string) => Promise<void>;
}

/**
 * `tracenet login --oidc`: signs the user in through the node's identity provider with the
 * loopback listener of {@link loginThroughIdentityProvider} and keeps the session like
 * `tracenet login` does. Returns what to print; the session token itself is never printed.
 */
export async function runOidcLogin(command: OidcLoginCommand): Promise<OidcLoginResult> {
  const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);
  const response = await loginThroughIdentityProvider({
    begin: () => command.access.call('beginOidcSignIn', { redirectUri: '' }),
    complete: (callbackUrl) => command.access.call('completeOidcSignIn', { callbackUrl }),
    announce: (url) => {
      command.tell(
        `Open this address in your browser to sign in with your identity provider:\n\n  ${url}\n\nWaiting for the browser to come back (until ${clock(
          command.scheduler.now() + 10 * 60_000,
        )} UTC) …\n`,
      );
      return command.browser?.(url);
    },
    scheduler: command.scheduler,
  });
  const officerId = response.officer?.officerId ?? '';
  const loginFile = await command.save({
    officerId,
    sessionId: response.sessionId,
    token: response.sessionToken,
    expiresAtMs: response.expiresAtMs,
  });
  return {
    officerId,
    displayName: response.officer?.displayName ?? '',
    roles: response.officer?.roles ?? [],
    sessionId: response.sessionId,
    expiresAtMs: response.expiresAtMs,
    loginFile,
  };
}

/** The lines `tracenet login --oidc` prints once signed in. */
export function oidcLoginLines(result: OidcLoginResult): string[] {
  const name = result.displayName === '' ? '' : ` (${result.displayName})`;
  return [
    `Signed in as ${result.officerId}${name}, roles ${result.roles.join(', ')}; session ${result.sessionId} until ${new Date(
      result.expiresAtMs,
    ).toISOString()}`,
    `The session is kept in ${result.loginFile} (mode 0600) and used by every command on this node until it expires or you run tracenet logout.`,
  ];
}

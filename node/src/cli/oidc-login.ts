import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ErrorCode, TracenetError } from '@tracenet/proto';
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
 *   begin: () => access.call('beginOidcSignIn', {}),
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

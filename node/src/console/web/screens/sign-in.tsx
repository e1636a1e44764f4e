import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { AccessDefinition } from '@tracenet/proto/browser';
import { type ApiError, currentSession, rpc, signIn } from '../api.js';
import { ErrorMessage, Field, Screen } from '../components.js';
import { currentLanguage, officerLanguage, onLanguageChange, participantName, setLanguage, t } from '../i18n.js';

/** Where the route of the console waits while the officer signs in at the identity provider. */
const ROUTE_KEY = 'tracenet.signin.route';

/**
 * Keeps the language the officer chose (the language picker) on the node, for every browser they
 * sign in from. A refusal leaves the choice on this browser only.
 */
export async function saveMyLanguage(language: string): Promise<void> {
  try {
    await rpc(AccessDefinition, 'setMyLanguage', { language });
  } catch {
    // kept in this browser (i18n.ts); the node keeps it at the next choice
  }
}

/**
 * After sign-in: a language the officer picked on the sign-in screen is kept for them on the
 * node; otherwise the console switches to the one the node keeps for them, if any.
 */
async function adoptLanguage(pickedHere: boolean): Promise<void> {
  const who = currentSession().who;
  if (!who || who.kind !== 'officer') return;
  if (pickedHere) return saveMyLanguage(currentLanguage());
  const language = officerLanguage(who);
  if (language !== currentLanguage()) await setLanguage(language, who.id);
}

/** The rules the node gives a refused sign-in through the identity provider that have their own text. */
const OIDC_RULES = new Set([
  'oidc_state',
  'oidc_pending',
  'oidc_provider_refused',
  'oidc_code',
  'oidc_id_token',
  'oidc_issuer',
  'oidc_no_role',
  'oidc_discovery',
  'oidc_provider',
  'oidc_configured',
  'oidc_redirect_uri',
  'officer_disabled',
]);

/**
 * The refusal the server sent the browser back with after a sign-in through the identity
 * provider (`/?signin=<rule>`); the address is cleaned so a reload does not show it again.
 */
function oidcRefusal(): string | undefined {
  const rule = new URLSearchParams(location.search).get('signin');
  if (rule === null) return undefined;
  history.replaceState(null, '', `/${location.hash}`);
  return OIDC_RULES.has(rule) ? rule : 'other';
}

/** After a sign-in through the identity provider, goes back to the route the officer was on. */
export function restoreRoute(): void {
  const saved = sessionStorage.getItem(ROUTE_KEY);
  if (saved === null) return;
  sessionStorage.removeItem(ROUTE_KEY);
  if (saved.startsWith('#/') && location.hash === '') location.hash = saved.slice(1);
}

/**
 * Sign-in with a local account (officer id, password and, when the account has one, the TOTP
 * code), or through the state's identity provider when the node has one (OpenID Connect). The
 * route the officer was on stays: after sign-in the console opens it again.
 */
export function SignInScreen(props: {
  participantId: string;
  ended: ApiError | undefined;
  onSignedIn: () => void;
  languagePicker: ComponentChildren;
}) {
  const [officerId, setOfficerId] = useState('');
  const [password, setPassword] = useState('');
  const [totpCode, setTotpCode] = useState('');
  const [error, setError] = useState<unknown>(props.ended);
  const [oidcRule] = useState(oidcRefusal);
  const [busy, setBusy] = useState(false);
  const pickedHere = useRef(false);
  useEffect(
    () =>
      onLanguageChange(() => {
        pickedHere.current = true;
      }),
    [],
  );
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(officerId.trim(), password, totpCode.trim());
      await adoptLanguage(pickedHere.current);
      props.onSignedIn();
    } catch (caught) {
      setError(caught);
      setPassword('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in" id="main">
      <div class="sign-in-box">
        <div class="sign-in-language">{props.languagePicker}</div>
        <h1>{t('signin.title')}</h1>
        <p class="node-name">{t('signin.node', { node: participantName(props.participantId) })}</p>
        <ErrorMessage error={error} />
        {oidcRule !== undefined && error === undefined && (
          <div class="error" role="alert">
            {t(`signin.oidc.${oidcRule}`)}
          </div>
        )}
        <form onSubmit={submit} noValidate>
          <Field label={t('signin.officerId')}>
            {(id) => (
              <input
                id={id}
                name="officerId"
                autoComplete="username"
                required
                maxLength={64}
                value={officerId}
                onInput={(e) => setOfficerId((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
          <Field label={t('signin.password')}>
            {(id) => (
              <input
                id={id}
                name="password"
                type="password"
                autoComplete="current-password"
                required
                maxLength={1024}
                value={password}
                onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
          <Field label={t('signin.totp')} hint={t('signin.totpHint')}>
            {(id, describedBy) => (
              <input
                id={id}
                name="totpCode"
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="[0-9]*"
                maxLength={8}
                aria-describedby={describedBy}
                value={totpCode}
                onInput={(e) => setTotpCode((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
          <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
            {t('signin.submit')}
          </button>
        </form>
        {currentSession().oidc && (
          <div class="sign-in-oidc">
            <p class="sign-in-or">{t('signin.or')}</p>
            <a
              class="button"
              href="/auth/oidc"
              onClick={() => {
                if (location.hash.startsWith('#/')) sessionStorage.setItem(ROUTE_KEY, location.hash);
              }}
            >
              {t('signin.oidc.button')}
            </a>
          </div>
        )}
      </div>
    </main>
  );
}

/**
 * What an officer sees on a section their roles do not open (a link from elsewhere, a typed
 * address): the roles they have and the ones the section needs. The node refuses the calls
 * anyway; this says so before any call.
 */
export function RoleRefusal(props: { section: string; has: readonly string[]; needs: readonly string[] }) {
  const roles = (list: readonly string[]) => list.map((r) => t(`role.${r}`)).join(', ');
  return (
    <Screen title={props.section}>
      <div class="error" role="alert">
        {t('signin.forbidden', { section: props.section, has: roles(props.has), needs: roles(props.needs) })}
      </div>
    </Screen>
  );
}

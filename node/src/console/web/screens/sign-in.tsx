import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { type ApiError, signIn } from '../api.js';
import { ErrorMessage, Field } from '../components.js';
import { participantName, t } from '../i18n.js';

/** Sign-in with a local account: officer id, password and, when the account has one, the TOTP code. */
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
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(officerId.trim(), password, totpCode.trim());
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
        <h1>{t('signIn.title')}</h1>
        <p class="node-name">{t('signIn.node', { node: participantName(props.participantId) })}</p>
        <ErrorMessage error={error} />
        <form onSubmit={submit} noValidate>
          <Field label={t('signIn.officerId')}>
            {(id) => (
              <input
                id={id}
                name="officerId"
                autoComplete="username"
                required
                value={officerId}
                onInput={(e) => setOfficerId((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
          <Field label={t('signIn.password')}>
            {(id) => (
              <input
                id={id}
                name="password"
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
          <Field label={t('signIn.totp')} hint={t('signIn.totpHint')}>
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
            {t('signIn.submit')}
          </button>
        </form>
      </div>
    </main>
  );
}

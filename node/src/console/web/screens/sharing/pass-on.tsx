import { type Case, CasesDefinition } from '@tracenet/proto/browser';
import { useState } from 'preact/hooks';
import { ApiError, rpc } from '../../api.js';
import { ErrorMessage, Field } from '../../components.js';
import { participantName, t } from '../../i18n.js';
import { refusalByField } from '../lookups/refusal.js';
import { Restrictions } from './restrictions.js';

const SHOWN = ['case_id', 'third_participant', 'reason', 'note'];

function value(event: Event): string {
  return (event.target as HTMLInputElement).value;
}

/**
 * Passes an answer this node holds on to a third participant: ask the provider's consent
 * (Cases/RequestConsent) or share it (Cases/ShareCase), which the node allows only under the
 * answer's use restrictions or a granted consent.
 */
export function PassOn(props: { cases: readonly Case[]; onDone: (message: string) => void }) {
  const [caseId, setCaseId] = useState(props.cases[0]?.caseId ?? '');
  const [third, setThird] = useState('');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const byField = refusalByField(error);
  const chosen = props.cases.find((c) => c.caseId === caseId);

  const run = async (step: 'consent' | 'share') => {
    setBusy(true);
    setError(undefined);
    const thirdParticipant = third.trim();
    try {
      const response =
        step === 'consent'
          ? await rpc(CasesDefinition, 'requestConsent', { caseId, thirdParticipant, reason: text })
          : await rpc(CasesDefinition, 'shareCase', { caseId, thirdParticipant, note: text });
      const name = participantName(thirdParticipant);
      props.onDone(
        response.pendingApproval
          ? t('sharing.waitsApproval')
          : step === 'consent'
            ? t('sharing.consentAsked', { third: name })
            : t('sharing.shared', { third: name }),
      );
      setThird('');
      setText('');
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  if (props.cases.length === 0) return <p>{t('sharing.nothingToPassOn')}</p>;
  return (
    <form class="pass-on" onSubmit={(e) => e.preventDefault()} noValidate>
      {error instanceof ApiError && error.code === 'DISCLOSURE_NOT_ALLOWED' ? (
        <p class="error" role="alert">
          {t('sharing.notAllowed')}
        </p>
      ) : (
        error !== undefined &&
        (byField.size === 0 || [...byField.keys()].some((f) => !SHOWN.includes(f))) && <ErrorMessage error={error} />
      )}
      <div class="lookup-grid">
        <Field label={t('sharing.answer')} error={byField.get('case_id')}>
          {(id, describedBy) => (
            <select
              id={id}
              name="case"
              aria-describedby={describedBy}
              value={caseId}
              onChange={(e) => setCaseId(value(e))}
            >
              {props.cases.map((c) => (
                <option key={c.caseId} value={c.caseId}>
                  {t('sharing.caseOption', {
                    id: c.caseId,
                    reference: c.localReference,
                    provider: participantName(c.peer),
                  })}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('sharing.third')} hint={t('sharing.thirdHint')} error={byField.get('third_participant')}>
          {(id, describedBy) => (
            <input
              id={id}
              name="third"
              class="mono"
              dir="ltr"
              autoComplete="off"
              spellcheck={false}
              aria-describedby={describedBy}
              aria-invalid={byField.has('third_participant')}
              value={third}
              onInput={(e) => setThird(value(e))}
            />
          )}
        </Field>
      </div>
      {chosen && (
        <div class="under">
          <h3>{t('sharing.under')}</h3>
          <Restrictions c={chosen} />
        </div>
      )}
      <Field
        label={t('sharing.reasonOrNote')}
        hint={t('sharing.reasonOrNoteHint')}
        error={byField.get('reason') ?? byField.get('note')}
      >
        {(id, describedBy) => (
          <textarea
            id={id}
            name="reason"
            aria-describedby={describedBy}
            aria-invalid={byField.has('reason') || byField.has('note')}
            value={text}
            onInput={(e) => setText(value(e))}
          />
        )}
      </Field>
      <div class="actions">
        <button type="button" disabled={busy} onClick={() => void run('consent')}>
          {t('sharing.askConsent')}
        </button>
        <button type="button" class="primary" disabled={busy} onClick={() => void run('share')}>
          {t('sharing.share')}
        </button>
      </div>
    </form>
  );
}

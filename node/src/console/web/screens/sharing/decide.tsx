import { CasesDefinition, type Consent } from '@tracenet/proto/browser';
import { useState } from 'preact/hooks';
import { rpc } from '../../api.js';
import { ErrorMessage, Field } from '../../components.js';
import { participantName, t } from '../../i18n.js';
import { refusalByField } from '../lookups/refusal.js';

/** Grant or refuse one open consent request (Cases/DecideConsent), with conditions or the reason. */
export function DecideConsent(props: { caseId: string; consent: Consent; onDecided: (pending: boolean) => void }) {
  const [conditions, setConditions] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const byField = refusalByField(error);
  const decide = async (granted: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const response = await rpc(CasesDefinition, 'decideConsent', {
        caseId: props.caseId,
        consentId: props.consent.consentId,
        granted,
        conditions,
      });
      props.onDecided(response.pendingApproval !== undefined);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="decision" onSubmit={(e) => e.preventDefault()} noValidate>
      <ErrorMessage error={byField.has('conditions') ? undefined : error} />
      <Field
        label={t('sharing.conditions')}
        hint={t('sharing.conditionsHint', { third: participantName(props.consent.thirdParticipant) })}
        error={byField.get('conditions')}
      >
        {(id, describedBy) => (
          <textarea
            id={id}
            name="conditions"
            aria-describedby={describedBy}
            value={conditions}
            onInput={(e) => setConditions((e.target as HTMLTextAreaElement).value)}
          />
        )}
      </Field>
      <div class="actions">
        <button type="button" class="primary" disabled={busy} onClick={() => void decide(true)}>
          {t('sharing.grant')}
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => void decide(false)}>
          {t('sharing.refuse')}
        </button>
      </div>
    </form>
  );
}

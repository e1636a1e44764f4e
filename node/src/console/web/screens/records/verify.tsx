import { RecordsDefinition, type VerifyDestructionCertificateResponse } from '@tracenet/proto/browser';
import { useState } from 'preact/hooks';
import { rpc } from '../../api.js';
import { ErrorMessage, Field, Screen } from '../../components.js';
import { formatDate, participantName, t } from '../../i18n.js';
import { href } from '../../router.js';
import { certificateOf } from './certificate-file.js';
import { itemCategoryLabel } from './labels.js';

/** The largest certificate file read: a certificate is a few hundred bytes. */
const MAX_FILE = 64 * 1024;

const RULE_TEXT: Record<string, () => string> = {
  signature: () => t('records.verify.rule.signature'),
  unknown_issuer: () => t('records.verify.rule.unknownIssuer'),
  unknown_key: () => t('records.verify.rule.unknownKey'),
  revoked_key: () => t('records.verify.rule.revokedKey'),
  protobuf: () => t('records.verify.rule.protobuf'),
  version: () => t('records.verify.rule.version'),
};

/** `#/records/verify`: an officer chooses a certificate file; the node says VALID or why not. */
export function VerifyScreen() {
  const [result, setResult] = useState<VerifyDestructionCertificateResponse | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [unreadable, setUnreadable] = useState(false);
  const [busy, setBusy] = useState(false);
  const choose = async (event: Event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    setResult(undefined);
    setError(undefined);
    setUnreadable(false);
    if (!file) return;
    if (file.size > MAX_FILE) {
      setUnreadable(true);
      return;
    }
    const certificate = certificateOf(new Uint8Array(await file.arrayBuffer()));
    if (!certificate) {
      setUnreadable(true);
      return;
    }
    setBusy(true);
    try {
      setResult(await rpc(RecordsDefinition, 'verifyDestructionCertificate', { certificate }));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const body = result?.body;
  return (
    <Screen
      title={t('records.verify.title')}
      actions={
        <a class="button" href={href('records')}>
          {t('records.backToSearch')}
        </a>
      }
    >
      <p class="hint">{t('records.verify.hint')}</p>
      <form class="verify-form" onSubmit={(e) => e.preventDefault()}>
        <Field label={t('records.verify.file')}>
          {(id) => (
            <input id={id} name="certificate" type="file" accept=".json,application/json,.bin" onChange={choose} />
          )}
        </Field>
      </form>
      <div role="status" class="verify-result" aria-busy={busy}>
        {unreadable && <p class="error">{t('records.verify.unreadable')}</p>}
        {result?.valid && (
          <p class="verdict valid">
            <strong>{t('records.verify.valid')}</strong>
          </p>
        )}
        {result && !result.valid && (
          <p class="verdict invalid">
            <strong>{t('records.verify.invalid')}</strong>{' '}
            {RULE_TEXT[result.rule]?.() ?? t('records.verify.ruleOther', { field: result.field, rule: result.rule })}
          </p>
        )}
      </div>
      <ErrorMessage error={error} />
      {body && (
        <section aria-labelledby="verify-body">
          <h2 id="verify-body">{t('records.verify.states')}</h2>
          <dl class="record-fields">
            {[
              [t('records.verify.issuer'), body.issuer ? `${participantName(body.issuer)} (${body.issuer})` : ''],
              [t('records.destruction.certificate'), body.certificateId],
              [t('records.manufacturer'), body.marking?.manufacturer ?? ''],
              [t('records.serial'), body.marking?.serialNumber ?? ''],
              [t('records.model'), body.marking?.model ?? ''],
              [t('records.collection.uniqueMark'), body.uniqueMark],
              [t('records.collection.programme'), body.programme],
              [t('records.item.label'), itemCategoryLabel(body.itemCategory)],
              [t('records.destruction.destroyedDate'), formatDate(body.destroyedDate)],
              [t('records.destruction.method'), body.method],
              [t('records.destruction.witnesses'), body.witnesses.join(', ')],
            ]
              .filter(([, value]) => value !== '')
              .map(([label, value]) => (
                <div class="record-row" key={label}>
                  <dt>{label}</dt>
                  <dd dir="auto">{value}</dd>
                </div>
              ))}
          </dl>
        </section>
      )}
    </Screen>
  );
}

import { AuthorityDefinition, LookupsDefinition } from '@tracenet/proto/browser';
import { useState } from 'preact/hooks';
import { currentSession, onSignedOut, rpc } from '../../api.js';
import { ErrorMessage, Field, Show, Time, useLoad } from '../../components.js';
import { participantName, t } from '../../i18n.js';
import { refusalByField, unshownFields } from './refusal.js';
import { LookupResults } from './results.js';
import { type AskedLookup, WEAPON_TYPES } from './model.js';

// Kept in memory only, for the officer's session (a sign-in loads a new session and CSRF token:
// another officer on this tab, or the same one after signing out, starts empty), and dropped when a
// session ends: hits are under the lookup's purpose and leave with the page.
let askedIn = { session: '', lookups: [] as AskedLookup[] };
onSignedOut(() => {
  askedIn = { session: '', lookups: [] };
});

function askedInSession(): AskedLookup[] {
  const { who, csrfToken } = currentSession();
  const session = `${who?.id ?? ''} ${csrfToken}`;
  if (askedIn.session !== session) askedIn = { session, lookups: [] };
  return askedIn.lookups;
}

const FIELDS = [
  'weapon',
  'weapon.manufacturer',
  'weapon.serial_number',
  'weapon.model',
  'weapon.calibre',
  'weapon.type',
  'peers',
  'purpose',
  'requesting_authority',
];

function text(event: Event): string {
  return (event.target as HTMLInputElement).value;
}

/** The hit / no-hit search: the weapon, the peers to ask, the purpose; then each peer's answer. */
export function LookupSearch() {
  const asked = askedInSession();
  const [manufacturer, setManufacturer] = useState('');
  const [serial, setSerial] = useState('');
  const [model, setModel] = useState('');
  const [calibre, setCalibre] = useState('');
  const [type, setType] = useState(0);
  const [everyPeer, setEveryPeer] = useState(true);
  const [chosen, setChosen] = useState<readonly string[]>([]);
  const [purpose, setPurpose] = useState('');
  const [authority, setAuthority] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [shown, setShown] = useState<AskedLookup | undefined>(asked[0]);
  const [peers] = useLoad(() => rpc(AuthorityDefinition, 'listPeers', {}), []);
  const byField = refusalByField(error);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const request = {
      weapon: { manufacturer, serialNumber: serial, model, calibre, type },
      purpose,
      peers: everyPeer ? [] : [...chosen],
      requestingAuthority: authority,
    };
    try {
      const response = await rpc(LookupsDefinition, 'lookup', request);
      const lookup = { at: Date.now(), request, response };
      asked.unshift(lookup);
      setShown(lookup);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <form class="lookup-form" onSubmit={submit} noValidate aria-describedby="lookup-releases">
        <p id="lookup-releases" class="hint">
          {t('lookups.releases')}
        </p>
        {error !== undefined && (unshownFields(byField, FIELDS) || byField.size === 0) ? (
          <ErrorMessage error={error} />
        ) : (
          error !== undefined && (
            <p class="error" role="alert">
              {t('lookups.refusedFields', { count: byField.size })}
            </p>
          )
        )}
        <fieldset>
          <legend>{t('lookups.weapon')}</legend>
          <div class="lookup-grid">
            <Field
              label={t('lookups.serial')}
              hint={t('lookups.serialHint')}
              error={byField.get('weapon.serial_number')}
            >
              {(id, describedBy) => (
                <input
                  id={id}
                  name="serial"
                  class="mono"
                  dir="ltr"
                  required
                  aria-required="true"
                  aria-invalid={byField.has('weapon.serial_number')}
                  aria-describedby={describedBy}
                  spellcheck={false}
                  autoComplete="off"
                  value={serial}
                  onInput={(e) => setSerial(text(e))}
                />
              )}
            </Field>
            <Field label={t('lookups.manufacturer')} error={byField.get('weapon.manufacturer')}>
              {(id, describedBy) => (
                <input
                  id={id}
                  name="manufacturer"
                  required
                  aria-required="true"
                  aria-invalid={byField.has('weapon.manufacturer')}
                  aria-describedby={describedBy}
                  value={manufacturer}
                  onInput={(e) => setManufacturer(text(e))}
                />
              )}
            </Field>
            <Field label={t('lookups.model')} hint={t('lookups.narrows')} error={byField.get('weapon.model')}>
              {(id, describedBy) => (
                <input
                  id={id}
                  name="model"
                  aria-describedby={describedBy}
                  aria-invalid={byField.has('weapon.model')}
                  value={model}
                  onInput={(e) => setModel(text(e))}
                />
              )}
            </Field>
            <Field label={t('lookups.calibre')} hint={t('lookups.narrows')} error={byField.get('weapon.calibre')}>
              {(id, describedBy) => (
                <input
                  id={id}
                  name="calibre"
                  aria-describedby={describedBy}
                  aria-invalid={byField.has('weapon.calibre')}
                  value={calibre}
                  onInput={(e) => setCalibre(text(e))}
                />
              )}
            </Field>
            <Field label={t('lookups.type')} hint={t('lookups.narrows')} error={byField.get('weapon.type')}>
              {(id, describedBy) => (
                <select
                  id={id}
                  name="type"
                  aria-describedby={describedBy}
                  value={String(type)}
                  onChange={(e) => setType(Number(text(e)))}
                >
                  <option value="0">{t('lookups.anyType')}</option>
                  {WEAPON_TYPES.map((value) => (
                    <option key={value} value={String(value)}>
                      {t(`lookups.weaponType.${value}`)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
        </fieldset>
        <fieldset aria-describedby={byField.has('peers') ? 'lookup-peers-error' : undefined}>
          <legend>{t('lookups.whom')}</legend>
          <label class="choice">
            <input type="radio" name="peers" checked={everyPeer} onChange={() => setEveryPeer(true)} />
            {t('lookups.everyPeer')}
          </label>
          <label class="choice">
            <input type="radio" name="peers" checked={!everyPeer} onChange={() => setEveryPeer(false)} />
            {t('lookups.chosenPeers')}
          </label>
          {!everyPeer && (
            <Show loaded={peers}>
              {({ peers: list }) => (
                <ul class="peer-choice">
                  {list.map((peer) => (
                    <li key={peer.participantId}>
                      <label class="choice">
                        <input
                          type="checkbox"
                          name="peer"
                          value={peer.participantId}
                          checked={chosen.includes(peer.participantId)}
                          onChange={(e) =>
                            setChosen(
                              (e.target as HTMLInputElement).checked
                                ? [...chosen, peer.participantId]
                                : chosen.filter((p) => p !== peer.participantId),
                            )
                          }
                        />
                        {participantName(peer.participantId)} <span class="mono">{peer.participantId}</span>
                      </label>
                    </li>
                  ))}
                </ul>
              )}
            </Show>
          )}
          {byField.has('peers') && (
            <p class="field-error" id="lookup-peers-error">
              {byField.get('peers')}
            </p>
          )}
        </fieldset>
        <Field label={t('lookups.purpose')} hint={t('lookups.purposeHint')} error={byField.get('purpose')}>
          {(id, describedBy) => (
            <textarea
              id={id}
              name="purpose"
              required
              aria-required="true"
              aria-invalid={byField.has('purpose')}
              aria-describedby={describedBy}
              value={purpose}
              onInput={(e) => setPurpose(text(e))}
            />
          )}
        </Field>
        <Field
          label={t('lookups.authority')}
          hint={t('lookups.authorityHint')}
          error={byField.get('requesting_authority')}
        >
          {(id, describedBy) => (
            <input
              id={id}
              name="authority"
              aria-invalid={byField.has('requesting_authority')}
              aria-describedby={describedBy}
              value={authority}
              onInput={(e) => setAuthority(text(e))}
            />
          )}
        </Field>
        <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
          {busy ? t('lookups.asking') : t('lookups.submit')}
        </button>
      </form>
      {shown && <LookupResults key={shown.response.queryId} lookup={shown} />}
      {asked.length > 0 && (
        <section aria-labelledby="lookup-history">
          <h2 id="lookup-history">{t('lookups.history')}</h2>
          <p class="hint">{t('lookups.historyHint')}</p>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('lookups.when')}</th>
                <th scope="col">{t('lookups.serial')}</th>
                <th scope="col">{t('lookups.manufacturer')}</th>
                <th scope="col">{t('lookups.answers')}</th>
                <th scope="col">
                  <span class="visually-hidden">{t('lookups.show')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {asked.map((lookup) => (
                <tr key={lookup.response.queryId}>
                  <td>
                    <Time ms={lookup.at} />
                  </td>
                  <td>
                    <bdi class="mono">{lookup.request.weapon.serialNumber}</bdi>
                  </td>
                  <td>
                    <bdi>{lookup.request.weapon.manufacturer}</bdi>
                  </td>
                  <td>
                    {t('lookups.hitCount', {
                      count: lookup.response.results.filter((r) => r.hits.length > 0).length,
                      peers: lookup.response.results.length,
                    })}
                  </td>
                  <td>
                    <button type="button" aria-pressed={shown === lookup} onClick={() => setShown(lookup)}>
                      {t('lookups.show')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </>
  );
}

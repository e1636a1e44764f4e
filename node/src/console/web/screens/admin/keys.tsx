import {
  AuthorityDefinition,
  type PeerCard,
  type RevokeKeysResponse,
  type RotateKeysResponse,
} from '@tracenet/proto/browser';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, rpc } from '../../api.js';
import { toBase64 } from '../../buffer-shim.js';
import { ErrorMessage, Field, Show, Time, useLoad } from '../../components.js';
import { formatDuration, formatNumber, participantName, t } from '../../i18n.js';
import {
  CARD_FILE_MAX_BYTES,
  CardFileError,
  cardFileText,
  grouped,
  type ReadCard,
  readCardFile,
  readRosterFile,
} from './card-file.js';
import { canAdminister, Confirm, Done } from './shared.js';

const DAY = 86_400_000;

/**
 * Base64 of a bytes field of a decoded response (a Uint8Array from the browser's Buffer shim).
 */
function base64Of(bytes: unknown): string {
  return bytes instanceof Uint8Array ? toBase64(bytes) : String(bytes);
}
const value = (event: Event) => (event.target as HTMLInputElement).value;

/** This node's keys and card, rotating and revoking them, and the roster. */
export function KeysTab() {
  const [info, reload] = useLoad(() => rpc(AuthorityDefinition, 'getNodeInfo', {}), []);
  const [rotated, setRotated] = useState<RotateKeysResponse | undefined>(undefined);
  const [revoked, setRevoked] = useState<RevokeKeysResponse | undefined>(undefined);
  const admin = canAdminister();
  const self = currentSession().participantId;
  return (
    <div class="admin-tab">
      <h2>{t('admin.keys.heading')}</h2>
      {rotated && (
        <Done>
          {t('admin.keys.rotated', {
            keyId: grouped(rotated.keyId),
            previous: grouped(rotated.previousKeyId),
            count: rotated.announcedTo.length,
          })}
        </Done>
      )}
      {revoked && (
        <Done>
          {t('admin.keys.revoked', {
            keyId: grouped(revoked.keyId),
            previous: grouped(revoked.revokedKeyId),
            count: revoked.announcedTo.length,
          })}
        </Done>
      )}
      <Show loaded={info}>
        {(node) => <OwnCard card={node.card} keyId={node.keyId} version={node.softwareVersion} />}
      </Show>
      {admin && (
        <div class="admin-columns">
          <section class="admin-panel" aria-labelledby="rotate-heading">
            <h3 id="rotate-heading">{t('admin.keys.rotateHeading')}</h3>
            <p class="hint">{t('admin.keys.rotateText')}</p>
            <RotateForm
              self={self}
              onDone={(result) => {
                setRevoked(undefined);
                setRotated(result);
                reload();
              }}
            />
          </section>
          <section class="admin-panel danger-zone" aria-labelledby="revoke-heading">
            <h3 id="revoke-heading">{t('admin.keys.revokeHeading')}</h3>
            <p class="hint">{t('admin.keys.revokeText')}</p>
            <RevokeForm
              self={self}
              onDone={(result) => {
                setRotated(undefined);
                setRevoked(result);
                reload();
              }}
            />
          </section>
        </div>
      )}
      <RosterSection admin={admin} />
    </div>
  );
}

function OwnCard(props: { card: PeerCard | undefined; keyId: string; version: string }) {
  const [read, setRead] = useState<{ card: ReadCard; file: string } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [link, setLink] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!props.card) return;
    const file = cardFileText({ body: base64Of(props.card.body), signature: base64Of(props.card.signature) });
    readCardFile(file, Date.now()).then(
      (card) => setRead({ card, file }),
      (caught: unknown) => setError(caught),
    );
    const url = URL.createObjectURL(new Blob([file], { type: 'application/json' }));
    setLink(url);
    return () => URL.revokeObjectURL(url);
  }, [props.card]);
  const f = read?.card.fingerprints;
  return (
    <section class="admin-panel" aria-labelledby="card-heading">
      <h3 id="card-heading">{t('admin.keys.cardHeading')}</h3>
      {error !== undefined && <p role="alert">{t('admin.card.unreadable')}</p>}
      <dl class="facts">
        <dt>{t('admin.pin.keyId')}</dt>
        <dd>
          <code class="fingerprint" data-own="keyId">
            {grouped(props.keyId)}
          </code>
        </dd>
        {f && (
          <>
            <dt>{t('admin.pin.tls')}</dt>
            <dd>
              <code class="fingerprint" data-own="tlsFingerprint">
                {grouped(f.tlsFingerprint)}
              </code>
            </dd>
            <dt>{t('admin.peers.endpoints')}</dt>
            <dd>{f.endpoints.join(', ')}</dd>
            <dt>{t('admin.pin.validity')}</dt>
            <dd>
              <Time ms={f.validFromMs} /> – <Time ms={f.validUntilMs} />
            </dd>
          </>
        )}
        <dt>{t('admin.keys.version')}</dt>
        <dd>{props.version}</dd>
      </dl>
      {link && read && (
        <a class="button plain" href={link} download={`${f?.participantId.replace(':', '_') ?? 'node'}.card.json`}>
          {t('admin.keys.download')}
        </a>
      )}
    </section>
  );
}

function RotateForm(props: { self: string; onDone: (result: RotateKeysResponse) => void }) {
  const [grace, setGrace] = useState('');
  const graceMs = grace.trim() === '' ? 0 : Math.round(Number(grace) * DAY);
  return (
    <>
      <Field label={t('admin.keys.grace')} hint={t('admin.keys.graceHint')}>
        {(id, describedBy) => (
          <input
            id={id}
            name="graceDays"
            type="number"
            min="0"
            step="any"
            aria-describedby={describedBy}
            value={grace}
            onInput={(event) => setGrace(value(event))}
          />
        )}
      </Field>
      <Confirm
        kind="primary"
        label={t('admin.keys.rotate')}
        question={
          graceMs > 0
            ? t('admin.keys.rotateQuestion', { grace: formatDuration(graceMs) })
            : t('admin.keys.rotateQuestionDefault')
        }
        confirmLabel={t('admin.keys.rotateConfirm')}
        typed={props.self}
        onConfirm={async () =>
          props.onDone(
            await rpc(AuthorityDefinition, 'rotateKeys', { graceMs: Number.isFinite(graceMs) ? graceMs : 0 }),
          )
        }
      />
    </>
  );
}

function RevokeForm(props: { self: string; onDone: (result: RevokeKeysResponse) => void }) {
  const [reason, setReason] = useState('');
  return (
    <>
      <Field label={t('admin.keys.reason')} hint={t('admin.keys.reasonHint')}>
        {(id, describedBy) => (
          <textarea
            id={id}
            name="reason"
            maxLength={500}
            rows={2}
            aria-describedby={describedBy}
            value={reason}
            onInput={(event) => setReason(value(event))}
          />
        )}
      </Field>
      <Confirm
        label={t('admin.keys.revoke')}
        question={t('admin.keys.revokeQuestion')}
        confirmLabel={t('admin.keys.revokeConfirm')}
        typed={props.self}
        onConfirm={async () => props.onDone(await rpc(AuthorityDefinition, 'revokeKeys', { reason: reason.trim() }))}
      />
    </>
  );
}

function RosterSection({ admin }: { admin: boolean }) {
  const [roster, reload] = useLoad(() => rpc(AuthorityDefinition, 'getRoster', {}), []);
  const [refusal, setRefusal] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loadedOk, setLoadedOk] = useState(false);
  const load = async (input: HTMLInputElement) => {
    setRefusal(undefined);
    setError(undefined);
    setLoadedOk(false);
    const file = input.files?.[0];
    if (!file) return;
    if (file.size > CARD_FILE_MAX_BYTES * 16) {
      setRefusal(
        t('admin.card.tooLarge', { size: formatNumber(file.size), max: formatNumber(CARD_FILE_MAX_BYTES * 16) }),
      );
      return;
    }
    let signed: { body: Uint8Array; signature: Uint8Array };
    try {
      signed = readRosterFile(await file.text());
    } catch (caught) {
      setRefusal(
        caught instanceof CardFileError
          ? t(`admin.card.${caught.rule}`, { field: caught.field })
          : t('admin.card.unreadable'),
      );
      return;
    }
    try {
      await rpc(AuthorityDefinition, 'loadRoster', {
        roster: { body: signed.body as never, signature: signed.signature as never },
      });
      setLoadedOk(true);
      reload();
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <section class="admin-panel" aria-labelledby="roster-heading">
      <h3 id="roster-heading">{t('admin.roster.heading')}</h3>
      <Show loaded={roster}>
        {({ roster: r, configured }) =>
          !configured ? (
            <p>{t('admin.roster.notConfigured')}</p>
          ) : !r ? (
            <p>{t('admin.roster.none')}</p>
          ) : (
            <dl class="facts">
              <dt>{t('admin.roster.federation')}</dt>
              <dd>{r.federation}</dd>
              <dt>{t('admin.roster.serial')}</dt>
              <dd>{formatNumber(r.serial)}</dd>
              <dt>{t('admin.roster.state')}</dt>
              <dd>{t(`admin.rosterState.${r.state}`)}</dd>
              <dt>{t('admin.roster.issued')}</dt>
              <dd>
                <Time ms={r.issuedAtMs} />
              </dd>
              <dt>{t('admin.roster.expires')}</dt>
              <dd>
                <Time ms={r.expiresAtMs} />
              </dd>
              <dt>{t('admin.roster.members')}</dt>
              <dd>{r.members.map((m) => participantName(m)).join(', ')}</dd>
              <dt>{t('admin.roster.revokedKeys')}</dt>
              <dd>{r.revoked.length === 0 ? t('admin.roster.noRevoked') : r.revoked.join(', ')}</dd>
            </dl>
          )
        }
      </Show>
      {admin && roster.state === 'ready' && roster.value.configured && (
        <Field label={t('admin.roster.load')} hint={t('admin.roster.loadHint')} error={refusal}>
          {(id, describedBy) => (
            <input
              id={id}
              type="file"
              accept=".json,application/json"
              aria-describedby={describedBy}
              onChange={(event) => void load(event.target as HTMLInputElement)}
            />
          )}
        </Field>
      )}
      <ErrorMessage error={error} />
      {loadedOk && <Done>{t('admin.roster.loaded')}</Done>}
    </section>
  );
}

import { type AddPeerResponse, AuthorityDefinition, type PeerSummary } from '@tracenet/proto/browser';
import { useState } from 'preact/hooks';
import { rpc } from '../../api.js';
import { ActionButton, ErrorMessage, Field, Show, Time, useLoad } from '../../components.js';
import { formatNumber, participantName, t } from '../../i18n.js';
import { CARD_FILE_MAX_BYTES, CardFileError, grouped, type ReadCard, readCardFile } from './card-file.js';
import { canAdminister, Confirm, Done, PendingApproval } from './shared.js';

function peerState(peer: PeerSummary): string {
  if (peer.validUntilMs !== 0 && peer.validUntilMs <= Date.now()) return t('admin.peers.stateExpired');
  if (peer.heldKeyId !== '') return t('admin.peers.stateHeld', { keyId: grouped(peer.heldKeyId) });
  return t('admin.peers.stateValid');
}

/** The pinned peers, removing one, and pinning a peer from its card file. */
export function PeersTab() {
  const [peers, reload] = useLoad(() => rpc(AuthorityDefinition, 'listPeers', {}), []);
  const [removed, setRemoved] = useState<{ id: string; queued: number } | undefined>(undefined);
  const [pendingRemoval, setPendingRemoval] = useState<AddPeerResponse['pendingApproval']>(undefined);
  const admin = canAdminister();
  return (
    <div class="admin-tab">
      <h2>{t('admin.peers.heading')}</h2>
      {removed && <Done>{t('admin.peers.removed', { id: removed.id, count: removed.queued })}</Done>}
      {pendingRemoval && <PendingApproval approval={pendingRemoval} />}
      <Show loaded={peers}>
        {({ peers: list }) =>
          list.length === 0 ? (
            <p>{t('admin.peers.none')}</p>
          ) : (
            <div class="table-scroll">
              <table class="admin-table">
                <caption class="visually-hidden">{t('admin.peers.heading')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('admin.peers.country')}</th>
                    <th scope="col">{t('admin.peers.endpoints')}</th>
                    <th scope="col">{t('admin.peers.keyId')}</th>
                    <th scope="col">{t('admin.peers.validUntil')}</th>
                    <th scope="col">{t('admin.peers.state')}</th>
                    {admin && <th scope="col">{t('admin.actions')}</th>}
                  </tr>
                </thead>
                <tbody>
                  {list.map((peer) => (
                    <tr key={peer.participantId} data-peer={peer.participantId}>
                      <th scope="row">
                        {participantName(peer.participantId)} <span class="id">{peer.participantId}</span>
                        {peer.displayName !== '' && peer.displayName !== peer.participantId && (
                          <span class="sub">{peer.displayName}</span>
                        )}
                      </th>
                      <td>
                        {peer.endpoints.map((e) => (
                          <code key={e} class="block">
                            {e}
                          </code>
                        ))}
                      </td>
                      <td>
                        <code class="fingerprint">{grouped(peer.keyId)}</code>
                      </td>
                      <td>
                        <Time ms={peer.validUntilMs} />
                      </td>
                      <td>{peerState(peer)}</td>
                      {admin && (
                        <td>
                          <Confirm
                            label={t('admin.peers.remove', { id: peer.participantId })}
                            question={t('admin.peers.removeQuestion', {
                              name: participantName(peer.participantId),
                              id: peer.participantId,
                            })}
                            confirmLabel={t('admin.peers.removeConfirm', { id: peer.participantId })}
                            onConfirm={async () => {
                              const result = await rpc(AuthorityDefinition, 'removePeer', {
                                participantId: peer.participantId,
                              });
                              setPendingRemoval(result.pendingApproval);
                              setRemoved(
                                result.pendingApproval
                                  ? undefined
                                  : { id: peer.participantId, queued: result.queuedMessages },
                              );
                              reload();
                            }}
                          />
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
      {admin && (
        <PinPeer
          pinned={peers.state === 'ready' ? peers.value.peers : []}
          onPinned={() => {
            setRemoved(undefined);
            reload();
          }}
        />
      )}
    </div>
  );
}

/** The refusal of a card file, in the administrator's language, naming the member or field. */
function cardErrorText(error: unknown): string {
  if (error instanceof CardFileError) return t(`admin.card.${error.rule}`, { field: error.field });
  return t('admin.card.unreadable');
}

/** Pins a peer from its card file, after the fingerprints were compared by telephone. */
function PinPeer(props: { pinned: readonly PeerSummary[]; onPinned: () => void }) {
  const [card, setCard] = useState<ReadCard | undefined>(undefined);
  const [refusal, setRefusal] = useState<string | undefined>(undefined);
  const [compared, setCompared] = useState(false);
  const [replaceKeys, setReplaceKeys] = useState(false);
  const [result, setResult] = useState<AddPeerResponse | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [generation, setGeneration] = useState(0);

  const choose = async (input: HTMLInputElement) => {
    setCard(undefined);
    setRefusal(undefined);
    setCompared(false);
    setReplaceKeys(false);
    setResult(undefined);
    setError(undefined);
    const file = input.files?.[0];
    if (!file) return;
    if (file.size > CARD_FILE_MAX_BYTES) {
      setRefusal(t('admin.card.tooLarge', { size: formatNumber(file.size), max: formatNumber(CARD_FILE_MAX_BYTES) }));
      return;
    }
    try {
      setCard(await readCardFile(await file.text(), Date.now()));
    } catch (caught) {
      setRefusal(cardErrorText(caught));
    }
  };
  const f = card?.fingerprints;
  const current = f && props.pinned.find((p) => p.participantId === f.participantId);
  const otherKeys = current !== undefined && current.keyId !== f?.keyId;
  return (
    <section class="admin-panel" aria-labelledby="pin-heading">
      <h2 id="pin-heading">{t('admin.pin.heading')}</h2>
      <p class="hint">{t('admin.pin.intro')}</p>
      <Field label={t('admin.pin.file')} hint={t('admin.pin.fileHint')} error={refusal}>
        {(id, describedBy) => (
          <input
            key={generation}
            id={id}
            type="file"
            accept=".json,application/json"
            aria-describedby={describedBy}
            aria-invalid={refusal !== undefined}
            onChange={(event) => void choose(event.target as HTMLInputElement)}
          />
        )}
      </Field>
      {refusal && (
        <p class="visually-hidden" role="alert">
          {refusal}
        </p>
      )}
      {f && card && (
        <div class="card-check">
          <p role="status">
            {t('admin.pin.verified', { name: participantName(f.participantId), id: f.participantId })}
          </p>
          <dl class="facts">
            <dt>{t('admin.pin.displayName')}</dt>
            <dd>{f.displayName}</dd>
            <dt>{t('admin.peers.endpoints')}</dt>
            <dd>{f.endpoints.join(', ')}</dd>
            <dt>{t('admin.pin.validity')}</dt>
            <dd>
              <Time ms={f.validFromMs} /> – <Time ms={f.validUntilMs} />
            </dd>
          </dl>
          <h3>{t('admin.pin.compareHeading')}</h3>
          <p>{t('admin.pin.compareText', { name: participantName(f.participantId) })}</p>
          <dl class="fingerprints" dir="ltr">
            <dt>{t('admin.pin.keyId')}</dt>
            <dd>
              <code data-fingerprint="keyId">{grouped(f.keyId)}</code>
            </dd>
            <dt>{t('admin.pin.tls')}</dt>
            <dd>
              <code data-fingerprint="tlsFingerprint">{grouped(f.tlsFingerprint)}</code>
            </dd>
            <dt>{t('admin.pin.signingKey')}</dt>
            <dd>
              <code data-fingerprint="signingPublicKey">{grouped(f.signingPublicKey)}</code>
            </dd>
            <dt>{t('admin.pin.encryptionKey')}</dt>
            <dd>
              <code data-fingerprint="encryptionPublicKey">{grouped(f.encryptionPublicKey)}</code>
            </dd>
          </dl>
          {otherKeys && (
            <div class="notice notice-warning">
              <p>{t('admin.pin.otherKeys', { id: f.participantId, keyId: grouped(current?.keyId ?? '') })}</p>
              <label class="check">
                <input
                  type="checkbox"
                  checked={replaceKeys}
                  onChange={(event) => setReplaceKeys((event.target as HTMLInputElement).checked)}
                />
                {t('admin.pin.replaceKeys')}
              </label>
            </div>
          )}
          <label class="check">
            <input
              type="checkbox"
              checked={compared}
              onChange={(event) => setCompared((event.target as HTMLInputElement).checked)}
            />
            {t('admin.pin.compared', { name: participantName(f.participantId) })}
          </label>
          <ActionButton
            kind="primary"
            disabled={!compared || (otherKeys && !replaceKeys)}
            onAction={async () => {
              setError(undefined);
              try {
                const response = await rpc(AuthorityDefinition, 'addPeer', {
                  card: { body: card.body as never, signature: card.signature as never },
                  replaceKeys: otherKeys && replaceKeys,
                });
                setResult(otherKeys ? { ...response, replaced: false } : response);
                setCard(undefined);
                setGeneration((g) => g + 1);
                props.onPinned();
              } catch (caught) {
                setError(caught);
              }
            }}
          >
            {t('admin.pin.submit', { id: f.participantId })}
          </ActionButton>
        </div>
      )}
      <ErrorMessage error={error} />
      {result?.pendingApproval && <PendingApproval approval={result.pendingApproval} />}
      {result?.peer && !result.pendingApproval && (
        <Done>
          {result.replaced
            ? t('admin.pin.replaced', { id: result.peer.participantId })
            : t('admin.pin.pinned', { id: result.peer.participantId, keyId: grouped(result.peer.keyId) })}
        </Done>
      )}
    </section>
  );
}

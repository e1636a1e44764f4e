import { AccessDefinition, type ApiClient, type Officer } from '@tracenet/proto/browser';
import { useState } from 'preact/hooks';
import { currentSession, rpc } from '../../api.js';
import { ActionButton, ErrorMessage, Field, Show, Time, useLoad } from '../../components.js';
import { t } from '../../i18n.js';
import { canAdminister, Confirm, Done } from './shared.js';

const ROLES = ['officer', 'supervisor', 'auditor', 'administrator'] as const;
const value = (event: Event) => (event.target as HTMLInputElement).value;
const checked = (event: Event) => (event.target as HTMLInputElement).checked;

/** A secret the node shows once (TOTP secret, API key): shown clearly, with the warning. */
function ShownOnce(props: { heading: string; items: ReadonlyArray<{ label: string; value: string; name: string }> }) {
  return (
    <div class="notice notice-secret" role="alert">
      <h3>{props.heading}</h3>
      <p>
        <strong>{t('admin.once.warning')}</strong>
      </p>
      <dl class="facts">
        {props.items.map((item) => (
          <>
            <dt key={`${item.name}-label`}>{item.label}</dt>
            <dd key={item.name}>
              <code class="secret" data-secret={item.name} dir="ltr">
                {item.value}
              </code>
            </dd>
          </>
        ))}
      </dl>
    </div>
  );
}

function RoleChecks(props: { roles: readonly string[]; onChange: (roles: string[]) => void; name: string }) {
  return (
    <fieldset class="checks roles">
      <legend>{t('admin.accounts.roles')}</legend>
      {ROLES.map((role) => (
        <label key={role} class="check">
          <input
            type="checkbox"
            name={`${props.name}-${role}`}
            checked={props.roles.includes(role)}
            onChange={(event) =>
              props.onChange(checked(event) ? [...props.roles, role] : props.roles.filter((r) => r !== role))
            }
          />
          {t(`role.${role}`)}
        </label>
      ))}
    </fieldset>
  );
}

function officerState(officer: Officer): string {
  if (officer.disabled) return t('admin.accounts.disabled');
  if (officer.lockedUntilMs > Date.now()) return t('admin.accounts.locked');
  return t('admin.accounts.active');
}

/** Officers and API clients of this node. */
export function AccountsTab() {
  const [officers, reloadOfficers] = useLoad(() => rpc(AccessDefinition, 'listOfficers', {}), []);
  const [clients, reloadClients] = useLoad(() => rpc(AccessDefinition, 'listClients', {}), []);
  const [secret, setSecret] = useState<{ officerId: string; secret: string; uri: string } | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const admin = canAdminister();
  const me = currentSession().who?.id ?? '';
  return (
    <div class="admin-tab">
      <h2>{t('admin.accounts.heading')}</h2>
      {notice && <Done>{notice}</Done>}
      {secret && (
        <ShownOnce
          heading={t('admin.accounts.totpHeading', { id: secret.officerId })}
          items={[
            { label: t('admin.accounts.totpSecret'), value: secret.secret, name: 'totpSecret' },
            { label: t('admin.accounts.totpUri'), value: secret.uri, name: 'totpUri' },
          ]}
        />
      )}
      <Show loaded={officers}>
        {({ officers: list }) => (
          <div class="table-scroll">
            <table class="admin-table">
              <caption class="visually-hidden">{t('admin.accounts.heading')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('admin.accounts.officer')}</th>
                  <th scope="col">{t('admin.accounts.roles')}</th>
                  <th scope="col">{t('admin.accounts.state')}</th>
                  <th scope="col">{t('admin.accounts.lastSignIn')}</th>
                  {admin && <th scope="col">{t('admin.actions')}</th>}
                </tr>
              </thead>
              <tbody>
                {list.map((officer) => (
                  <tr key={officer.officerId} data-officer={officer.officerId}>
                    <th scope="row">
                      {officer.officerId}
                      {officer.displayName !== '' && <span class="sub">{officer.displayName}</span>}
                    </th>
                    <td>
                      {officer.roles.map((r) => t(`role.${r}`)).join(', ')}
                      {officer.totpRequired && <span class="sub">{t('admin.accounts.totpOn')}</span>}
                    </td>
                    <td>{officerState(officer)}</td>
                    <td>
                      <Time ms={officer.lastLoginAtMs} />
                    </td>
                    {admin && (
                      <td>
                        <div class="row-actions">
                          <ActionButton
                            disabled={officer.officerId === me}
                            onAction={async () => {
                              await rpc(AccessDefinition, 'disableOfficer', {
                                officerId: officer.officerId,
                                enable: officer.disabled,
                              });
                              setNotice(
                                t(officer.disabled ? 'admin.accounts.enabledDone' : 'admin.accounts.disabledDone', {
                                  id: officer.officerId,
                                }),
                              );
                              reloadOfficers();
                            }}
                          >
                            {officer.disabled
                              ? t('admin.accounts.enable', { id: officer.officerId })
                              : t('admin.accounts.disable', { id: officer.officerId })}
                          </ActionButton>
                          <button
                            type="button"
                            class="plain"
                            aria-expanded={editing === officer.officerId}
                            onClick={() => setEditing(editing === officer.officerId ? undefined : officer.officerId)}
                          >
                            {t('admin.accounts.edit', { id: officer.officerId })}
                          </button>
                          {editing === officer.officerId && (
                            <EditOfficer
                              officer={officer}
                              onDone={(text, shown) => {
                                setNotice(text);
                                if (shown) setSecret({ officerId: officer.officerId, ...shown });
                                setEditing(undefined);
                                reloadOfficers();
                              }}
                            />
                          )}
                        </div>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Show>
      {admin && (
        <AddOfficer
          onAdded={(officerId, shown) => {
            setNotice(t('admin.accounts.added', { id: officerId }));
            setSecret(shown ? { officerId, ...shown } : undefined);
            reloadOfficers();
          }}
        />
      )}
      <h2>{t('admin.clients.heading')}</h2>
      <Show loaded={clients}>
        {({ clients: list }) => <ClientsTable clients={list} admin={admin} onChanged={reloadClients} />}
      </Show>
      {admin && <AddClient onAdded={reloadClients} />}
    </div>
  );
}

function EditOfficer(props: {
  officer: Officer;
  onDone: (text: string, shown?: { secret: string; uri: string }) => void;
}) {
  const [roles, setRoles] = useState<string[]>([...props.officer.roles]);
  const [password, setPassword] = useState('');
  const [resetTotp, setResetTotp] = useState(false);
  const id = props.officer.officerId;
  return (
    <div class="edit-officer">
      <RoleChecks roles={roles} onChange={setRoles} name={`edit-${id}`} />
      <ActionButton
        kind="primary"
        onAction={async () => {
          await rpc(AccessDefinition, 'setOfficerRoles', { officerId: id, roles });
          props.onDone(t('admin.accounts.rolesDone', { id }));
        }}
      >
        {t('admin.accounts.saveRoles')}
      </ActionButton>
      <Field label={t('admin.accounts.newPassword')} hint={t('admin.accounts.passwordHint')}>
        {(fieldId, describedBy) => (
          <input
            id={fieldId}
            type="password"
            autoComplete="new-password"
            aria-describedby={describedBy}
            value={password}
            onInput={(event) => setPassword(value(event))}
          />
        )}
      </Field>
      <label class="check">
        <input type="checkbox" checked={resetTotp} onChange={(event) => setResetTotp(checked(event))} />
        {t('admin.accounts.resetTotp')}
      </label>
      <ActionButton
        onAction={async () => {
          const result = await rpc(AccessDefinition, 'resetOfficerPassword', { officerId: id, password, resetTotp });
          props.onDone(
            t('admin.accounts.passwordDone', { id }),
            result.totpSecret !== '' ? { secret: result.totpSecret, uri: result.totpUri } : undefined,
          );
        }}
      >
        {t('admin.accounts.resetPassword')}
      </ActionButton>
    </div>
  );
}

function AddOfficer(props: { onAdded: (officerId: string, shown?: { secret: string; uri: string }) => void }) {
  const [officerId, setOfficerId] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [roles, setRoles] = useState<string[]>(['officer']);
  const [password, setPassword] = useState('');
  const [requireTotp, setRequireTotp] = useState(true);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const result = await rpc(AccessDefinition, 'addOfficer', {
        officerId: officerId.trim(),
        displayName: displayName.trim(),
        roles,
        password,
        requireTotp,
      });
      props.onAdded(
        result.officer?.officerId ?? officerId,
        result.totpSecret !== '' ? { secret: result.totpSecret, uri: result.totpUri } : undefined,
      );
      setOfficerId('');
      setDisplayName('');
      setPassword('');
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="admin-panel" aria-labelledby="add-officer-heading" onSubmit={submit} noValidate>
      <h3 id="add-officer-heading">{t('admin.accounts.addHeading')}</h3>
      <div class="row">
        <Field label={t('admin.accounts.officerId')}>
          {(id) => (
            <input
              id={id}
              name="newOfficerId"
              autoComplete="off"
              value={officerId}
              onInput={(event) => setOfficerId(value(event))}
            />
          )}
        </Field>
        <Field label={t('admin.accounts.displayName')}>
          {(id) => (
            <input
              id={id}
              name="newDisplayName"
              autoComplete="off"
              value={displayName}
              onInput={(event) => setDisplayName(value(event))}
            />
          )}
        </Field>
        <Field label={t('admin.accounts.password')} hint={t('admin.accounts.passwordHint')}>
          {(id, describedBy) => (
            <input
              id={id}
              name="newPassword"
              type="password"
              autoComplete="new-password"
              aria-describedby={describedBy}
              value={password}
              onInput={(event) => setPassword(value(event))}
            />
          )}
        </Field>
      </div>
      <RoleChecks roles={roles} onChange={setRoles} name="new" />
      <label class="check">
        <input type="checkbox" checked={requireTotp} onChange={(event) => setRequireTotp(checked(event))} />
        {t('admin.accounts.requireTotp')}
      </label>
      <ErrorMessage error={error} />
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
          {t('admin.accounts.add')}
        </button>
      </div>
    </form>
  );
}

function ClientsTable(props: { clients: readonly ApiClient[]; admin: boolean; onChanged: () => void }) {
  if (props.clients.length === 0) return <p>{t('admin.clients.none')}</p>;
  return (
    <div class="table-scroll">
      <table class="admin-table">
        <caption class="visually-hidden">{t('admin.clients.heading')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('admin.clients.client')}</th>
            <th scope="col">{t('admin.accounts.roles')}</th>
            <th scope="col">{t('admin.clients.created')}</th>
            <th scope="col">{t('admin.clients.expires')}</th>
            <th scope="col">{t('admin.accounts.state')}</th>
            {props.admin && <th scope="col">{t('admin.actions')}</th>}
          </tr>
        </thead>
        <tbody>
          {props.clients.map((client) => {
            const revoked = client.revokedAtMs !== 0;
            const expired = client.expiresAtMs !== 0 && client.expiresAtMs <= Date.now();
            return (
              <tr key={client.clientId} data-client={client.clientId}>
                <th scope="row">
                  {client.clientId}
                  <span class="sub" dir="ltr">
                    {client.keyId}
                  </span>
                </th>
                <td>{client.roles.map((r) => t(`role.${r}`)).join(', ')}</td>
                <td>
                  <Time ms={client.createdAtMs} />
                </td>
                <td>{client.expiresAtMs === 0 ? t('admin.clients.never') : <Time ms={client.expiresAtMs} />}</td>
                <td>
                  {revoked ? (
                    <>
                      {t('admin.clients.revoked')} <Time ms={client.revokedAtMs} />
                    </>
                  ) : expired ? (
                    t('admin.clients.expired')
                  ) : (
                    t('admin.accounts.active')
                  )}
                </td>
                {props.admin && (
                  <td>
                    {!revoked && (
                      <Confirm
                        label={t('admin.clients.revoke', { id: client.clientId })}
                        question={t('admin.clients.revokeQuestion', { id: client.clientId })}
                        confirmLabel={t('admin.clients.revokeConfirm', { id: client.clientId })}
                        onConfirm={async () => {
                          await rpc(AccessDefinition, 'revokeClient', { clientId: client.clientId });
                          props.onChanged();
                        }}
                      />
                    )}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function AddClient(props: { onAdded: () => void }) {
  const [clientId, setClientId] = useState('');
  const [roles, setRoles] = useState<string[]>(['officer']);
  const [expires, setExpires] = useState('');
  const [key, setKey] = useState<{ id: string; apiKey: string } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setKey(undefined);
    try {
      const expiresAtMs = expires === '' ? 0 : Date.parse(`${expires}T23:59:59Z`);
      const result = await rpc(AccessDefinition, 'addClient', {
        clientId: clientId.trim(),
        roles,
        expiresAtMs: Number.isFinite(expiresAtMs) ? expiresAtMs : 0,
      });
      setKey({ id: result.client?.clientId ?? clientId, apiKey: result.apiKey });
      setClientId('');
      props.onAdded();
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <form class="admin-panel" aria-labelledby="add-client-heading" onSubmit={submit} noValidate>
      <h3 id="add-client-heading">{t('admin.clients.addHeading')}</h3>
      {key && (
        <ShownOnce
          heading={t('admin.clients.keyHeading', { id: key.id })}
          items={[{ label: t('admin.clients.apiKey'), value: key.apiKey, name: 'apiKey' }]}
        />
      )}
      <div class="row">
        <Field label={t('admin.clients.clientId')}>
          {(id) => (
            <input
              id={id}
              name="newClientId"
              autoComplete="off"
              value={clientId}
              onInput={(event) => setClientId(value(event))}
            />
          )}
        </Field>
        <Field label={t('admin.clients.expiresOn')} hint={t('admin.clients.expiresHint')}>
          {(id, describedBy) => (
            <input
              id={id}
              name="newClientExpires"
              type="date"
              aria-describedby={describedBy}
              value={expires}
              onInput={(event) => setExpires(value(event))}
            />
          )}
        </Field>
      </div>
      <RoleChecks roles={roles} onChange={setRoles} name="client" />
      <ErrorMessage error={error} />
      <div class="form-actions">
        <button type="submit" class="primary">
          {t('admin.clients.add')}
        </button>
      </div>
    </form>
  );
}

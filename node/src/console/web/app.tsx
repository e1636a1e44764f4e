import { useEffect, useState } from 'preact/hooks';
import { ApiError, currentSession, onSignedOut, signOut } from './api.js';
import { ErrorMessage } from './components.js';
import { currentLanguage, LANGUAGES, type Language, languageName, participantName, setLanguage, t } from './i18n.js';
import { href, useRoute } from './router.js';
import { AdminScreen } from './screens/admin.js';
import { ApprovalsScreen } from './screens/approvals.js';
import { AuditScreen } from './screens/audit.js';
import { CaseScreen } from './screens/case.js';
import { ComposeScreen } from './screens/compose.js';
import { InboxScreen } from './screens/inbox.js';
import { LookupsScreen } from './screens/lookups.js';
import { RecordsScreen } from './screens/records.js';
import { SharingScreen } from './screens/sharing.js';
import { RoleRefusal, restoreRoute, SignInScreen, saveMyLanguage } from './screens/sign-in.js';

type Role = 'officer' | 'supervisor' | 'auditor' | 'administrator';

/** The console's sections, the roles that see each in the menu, and the screen of each. */
const SECTIONS: ReadonlyArray<{ path: string; label: string; roles: readonly Role[] }> = [
  { path: 'inbox', label: 'nav.inbox', roles: ['officer', 'supervisor', 'auditor', 'administrator'] },
  { path: 'compose', label: 'nav.compose', roles: ['officer'] },
  { path: 'lookups', label: 'nav.lookups', roles: ['officer', 'supervisor', 'auditor'] },
  { path: 'sharing', label: 'nav.sharing', roles: ['officer', 'supervisor', 'auditor'] },
  { path: 'approvals', label: 'nav.approvals', roles: ['officer', 'supervisor', 'auditor', 'administrator'] },
  { path: 'records', label: 'nav.records', roles: ['officer', 'supervisor', 'auditor'] },
  { path: 'admin', label: 'nav.admin', roles: ['administrator', 'auditor'] },
  { path: 'audit', label: 'nav.audit', roles: ['auditor', 'administrator', 'supervisor'] },
];

function Page() {
  const route = useRoute();
  const [section = 'inbox', id] = route.path;
  switch (section) {
    case 'cases':
      return <CaseScreen caseId={id ?? ''} route={route} />;
    case 'compose':
      return <ComposeScreen route={route} />;
    case 'lookups':
      return <LookupsScreen route={route} />;
    case 'sharing':
      return <SharingScreen route={route} />;
    case 'approvals':
      return <ApprovalsScreen route={route} />;
    case 'records':
      return <RecordsScreen route={route} />;
    case 'admin':
      return <AdminScreen route={route} />;
    case 'audit':
      return <AuditScreen route={route} />;
    default:
      return <InboxScreen route={route} />;
  }
}

function LanguagePicker({ officerId }: { officerId: string }) {
  return (
    <label class="language">
      <span class="visually-hidden">{t('shell.language')}</span>
      <select
        value={currentLanguage()}
        onChange={(event) => {
          const chosen = (event.target as HTMLSelectElement).value as Language;
          void setLanguage(chosen, officerId);
          if (officerId !== '') void saveMyLanguage(chosen);
        }}
      >
        {LANGUAGES.map((code) => (
          <option key={code} value={code} lang={code}>
            {languageName(code)}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The console: the sign-in until an officer is signed in, then the menu and the screen of the route. */
export function App() {
  const [who, setWho] = useState(() => currentSession().who);
  const [ended, setEnded] = useState<ApiError | undefined>(() => currentSession().ended);
  const route = useRoute();
  useEffect(() => {
    if (who) restoreRoute();
  }, [who]);
  useEffect(
    () =>
      onSignedOut((error) => {
        setEnded(error);
        setWho(undefined);
      }),
    [],
  );
  const session = currentSession();
  if (!who)
    return (
      <SignInScreen
        participantId={session.participantId}
        ended={ended}
        onSignedIn={() => {
          setEnded(undefined);
          setWho(currentSession().who);
        }}
        languagePicker={<LanguagePicker officerId="" />}
      />
    );
  const roles = who.roles as Role[];
  const active = route.path[0] === 'cases' ? 'inbox' : (route.path[0] ?? 'inbox');
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        {t('shell.skip')}
      </a>
      <header class="topbar">
        <span class="brand">
          {t('shell.brand')} <span class="node">{participantName(session.participantId)}</span>
        </span>
        <span class="who">
          {t('shell.signedInAs', { id: who.id, roles: roles.map((r) => t(`role.${r}`)).join(', ') })}
        </span>
        <LanguagePicker officerId={who.id} />
        <button type="button" class="plain" onClick={() => void signOut().then(() => setWho(undefined))}>
          {t('shell.signOut')}
        </button>
      </header>
      <nav class="menu" aria-label={t('shell.menu')}>
        <ul>
          {SECTIONS.filter((s) => s.roles.some((r) => roles.includes(r))).map((s) => (
            <li key={s.path}>
              <a href={href(s.path)} aria-current={active === s.path ? 'page' : undefined}>
                {t(s.label)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {ended && <ErrorMessage error={ended} />}
        <Allowed section={active} roles={roles} />
      </main>
    </div>
  );
}

/** The screen of the route, or why the officer's roles do not open it. */
function Allowed(props: { section: string; roles: readonly Role[] }) {
  const section = SECTIONS.find((s) => s.path === props.section);
  if (section && !section.roles.some((r) => props.roles.includes(r)))
    return <RoleRefusal section={t(section.label)} has={props.roles} needs={section.roles} />;
  return <Page />;
}

import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, currentSession, onSignedOut, signOut } from './api.js';
import { ErrorMessage } from './components.js';
import { currentLanguage, LANGUAGES, type Language, languageName, participantName, setLanguage, t } from './i18n.js';
import { href, type Route, useRoute } from './router.js';
import { InboxScreen } from './screens/inbox.js';
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
  { path: 'stats', label: 'nav.stats', roles: ['officer', 'supervisor', 'auditor', 'administrator'] },
  { path: 'admin', label: 'nav.admin', roles: ['administrator', 'auditor'] },
  { path: 'audit', label: 'nav.audit', roles: ['auditor', 'administrator', 'supervisor'] },
];

interface ScreenProps {
  route: Route;
  caseId: string;
}

/**
 * The screens other than the inbox, loaded when first opened: the first download over a slow link
 * holds only the shell and the inbox (docs/console.md, slow links).
 */
const LAZY: Readonly<Record<string, () => Promise<ComponentType<ScreenProps>>>> = {
  cases: () =>
    import('./screens/case.js').then(({ CaseScreen }) => (p: ScreenProps) => (
      <CaseScreen caseId={p.caseId} route={p.route} />
    )),
  compose: () => import('./screens/compose.js').then((m) => m.ComposeScreen),
  lookups: () => import('./screens/lookups.js').then((m) => m.LookupsScreen),
  sharing: () => import('./screens/sharing.js').then((m) => m.SharingScreen),
  approvals: () => import('./screens/approvals.js').then((m) => m.ApprovalsScreen),
  records: () => import('./screens/records.js').then((m) => m.RecordsScreen),
  admin: () => import('./screens/admin.js').then((m) => m.AdminScreen),
  stats: () => import('./screens/stats.js').then((m) => m.StatsScreen),
  audit: () => import('./screens/audit.js').then((m) => m.AuditScreen),
};
const loaded = new Map<string, ComponentType<ScreenProps>>();

function Page() {
  const route = useRoute();
  const [section = 'inbox', id = ''] = route.path;
  const load = LAZY[section];
  const [, setReady] = useState(0);
  const [failed, setFailed] = useState<unknown>(undefined);
  useEffect(() => {
    if (!load || loaded.has(section)) return;
    load().then(
      (screen) => {
        loaded.set(section, screen);
        setReady((n) => n + 1);
      },
      (error: unknown) => setFailed(error),
    );
  }, [section, load]);
  if (!load) return <InboxScreen route={route} />;
  const Loaded = loaded.get(section);
  if (Loaded) return <Loaded route={route} caseId={id} />;
  if (failed) return <ErrorMessage error={failed} />;
  return (
    <p class="loading" aria-busy="true">
      {t('common.loading')}
    </p>
  );
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

import './buffer-shim.js';
import './style.css';
// Every screen's style sheet in the one CSS bundle: a screen's script is loaded on demand, its style
// must already be there (esbuild does not load a lazily loaded chunk's CSS).
import './screens/sign-in.css';
import './screens/inbox.css';
import './screens/case/case.css';
import './screens/compose.css';
import './screens/lookups.css';
import './screens/approvals.css';
import './screens/audit.css';
import './screens/records.css';
import './screens/admin.css';
import './screens/stats.css';
import { render } from 'preact';
import { loadSession } from './api.js';
import { App } from './app.js';
import { loadCatalogue, officerLanguage, onLanguageChange, preferredLanguage, setLanguage } from './i18n.js';

async function boot(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  // The catalogue this browser used last is fetched while the session loads (one round trip less on a slow link).
  void loadCatalogue(preferredLanguage()).catch(() => undefined);
  const session = await loadSession();
  await setLanguage(officerLanguage(session.who), session.who?.id ?? '');
  const draw = () => render(<App />, root);
  onLanguageChange(draw);
  draw();
}

void boot();

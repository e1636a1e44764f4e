import './buffer-shim.js';
import './style.css';
import { render } from 'preact';
import { loadSession } from './api.js';
import { App } from './app.js';
import { officerLanguage, onLanguageChange, setLanguage } from './i18n.js';

async function boot(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  const session = await loadSession();
  await setLanguage(officerLanguage(session.who), session.who?.id ?? '');
  const draw = () => render(<App />, root);
  onLanguageChange(draw);
  draw();
}

void boot();

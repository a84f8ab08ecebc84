/**
 * The dashboard's entry. The token comes from the login form or from the URL fragment (`#token=...&user=...`,
 * what `skiff dashboard` prints): a fragment never reaches a server or a log, and it is removed from the
 * address bar at once. The token is kept in this tab's sessionStorage only (gone when the tab closes).
 */
import { render } from 'preact';
import '@xterm/xterm/css/xterm.css';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { connect, ConnectError } from './api.js';
import { App } from './app.js';
import { html } from './html.js';
import { Live } from './live.js';
import { Login } from './views/login.js';

const storageKey = 'skiff.dashboard';
const root = document.getElementById('root')!;

/** Credentials from the fragment, which is then cleared. */
function fromFragment(): { user: string; token: string } | undefined {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = params.get('token');
  if (!token) return undefined;
  history.replaceState(null, '', location.pathname + location.search);
  return { user: params.get('user') || 'admin', token };
}

function stored(): { user: string; token: string } | undefined {
  try {
    const v = JSON.parse(sessionStorage.getItem(storageKey) ?? 'null');
    return typeof v?.token === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

function showLogin(error?: string, busy = false): void {
  render(html`<${Login} onLogin=${login} error=${error} busy=${busy} />`, root);
}

async function login(user: string, token: string): Promise<void> {
  showLogin(undefined, true);
  try {
    const session = await connect(user, token);
    sessionStorage.setItem(storageKey, JSON.stringify({ user, token }));
    const live = new Live(session);
    const logout = () => {
      live.stop();
      session.close();
      sessionStorage.removeItem(storageKey);
      showLogin();
    };
    render(html`<${App} live=${live} onLogout=${logout} />`, root);
    await live.start();
  } catch (err) {
    sessionStorage.removeItem(storageKey);
    showLogin(err instanceof ConnectError && err.refused ? 'Refused: the master does not accept this user and token.' : (err as Error).message);
  }
}

const creds = fromFragment() ?? stored();
if (creds) void login(creds.user, creds.token);
else showLogin();

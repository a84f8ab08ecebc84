/** The login form: a user name (admin or a token's name) and its token. Nothing is sent anywhere but the master's /mqtt. */
import { useState } from 'preact/hooks';
import { html } from '../html.js';

/** Props: what to do with the credentials, and the last refusal. */
export function Login({ onLogin, error, busy }: { onLogin: (user: string, token: string) => void; error?: string; busy: boolean }) {
  const [user, setUser] = useState('admin');
  const [token, setToken] = useState('');
  const submit = (e: Event) => {
    e.preventDefault();
    if (token.trim()) onLogin(user.trim() || 'admin', token.trim());
  };
  return html`<form class="login card" onSubmit=${submit} autocomplete="off">
    <h1>Skiff</h1>
    <p class="muted">Log in with an API token: the admin token (DATA_DIR/admin.token) or one from <code>skiff token create NAME --access view</code>. <code>skiff dashboard</code> prints a link that logs in.</p>
    <label>User <input name="user" value=${user} onInput=${(e: Event) => setUser((e.target as HTMLInputElement).value)} /></label>
    <label>Token <input name="token" type="password" value=${token} onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)} /></label>
    ${error ? html`<p class="error" id="login-error">${error}</p>` : null}
    <button type="submit" disabled=${busy}>${busy ? 'connecting…' : 'Log in'}</button>
  </form>`;
}

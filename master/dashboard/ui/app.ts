/** The dashboard's frame: tabs, the connection state, who is logged in, the views and the pod panels. */
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import type { Live } from './live.js';
import { Events } from './views/events.js';
import { Exec } from './views/exec.js';
import { Logs } from './views/logs.js';
import { Nodes } from './views/nodes.js';
import { Pods, type PodTarget } from './views/pods.js';
import { Services } from './views/services.js';
import { Workloads } from './views/workloads.js';

/** The tabs, by their hash route (`#/pods`). */
export const tabs = ['overview', 'nodes', 'workloads', 'pods', 'services', 'events'] as const;
type Tab = (typeof tabs)[number];

function currentTab(): Tab {
  const t = location.hash.replace(/^#\/?/, '');
  return (tabs as readonly string[]).includes(t) ? (t as Tab) : 'overview';
}

/** The logged-in dashboard. */
export function App({ live, onLogout }: { live: Live; onLogout: () => void }) {
  const [, setTick] = useState(0);
  const [tab, setTab] = useState<Tab>(currentTab());
  const [panel, setPanel] = useState<PodTarget>();
  const [error, setError] = useState('');
  useEffect(() => live.subscribe(() => setTick((n) => n + 1)), []);
  useEffect(() => {
    const on = () => setTab(currentTab());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const onError = (m: string) => setError(m);
  const me = live.me;
  const views = {
    overview: () => html`<${Nodes} live=${live} /><${Workloads} live=${live} onError=${onError} />`,
    nodes: () => html`<${Nodes} live=${live} />`,
    workloads: () => html`<${Workloads} live=${live} onError=${onError} />`,
    pods: () => html`<${Pods} live=${live} open=${setPanel} onError=${onError} />`,
    services: () => html`<${Services} live=${live} onError=${onError} />`,
    events: () => html`<${Events} live=${live} />`,
  };
  return html`<div class="app">
    <header>
      <span class="logo">Skiff</span>
      <nav>${tabs.map((t) => html`<a href=${`#/${t}`} class=${t === tab ? 'active' : ''} id=${`tab-${t}`}>${t}</a>`)}</nav>
      <span class=${`conn ${live.connected ? 'up' : 'down'}`} title=${live.connected ? 'live' : 'reconnecting'}>${live.connected ? '● live' : '○ reconnecting'}</span>
      <span class="who" id="who">${me ? `${me.name} (${me.access ?? me.role})` : ''}</span>
      <button class="small" onClick=${onLogout}>log out</button>
    </header>
    ${error ? html`<div class="error banner" onClick=${() => setError('')}>${error} <span class="muted">(click to dismiss)</span></div>` : null}
    <main>${views[tab]()}</main>
    ${panel
      ? html`<aside class="panel">
          <div class="panel-head"><b>${panel.view} · ${panel.namespace}/${panel.name}</b><button class="small" onClick=${() => setPanel(undefined)}>close</button></div>
          ${panel.view === 'logs' ? html`<${Logs} live=${live} pod=${panel} />` : html`<${Exec} live=${live} pod=${panel} />`}
        </aside>`
      : null}
  </div>`;
}

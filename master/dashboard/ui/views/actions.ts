/**
 * The write buttons: scale, restart a rollout, delete. Shown only when `whoami` says the token may use
 * the verb (a view token sees none); the master checks again anyway. Failures show in the status line.
 */
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import type { Live } from '../live.js';

/** Runs an API call, reporting its failure through `onError`. */
async function run(live: Live, verb: string, params: Record<string, unknown>, onError: (m: string) => void): Promise<void> {
  try {
    await live.session.request(verb, params);
  } catch (err) {
    onError(`${verb} ${params.kind ?? ''}/${params.name ?? ''}: ${(err as Error).message}`);
  }
}

/** − N + for a Deployment's replicas. */
export function Scale({ live, d, onError }: { live: Live; d: any; onError: (m: string) => void }) {
  const [busy, setBusy] = useState(false);
  if (!live.may('scale')) return null;
  const n = d.spec?.replicas ?? 1;
  const to = async (replicas: number) => {
    setBusy(true);
    await run(live, 'scale', { kind: 'Deployment', name: d.metadata.name, namespace: d.metadata.namespace, replicas }, onError);
    setBusy(false);
  };
  return html`<span class="scale">
    <button class="small" title="scale down" disabled=${busy || n === 0} onClick=${() => to(n - 1)}>−</button>
    <input class="replicas" type="number" min="0" value=${n} aria-label="replicas" data-deployment=${d.metadata.name}
      onChange=${(e: Event) => to(Math.max(0, Number((e.target as HTMLInputElement).value) || 0))} />
    <button class="small" title="scale up" disabled=${busy} onClick=${() => to(n + 1)}>+</button>
  </span>`;
}

/** Rollout restart of a Deployment. */
export function Restart({ live, d, onError }: { live: Live; d: any; onError: (m: string) => void }) {
  if (!live.may('rollout')) return null;
  return html`<button class="small" onClick=${() => run(live, 'rollout', { action: 'restart', kind: 'Deployment', name: d.metadata.name, namespace: d.metadata.namespace }, onError)}>restart</button>`;
}

/** Delete, after a confirmation. */
export function Delete({ live, kind, o, onError }: { live: Live; kind: string; o: any; onError: (m: string) => void }) {
  if (!live.may('delete')) return null;
  const go = () => {
    if (confirm(`Delete ${kind.toLowerCase()} ${o.metadata.namespace ? o.metadata.namespace + '/' : ''}${o.metadata.name}?`))
      void run(live, 'delete', { kind, name: o.metadata.name, namespace: o.metadata.namespace }, onError);
  };
  return html`<button class="small danger" onClick=${go}>delete</button>`;
}

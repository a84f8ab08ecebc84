/**
 * `exec` in a pod, in an in-browser terminal (xterm.js, loaded only when first opened). Today's `exec`
 * is non-interactive (no stdin, no TTY: protocol/messages.ts), so the terminal is a line discipline in
 * the browser: a typed line runs as `sh -c LINE` in the container, its stdout and stderr stream into the
 * terminal, Ctrl-C cancels it. The terminal talks to a `TermSession` (terminal.ts); an interactive
 * TTY session implements the same interface later and plugs in without touching this view.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import type { Live } from '../live.js';
import type { PodTarget } from './pods.js';

/** The exec panel of one pod. */
export function Exec({ live, pod }: { live: Live; pod: PodTarget }) {
  const box = useRef<HTMLDivElement>(null);
  const [container, setContainer] = useState(pod.containers[0]);
  const [error, setError] = useState('');
  useEffect(() => {
    let dispose: (() => void) | undefined;
    let gone = false;
    import('../terminal.js').then(
      ({ openTerminal }) => {
        if (!gone) dispose = openTerminal(box.current!, live.session, { namespace: pod.namespace, name: pod.name, container });
      },
      (err) => setError(`the terminal failed to load: ${(err as Error).message}`),
    );
    return () => {
      gone = true;
      dispose?.();
    };
  }, [pod.namespace, pod.name, container]);
  return html`<div class="panel-body">
    <div class="toolbar">
      ${pod.containers.length > 1 ? html`<select value=${container} onChange=${(e: Event) => setContainer((e.target as HTMLSelectElement).value)}>${pod.containers.map((c) => html`<option>${c}</option>`)}</select>` : html`<span>container <b>${container}</b></span>`}
      <span class="muted">each line runs as <code>sh -c LINE</code> (no TTY yet); Ctrl-C stops it</span>
    </div>
    ${error ? html`<p class="error">${error}</p>` : null}
    <div class="term" id="term" ref=${box}></div>
  </div>`;
}

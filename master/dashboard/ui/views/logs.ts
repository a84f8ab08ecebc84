/**
 * A pod's log, followed live: the `logs` verb with `follow` (the agent streams new lines as they are
 * written). The last `keepLines` lines are kept; the view sticks to the bottom unless scrolled up.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import type { Live } from '../live.js';
import type { PodTarget } from './pods.js';

const keepLines = 2000;

/** The log panel of one pod's container. */
export function Logs({ live, pod }: { live: Live; pod: PodTarget }) {
  const [container, setContainer] = useState(pod.containers[0]);
  const [text, setText] = useState('');
  const [state, setState] = useState('following');
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    setText('');
    setState('following');
    let buf = '';
    const stop = live.session.stream(
      'logs',
      { name: pod.name, namespace: pod.namespace, container, follow: true, tailLines: 500 },
      (res) => {
        if (typeof res.chunk !== 'string') return;
        buf += res.chunk;
        const lines = buf.split('\n');
        if (lines.length > keepLines) buf = lines.slice(-keepLines).join('\n');
        setText(buf);
      },
      (err) => setState(err ? `ended: ${err.message}` : 'ended'),
    );
    return stop;
  }, [pod.namespace, pod.name, container]);
  useEffect(() => {
    const el = pre.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [text]);
  return html`<div class="panel-body">
    <div class="toolbar">
      ${pod.containers.length > 1 ? html`<select value=${container} onChange=${(e: Event) => setContainer((e.target as HTMLSelectElement).value)}>${pod.containers.map((c) => html`<option>${c}</option>`)}</select>` : html`<span>container <b>${container}</b></span>`}
      <span class="muted">${state}</span>
    </div>
    <pre class="log" id="log" ref=${pre}>${text}</pre>
  </div>`;
}

/** The probe handlers by field name, and the one function that picks a probe's handler. */
import type { Probe } from '../../protocol/types.js';
import { execCheck } from './exec.js';
import { httpCheck } from './http.js';
import { tcpCheck } from './tcp.js';
import type { ProbeCheck, ProbeTarget } from './types.js';

/** One builder per handler field of a Kubernetes Probe. */
const handlers = {
  exec: (p: Probe, t: ProbeTarget) => execCheck(p.exec!.command ?? [], t),
  httpGet: (p: Probe, t: ProbeTarget) => httpCheck(p.httpGet!, t),
  tcpSocket: (p: Probe, t: ProbeTarget) => tcpCheck(p.tcpSocket!, t),
};

/** A probe handler's field name. */
export type HandlerName = keyof typeof handlers;

/** The check of a probe; a probe without a handler (the master validates this) always fails, saying why. */
export function checkFor(p: Probe, target: ProbeTarget): ProbeCheck {
  const name = (Object.keys(handlers) as HandlerName[]).find((h) => p[h] !== undefined);
  if (!name) return async () => ({ ok: false, message: 'probe has none of exec, httpGet, tcpSocket' });
  return handlers[name](p, target);
}

/**
 * The httpGet handler: GET scheme://host:port/path; a status from 200 to 399 is success (Kubernetes'
 * rule), anything else or no answer is failure. HTTPS skips certificate checks, as kubelet does. Redirects
 * are not followed: a 3xx already counts as success.
 */
import http from 'node:http';
import https from 'node:https';
import type { Probe } from '../../protocol/types.js';
import { resolvePort } from './port.js';
import type { ProbeCheck, ProbeOutcome, ProbeTarget } from './types.js';

/** A check that GETs the probe's URL. */
export function httpCheck(spec: NonNullable<Probe['httpGet']>, target: ProbeTarget): ProbeCheck {
  return (signal) =>
    new Promise<ProbeOutcome>((resolve) => {
      const port = resolvePort(spec.port, target);
      if (typeof port === 'string') return resolve({ ok: false, message: port });
      const secure = spec.scheme === 'HTTPS';
      const headers: Record<string, string> = { 'user-agent': 'kube-probe/skiff', accept: '*/*' };
      for (const h of spec.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
      const pathPart = spec.path ? (spec.path.startsWith('/') ? spec.path : `/${spec.path}`) : '/';
      const url = `${secure ? 'https' : 'http'}://${spec.host ?? target.host}:${port}${pathPart}`;
      // agent: false: one connection per check, closed after it (no keep-alive sockets piling up on a Pi).
      const req = (secure ? https : http).request(url, { method: 'GET', headers, signal, agent: false, ...(secure ? { rejectUnauthorized: false } : {}) }, (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400 ? { ok: true } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
      });
      req.once('error', (err) => resolve({ ok: false, message: `Get "${url}": ${err.message}` }));
      req.end();
    });
}

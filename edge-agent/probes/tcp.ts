/** The tcpSocket handler: success when a TCP connection opens, as in Kubernetes; the socket is closed at once. */
import net from 'node:net';
import type { Probe } from '../../protocol/types.js';
import { resolvePort } from './port.js';
import type { ProbeCheck, ProbeOutcome, ProbeTarget } from './types.js';

/** A check that connects to the probe's port. */
export function tcpCheck(spec: NonNullable<Probe['tcpSocket']>, target: ProbeTarget): ProbeCheck {
  return (signal) =>
    new Promise<ProbeOutcome>((resolve) => {
      const port = resolvePort(spec.port, target);
      if (typeof port === 'string') return resolve({ ok: false, message: port });
      const host = spec.host ?? target.host;
      const sock = net.connect({ host, port });
      const abort = () => sock.destroy();
      signal.addEventListener('abort', abort, { once: true });
      const done = (o: ProbeOutcome) => {
        signal.removeEventListener('abort', abort);
        sock.destroy();
        resolve(o);
      };
      sock.once('connect', () => done({ ok: true }));
      sock.once('error', (err) => done({ ok: false, message: `dial tcp ${host}:${port}: ${err.message}` }));
    });
}

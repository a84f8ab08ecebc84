/**
 * The `portForward` RPC: one TCP connection from this node to a pod's port, carried as a two-way stream
 * of pieces (protocol/messages.ts StreamPiece) through the master to `skiff port-forward` — everything
 * travels over the agent's own MQTT connection, so it works behind NAT. Process pods share the host
 * network, so the agent connects to 127.0.0.1 at the port (a name is looked up in the pod's ports, a
 * number is taken as it is, as the kubelet does). The first piece (`ack: 0`) says the connection is up;
 * data flows under the credit of protocol/flow.ts both ways; `fin` half-closes; the stream ends with
 * `done` when the pod's side closes, or an error when it cannot connect.
 */
import net from 'node:net';
import { SkiffError, toWireError } from '../../protocol/errors.js';
import { Acker, Credit, chunks } from '../../protocol/flow.js';
import type { RpcResponse } from '../../protocol/messages.js';
import type { PodManager } from '../pods/manager.js';
import type { Follower } from './logs.js';

type Send = (r: Omit<RpcResponse, 'id'>) => void;

/**
 * Where a pod's port is reachable from this node; throws naming what is missing. A process pod: 127.0.0.1 and the
 * port. A container pod with a network of its own: its address and the container's own port.
 */
function targetPort(pods: PodManager, p: Record<string, unknown>): { host: string; port: number; ref: string } {
  const namespace = typeof p.namespace === 'string' && p.namespace ? p.namespace : 'default';
  if (typeof p.name !== 'string' || !p.name) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'params.name: required');
  const ref = `${namespace}/${p.name}`;
  const runner = pods.find(namespace, p.name);
  if (!runner || (typeof p.uid === 'string' && runner.uid !== p.uid)) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `pod "${p.name}" not found in namespace "${namespace}" on this node`);
  const host = runner.podAddress ?? '127.0.0.1';
  if (typeof p.port === 'number' && Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535) return { host, port: p.port, ref };
  if (typeof p.port !== 'string') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'params.port: must be a port number or a port name');
  const named = (runner.status().ports ?? []).find((x) => x.name === p.port && x.protocol === 'TCP');
  if (!named) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `pod ${ref} has no TCP port named "${p.port}"`);
  return { host, port: runner.podAddress && named.containerPort ? named.containerPort : named.port, ref };
}

/** Opens the connection and serves the stream; returns the Follower that takes the client's pieces. */
export function servePortForward(pods: PodManager, params: Record<string, unknown>, send: Send): Follower {
  const { host, port, ref } = targetPort(pods, params);
  const sock = net.connect({ host, port });
  const credit = new Credit(
    () => sock.pause(),
    () => sock.resume(),
  );
  const acker = new Acker((n) => send({ ok: true, ack: n }));
  let opened = false;
  let finished = false;
  const finish = (r: Omit<RpcResponse, 'id'>) => {
    if (finished) return;
    finished = true;
    acker.flush();
    acker.close();
    send({ ...r, done: true });
  };
  sock.setNoDelay(true);
  sock.on('connect', () => {
    opened = true;
    send({ ok: true, ack: 0 });
  });
  sock.on('data', (b: Buffer) => {
    for (const c of chunks(b)) {
      send({ ok: true, data: c });
      credit.spend(c.length);
    }
  });
  sock.on('end', () => send({ ok: true, fin: true }));
  sock.on('error', (err: NodeJS.ErrnoException) => {
    if (opened) return; // 'close' follows
    finish({ ok: false, error: toWireError(new SkiffError('SKIFF_ERR_UNAVAILABLE', `error forwarding port ${port} to pod ${ref}: ${err.code === 'ECONNREFUSED' ? 'connection refused' : err.message}`)) });
  });
  sock.on('close', () => finish({ ok: true }));
  return {
    stop: () => {
      sock.destroy();
      finish({ ok: true });
    },
    input: (piece) => {
      if (piece.data instanceof Uint8Array) {
        const n = piece.data.length;
        sock.write(piece.data, () => acker.add(n));
      }
      if (typeof piece.ack === 'number') credit.refund(piece.ack);
      if (piece.fin === true) sock.end();
    },
  };
}

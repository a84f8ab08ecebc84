/**
 * Ports of a process pod. Process pods share the host network, so a containerPort of 0 (or none) asks the
 * agent for a free one: bind port 0, read what the kernel gave, close. A fixed containerPort is used as is.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Pod, PodPortStatus } from '../../protocol/types.js';

/** Asks the kernel for a free TCP or UDP port. */
export function freePort(protocol: 'TCP' | 'UDP' = 'TCP'): Promise<number> {
  if (protocol === 'UDP')
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket('udp4');
      s.once('error', reject);
      s.bind(0, () => {
        const port = s.address().port;
        s.close(() => resolve(port));
      });
    });
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The ports of every container, free ports picked. `previous` (from an earlier run of the same pod) is reused
 * so a pod keeps its ports across agent restarts and its endpoints do not move.
 */
export async function bindPorts(pod: Pod, previous: PodPortStatus[] = []): Promise<PodPortStatus[]> {
  const out: PodPortStatus[] = [];
  // App containers first, then init containers (a sidecar serving a port): the order of older agents' state.json.
  for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])])
    for (const p of c.ports ?? []) {
      const protocol = p.protocol!;
      let port = p.containerPort ?? 0;
      if (!port) {
        // Same uid, same spec: the previous run's list has the same order.
        const before = previous[out.length];
        port = before && before.containerName === c.name && before.protocol === protocol && before.name === p.name ? before.port : await freePort(protocol);
      }
      out.push({ containerName: c.name, ...(p.name ? { name: p.name } : {}), port, protocol });
    }
  return out;
}

/** Resolves a probe's port: a number as is, a name through the container's ports (Kubernetes IntOrString). */
import type { ProbeTarget } from './types.js';

/**
 * The port to probe, or an error message. A named port (`port: http`) is the container's port of that
 * name; for a process pod that is the port the agent allocated (`PORT_HTTP`), so probes follow the pod.
 */
export function resolvePort(port: number | string, target: ProbeTarget): number | string {
  if (typeof port === 'number') return port;
  if (/^[0-9]+$/.test(port)) return Number(port);
  const found = target.ports.find((p) => p.containerName === target.containerName && p.name === port && p.protocol === 'TCP');
  return found ? found.port : `port "${port}" is not a named TCP port of container "${target.containerName}"`;
}

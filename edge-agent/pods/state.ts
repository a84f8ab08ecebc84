/**
 * A pod's own state on this node, DATA/pods/<uid>/state.json: its host ports, each container's last
 * restartCount and its startTime, kept across agent restarts so none of them change when an agent adopts it.
 */
import fs from 'node:fs';
import { own } from '../../protocol/own.js';
import type { Container, PodPortStatus } from '../../protocol/types.js';

/** What state.json holds. */
export interface PodState {
  ports: PodPortStatus[];
  restarts: Record<string, number>;
  startTime?: string;
}

/** The pod's state from a previous run (empty when there is none or it is unreadable). */
export function readState(stateFile: string): PodState {
  try {
    const s = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { ports?: PodPortStatus[]; restarts?: Record<string, number>; startTime?: unknown };
    const restarts = s.restarts && typeof s.restarts === 'object' ? s.restarts : {};
    const startTime = typeof s.startTime === 'string' && !Number.isNaN(Date.parse(s.startTime)) ? s.startTime : undefined;
    return { ports: Array.isArray(s.ports) ? s.ports : [], restarts, ...(startTime ? { startTime } : {}) };
  } catch {
    return { ports: [], restarts: {} };
  }
}

/**
 * restartCount survives an agent restart, as Kubernetes' does through the runtime's records. Normally the
 * driver's record of the last attempt gives it (adoption, pods/container.ts `start`); without one, a container
 * that ran under a previous agent run starts again as a restart, counted as after a node reboot (and its log
 * goes to a new `<restartCount>.log`).
 */
export function initialCounts(containers: Container[], previous: Record<string, number>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of containers) {
    const n = own(previous, c.name);
    counts[c.name] = typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n + 1 : 0;
  }
  return counts;
}

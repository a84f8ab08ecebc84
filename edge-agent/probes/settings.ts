/** A probe's timing with Kubernetes' defaults filled in (core/v1 Probe field docs), in milliseconds. */
import type { Probe } from '../../protocol/types.js';
import type { ProbeKind } from './types.js';

/** Probe timing in ms and thresholds in consecutive results. */
export interface ProbeSettings {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

/**
 * Defaults: initialDelaySeconds 0, periodSeconds 10, timeoutSeconds 1, successThreshold 1, failureThreshold 3.
 * Kubernetes requires successThreshold 1 for liveness and startup probes; it is forced to 1 here rather than
 * failing a pod the master already accepted.
 */
export function settingsOf(kind: ProbeKind, p: Probe): ProbeSettings {
  const pos = (v: number | undefined, d: number) => (typeof v === 'number' && v >= 1 ? Math.floor(v) : d);
  return {
    initialDelayMs: typeof p.initialDelaySeconds === 'number' && p.initialDelaySeconds > 0 ? p.initialDelaySeconds * 1000 : 0,
    periodMs: pos(p.periodSeconds, 10) * 1000,
    timeoutMs: pos(p.timeoutSeconds, 1) * 1000,
    successThreshold: kind === 'readiness' ? pos(p.successThreshold, 1) : 1,
    failureThreshold: pos(p.failureThreshold, 3),
  };
}

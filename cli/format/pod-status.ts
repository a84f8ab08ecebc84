/** The pod columns kubectl derives rather than reads: STATUS, READY, RESTARTS (printPod in kubectl). */
import { isReady, type ContainerStatus, type KObject } from '../../protocol/index.js';
import { age } from './age.js';

/**
 * STATUS as kubectl shows it: the pod's reason, else its phase, overridden by the last container
 * (in reverse order) with a waiting or terminated reason (CrashLoopBackOff, Completed, Error) or an
 * exit code; `Terminating` once deletion started.
 */
export function podStatus(pod: KObject): string {
  const st = pod.status ?? {};
  let reason: string = st.reason || st.phase || 'Pending';
  let hasRunning = false;
  const statuses: ContainerStatus[] = st.containerStatuses ?? [];
  for (let i = statuses.length - 1; i >= 0; i--) {
    const s = statuses[i].state ?? {};
    if (s.waiting?.reason) reason = s.waiting.reason;
    else if (s.terminated?.reason) reason = s.terminated.reason;
    else if (s.terminated) reason = s.terminated.signal ? `Signal:${s.terminated.signal}` : `ExitCode:${s.terminated.exitCode}`;
    else if (statuses[i].ready && s.running) hasRunning = true;
  }
  // A pod whose last container completed but another still runs is Running (or NotReady), as in kubectl.
  if (reason === 'Completed' && hasRunning) reason = isReady(pod) ? 'Running' : 'NotReady';
  if (pod.metadata.deletionTimestamp) reason = st.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

/** READY: running-and-ready containers / containers in the spec. */
export function podReady(pod: KObject): string {
  const statuses: ContainerStatus[] = pod.status?.containerStatuses ?? [];
  const ready = statuses.filter((s) => s.ready && s.state?.running).length;
  const total = pod.spec?.containers?.length ?? statuses.length;
  return `${ready}/${total}`;
}

/** RESTARTS: the sum of restart counts, with how long ago the last one was (`3 (2m ago)`) when known. */
export function podRestarts(pod: KObject, now: number): string {
  const statuses: ContainerStatus[] = pod.status?.containerStatuses ?? [];
  const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
  let last: number | undefined;
  for (const s of statuses) {
    const t = Date.parse(s.lastState?.terminated?.finishedAt ?? '');
    if (s.restartCount > 0 && !Number.isNaN(t) && (last === undefined || t > last)) last = t;
  }
  return restarts > 0 && last !== undefined ? `${restarts} (${age(last, now)} ago)` : String(restarts);
}

/**
 * How objects are shown to people, as kubectl shows them: ages (`3m12s`) and the pod columns kubectl
 * derives rather than reads (STATUS, READY, RESTARTS: printPod in kubectl). One rule for the CLI and the
 * dashboard, so both say the same thing about a pod.
 */
import { conditionOf, isReady } from './conditions.js';
import type { Container, ContainerStatus, Pod } from './types.js';

/**
 * Formats a duration in ms like kubectl's AGE column: `45s`, `3m12s`, `15m`, `5h10m`, `12h`, `3d4h`,
 * `20d`, `2y31d`. Up to 2 s in the future counts as now (clock skew); further is `<invalid>`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return withRest(minutes, 'm', seconds % 60, 's');
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return withRest(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return withRest(days, 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return withRest(years, 'y', days % 365, 'd');
  return `${years}y`;
}

function withRest(big: number, bigUnit: string, rest: number, restUnit: string): string {
  return rest === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${rest}${restUnit}`;
}

/** The AGE of an RFC 3339 timestamp at `now` (ms), or `<unknown>` when there is none. */
export function age(timestamp: string | number | undefined, now: number): string {
  if (timestamp === undefined || timestamp === '') return '<unknown>';
  const t = typeof timestamp === 'number' ? timestamp : Date.parse(timestamp);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

/**
 * While initializing, the init containers' part of STATUS (kubectl's printPod): the first init container
 * not done decides — `Init:<reason>` for a failure (`Init:Error`, `Init:OOMKilled`, `Init:ExitCode:3`) or a
 * waiting reason (`Init:CrashLoopBackOff`), else `Init:<done>/<total>`. A completed init container, and a
 * sidecar that has started, count as done. Undefined when initialization is over.
 */
function initStatus(pod: Pod): string | undefined {
  const st = pod.status ?? {};
  const specs: Container[] = pod.spec?.initContainers ?? [];
  const statuses: ContainerStatus[] = st.initContainerStatuses ?? [];
  if (!specs.length || conditionOf(pod, 'Initialized')?.status === 'True') return undefined;
  for (const [i, spec] of specs.entries()) {
    const s = statuses.find((x) => x.name === spec.name);
    const t = s?.state?.terminated;
    if (t?.exitCode === 0) continue;
    if (spec.restartPolicy === 'Always' && s?.started) continue;
    if (t) return t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    const waiting = s?.state?.waiting?.reason;
    if (waiting && waiting !== 'PodInitializing') return `Init:${waiting}`;
    return `Init:${i}/${specs.length}`;
  }
  return undefined;
}

/**
 * STATUS as kubectl shows it: the pod's reason, else its phase; while initializing, the init containers'
 * state (initStatus); after that, overridden by the last container (in reverse order) with a waiting or
 * terminated reason (CrashLoopBackOff, Completed, Error, PodInitializing) or an exit code; `Terminating`
 * once deletion started.
 */
export function podStatus(pod: Pod): string {
  const st = pod.status ?? {};
  let reason: string = st.reason || st.phase || 'Pending';
  let hasRunning = false;
  const init = initStatus(pod);
  if (init) reason = init;
  const statuses: ContainerStatus[] = init ? [] : (st.containerStatuses ?? []);
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

/** READY: running-and-ready containers / containers, sidecars counted with the app containers (kubectl 1.29). */
export function podReady(pod: Pod): string {
  const sidecars = new Set(((pod.spec?.initContainers ?? []) as Container[]).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  const statuses: ContainerStatus[] = [...((pod.status?.initContainerStatuses ?? []) as ContainerStatus[]).filter((s) => sidecars.has(s.name)), ...(pod.status?.containerStatuses ?? [])];
  const ready = statuses.filter((s) => s.ready && s.state?.running).length;
  const total = (pod.spec?.containers?.length ?? (pod.status?.containerStatuses ?? []).length) + sidecars.size;
  return `${ready}/${total}`;
}

/** RESTARTS: the sum of restart counts (init containers too), with how long ago the last one was (`3 (2m ago)`) when known. */
export function podRestarts(pod: Pod, now: number): string {
  const statuses: ContainerStatus[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
  let last: number | undefined;
  for (const s of statuses) {
    const t = Date.parse(s.lastState?.terminated?.finishedAt ?? '');
    if (s.restartCount > 0 && !Number.isNaN(t) && (last === undefined || t > last)) last = t;
  }
  return restarts > 0 && last !== undefined ? `${restarts} (${age(last, now)} ago)` : String(restarts);
}

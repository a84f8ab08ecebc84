/**
 * What a node may say about a pod bound to it (`nodes/{node}/pods`): a status checked like any object before it
 * is stored — a phase Kubernetes knows, conditions and container statuses of the known shapes, bounded lists and
 * strings — and copied field by field, so nothing else a node invents reaches the store, the API or /metrics. A
 * refused report changes nothing (the pod keeps its last status) and is said once, naming the rule.
 */
import { Checker, SkiffError, isObject, type PodStatus } from '../../protocol/index.js';
import { bounded, list } from './restriction.js';

const phases = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;
const conditionStatuses = ['True', 'False', 'Unknown'] as const;

/** Reports a node may send in one message (an agent runs at most a few hundred pods). */
export const maxReportsPerMessage = 1000;

function containerState(c: Checker, v: unknown, f: string): void {
  if (!c.object(v, f)) return;
  if (c.object(v.waiting, `${f}.waiting`)) {
    bounded(c, v.waiting.reason, `${f}.waiting.reason`, 128);
    bounded(c, v.waiting.message, `${f}.waiting.message`, 4096);
  }
  if (c.object(v.running, `${f}.running`)) bounded(c, v.running.startedAt, `${f}.running.startedAt`, 64);
  if (c.object(v.terminated, `${f}.terminated`)) {
    c.int(v.terminated.exitCode, `${f}.terminated.exitCode`, -(2 ** 31), 2 ** 31 - 1, true);
    c.int(v.terminated.signal, `${f}.terminated.signal`, 0, 255);
    for (const k of ['reason', 'startedAt', 'finishedAt']) bounded(c, v.terminated[k], `${f}.terminated.${k}`, 128);
    bounded(c, v.terminated.message, `${f}.terminated.message`, 4096);
  }
}

/** Checks a reported pod status; returns it with only the fields Skiff knows, or throws SKIFF_ERR_VALIDATION. */
export function checkPodStatus(pod: string, s: unknown): PodStatus {
  const c = new Checker(`Pod/${pod}: status report`);
  if (!isObject(s)) throw new SkiffError('SKIFF_ERR_VALIDATION', `Pod/${pod}: status report: must be a map`);
  c.oneOf(s.phase, 'phase', phases);
  for (const [k, max] of [['reason', 128], ['message', 4096], ['hostIP', 64], ['podIP', 64], ['startTime', 64]] as const) bounded(c, s[k], k, max);
  list(c, s.conditions, 'conditions', 16, (x, at) => {
    bounded(c, x.type, `${at}.type`, 64, true);
    c.oneOf(x.status, `${at}.status`, conditionStatuses, true);
    for (const k of ['reason', 'lastTransitionTime', 'lastProbeTime', 'lastHeartbeatTime', 'lastUpdateTime']) bounded(c, x[k], `${at}.${k}`, 128);
    bounded(c, x.message, `${at}.message`, 4096);
  });
  list(c, s.containerStatuses, 'containerStatuses', 64, (x, at) => {
    bounded(c, x.name, `${at}.name`, 63, true);
    c.bool(x.ready, `${at}.ready`);
    c.bool(x.started, `${at}.started`);
    c.int(x.restartCount, `${at}.restartCount`, 0, 2 ** 31 - 1, true);
    bounded(c, x.image, `${at}.image`, 512);
    containerState(c, x.state, `${at}.state`);
    containerState(c, x.lastState, `${at}.lastState`);
  });
  list(c, s.ports, 'ports', 64, (x, at) => {
    bounded(c, x.containerName, `${at}.containerName`, 63, true);
    bounded(c, x.name, `${at}.name`, 15);
    c.int(x.port, `${at}.port`, 1, 65535, true);
    c.oneOf(x.protocol, `${at}.protocol`, ['TCP', 'UDP'], true);
  });
  c.throwIfAny();
  const known = ['phase', 'conditions', 'containerStatuses', 'hostIP', 'podIP', 'startTime', 'reason', 'message', 'ports'] as const;
  const out: Record<string, unknown> = {};
  for (const k of known) if (s[k] !== undefined) out[k] = s[k];
  return out as PodStatus;
}

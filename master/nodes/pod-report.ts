/**
 * What a node may say about a pod bound to it (`nodes/{node}/pods`): a status checked like any object before it
 * is stored — a phase Kubernetes knows, conditions and container statuses of the known shapes, bounded lists and
 * strings — and copied field by field, so nothing else a node invents reaches the store, the API or /metrics. A
 * refused report changes nothing (the pod keeps its last status) and is said once, naming the rule.
 */
import { Checker, SkiffError, isObject, type PodStatus } from '../../protocol/index.js';
import { bounded, keyPath, list } from './restriction.js';

const phases = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;
const conditionStatuses = ['True', 'False', 'Unknown'] as const;
const portProtocols = ['TCP', 'UDP'] as const;
const statusTexts = [['reason', 128], ['message', 4096], ['hostIP', 64], ['podIP', 64], ['startTime', 64]] as const;
const conditionTimes = ['reason', 'lastTransitionTime', 'lastProbeTime', 'lastHeartbeatTime', 'lastUpdateTime'] as const;
const terminatedTexts = ['reason', 'startedAt', 'finishedAt'] as const;
/** The status fields a report may set; anything else a node sends is dropped. */
const knownFields = ['phase', 'conditions', 'containerStatuses', 'hostIP', 'podIP', 'startTime', 'reason', 'message', 'ports'] as const;

/** Reports a node may send in one message (an agent runs at most a few hundred pods). */
export const maxReportsPerMessage = 1000;

function containerState(c: Checker, v: unknown, f: string): void {
  if (!c.object(v, f)) return;
  if (c.object(v.waiting, keyPath(f, 'waiting'))) {
    const at = keyPath(f, 'waiting');
    bounded(c, v.waiting.reason, keyPath(at, 'reason'), 128);
    bounded(c, v.waiting.message, keyPath(at, 'message'), 4096);
  }
  if (c.object(v.running, keyPath(f, 'running'))) bounded(c, v.running.startedAt, keyPath(keyPath(f, 'running'), 'startedAt'), 64);
  if (c.object(v.terminated, keyPath(f, 'terminated'))) {
    const at = keyPath(f, 'terminated');
    c.int(v.terminated.exitCode, keyPath(at, 'exitCode'), -(2 ** 31), 2 ** 31 - 1, true);
    c.int(v.terminated.signal, keyPath(at, 'signal'), 0, 255);
    for (const k of terminatedTexts) bounded(c, v.terminated[k], keyPath(at, k), 128);
    bounded(c, v.terminated.message, keyPath(at, 'message'), 4096);
  }
}

/** Checks a reported pod status; returns it with only the fields Skiff knows, or throws SKIFF_ERR_VALIDATION. */
export function checkPodStatus(pod: string, s: unknown): PodStatus {
  const c = new Checker(`Pod/${pod}: status report`);
  if (!isObject(s)) throw new SkiffError('SKIFF_ERR_VALIDATION', `Pod/${pod}: status report: must be a map`);
  c.oneOf(s.phase, 'phase', phases);
  for (const [k, max] of statusTexts) bounded(c, s[k], k, max);
  list(c, s.conditions, 'conditions', 16, (x, at) => {
    bounded(c, x.type, keyPath(at, 'type'), 64, true);
    c.oneOf(x.status, keyPath(at, 'status'), conditionStatuses, true);
    for (const k of conditionTimes) bounded(c, x[k], keyPath(at, k), 128);
    bounded(c, x.message, keyPath(at, 'message'), 4096);
  });
  list(c, s.containerStatuses, 'containerStatuses', 64, (x, at) => {
    bounded(c, x.name, keyPath(at, 'name'), 63, true);
    c.bool(x.ready, keyPath(at, 'ready'));
    c.bool(x.started, keyPath(at, 'started'));
    c.int(x.restartCount, keyPath(at, 'restartCount'), 0, 2 ** 31 - 1, true);
    bounded(c, x.image, keyPath(at, 'image'), 512);
    containerState(c, x.state, keyPath(at, 'state'));
    containerState(c, x.lastState, keyPath(at, 'lastState'));
  });
  list(c, s.ports, 'ports', 64, (x, at) => {
    bounded(c, x.containerName, keyPath(at, 'containerName'), 63, true);
    bounded(c, x.name, keyPath(at, 'name'), 15);
    c.int(x.port, keyPath(at, 'port'), 1, 65535, true);
    c.oneOf(x.protocol, keyPath(at, 'protocol'), portProtocols, true);
  });
  c.throwIfAny();
  const out: Record<string, unknown> = {};
  for (const k of knownFields) if (s[k] !== undefined) out[k] = s[k];
  return out as PodStatus;
}

/**
 * The pod phase and conditions the agent computes (edge-agent/pods/status.ts), kubelet's getPhase rules with
 * init containers and 1.29 sidecars, table by table, with tiny builders of container states.
 */
import { describe, expect, it } from 'vitest';
import { ConditionClock, initialized, podConditions, podPhase, type ContainerView, type InitView, type PodView } from '../../edge-agent/pods/status.js';
import type { ContainerState } from '../../protocol/types.js';

type S = 'waiting' | 'creating' | 'running' | 'ok' | 'failed' | 'backoff' | 'started';
/** A container in state `s`: waiting (PodInitializing), creating (ContainerCreating), running, ok (exit 0), failed (exit 1), backoff (waiting after a failure), started (running, startup done). */
function ct(s: S, finished = false): ContainerView {
  const states: Record<S, ContainerState> = {
    waiting: { waiting: { reason: 'PodInitializing' } },
    creating: { waiting: { reason: 'ContainerCreating' } },
    running: { running: { startedAt: 't' } },
    started: { running: { startedAt: 't' } },
    ok: { terminated: { exitCode: 0, reason: 'Completed' } },
    failed: { terminated: { exitCode: 1, reason: 'Error' } },
    backoff: { waiting: { reason: 'CrashLoopBackOff' } },
  };
  return { finished, status: { name: 'c', ready: s === 'running' || s === 'started', started: s === 'started' || s === 'running', restartCount: s === 'backoff' ? 1 : 0, state: states[s], ...(s === 'backoff' ? { lastState: { terminated: { exitCode: 1 } } } : {}) } };
}
const init = (s: S): InitView => ({ ...ct(s, s === 'ok' || s === 'failed'), sidecar: false });
const sidecar = (s: S): InitView => ({ ...ct(s), sidecar: true });
const pod = (restartPolicy: PodView['restartPolicy'], app: ContainerView[], inits: InitView[] = [], prepared = true): PodView => ({ prepared, restartPolicy, init: inits, app });

describe('pod phase (kubelet getPhase)', () => {
  it.each<[string, PodView, string]>([
    ['not prepared (a pull or a ConfigMap missing)', pod('Always', [ct('creating')], [], false), 'Pending'],
    ['a container not created yet', pod('Always', [ct('running'), ct('creating')]), 'Pending'],
    ['all running', pod('Always', [ct('running'), ct('running')]), 'Running'],
    ['Always: all exited, restarting', pod('Always', [ct('ok')]), 'Running'],
    ['Never: all exited 0', pod('Never', [ct('ok', true), ct('ok', true)]), 'Succeeded'],
    ['Never: one failed, all done', pod('Never', [ct('ok', true), ct('failed', true)]), 'Failed'],
    ['Never: one failed, another still runs', pod('Never', [ct('running'), ct('failed', true)]), 'Running'],
    ['OnFailure: a failure backs off (restarting)', pod('OnFailure', [ct('backoff')]), 'Running'],
    ['OnFailure: all succeeded', pod('OnFailure', [ct('ok', true)]), 'Succeeded'],
    ['init: the first init container runs', pod('Always', [ct('waiting')], [init('running'), init('waiting')]), 'Pending'],
    ['init: one done, the next waits', pod('Always', [ct('waiting')], [init('ok'), init('waiting')]), 'Pending'],
    ['init: all done, app containers not started yet', pod('Always', [ct('waiting')], [init('ok'), init('ok')]), 'Pending'],
    ['init: done and the app runs', pod('Always', [ct('running')], [init('ok'), init('ok')]), 'Running'],
    ['init: failed with Never fails the pod', pod('Never', [ct('waiting')], [init('ok'), init('failed')]), 'Failed'],
    ['init: failed with OnFailure backs off, still Pending', pod('OnFailure', [ct('waiting')], [init('backoff')]), 'Pending'],
    ['init: failed with Always backs off, still Pending', pod('Always', [ct('waiting')], [init('backoff')]), 'Pending'],
    ['sidecar: not started yet', pod('Always', [ct('waiting')], [sidecar('waiting')]), 'Pending'],
    ['sidecar: started, app waiting', pod('Always', [ct('waiting')], [sidecar('started')]), 'Pending'],
    ['sidecar and app running', pod('Never', [ct('running')], [sidecar('started')]), 'Running'],
    ['sidecar still running after the app completed (being stopped)', pod('Never', [ct('ok', true)], [sidecar('started')]), 'Running'],
    ['sidecar stopped after the app completed: the app decides', pod('Never', [ct('ok', true)], [{ ...ct('failed'), sidecar: true }]), 'Succeeded'],
    ['sidecar restarting after initialization does not make the pod Pending again', pod('Always', [ct('running')], [sidecar('backoff')]), 'Running'],
  ])('%s → %s', (_what, view, want) => expect(podPhase(view)).toBe(want));
});

describe('pod conditions', () => {
  it.each<[string, PodView, boolean, boolean]>([
    ['no init containers, all ready', pod('Always', [ct('running')]), true, true],
    ['an init container still running', pod('Always', [ct('waiting')], [init('running')]), false, false],
    ['init done, app ready', pod('Always', [ct('running')], [init('ok')]), true, true],
    ['a sidecar counts for readiness once started', pod('Always', [ct('running')], [{ ...ct('running'), status: { ...ct('running').status, ready: false }, sidecar: true }]), true, false],
    ['a completed pod is not ready', pod('Never', [ct('ok', true)]), true, false],
  ])('%s → Initialized %s, Ready %s', (_what, view, isInit, ready) => {
    const conds = podConditions(new ConditionClock(), view, podPhase(view));
    expect(initialized(view)).toBe(isInit);
    expect(conds.find((c) => c.type === 'Initialized')?.status).toBe(isInit ? 'True' : 'False');
    expect(conds.find((c) => c.type === 'Ready')?.status).toBe(ready ? 'True' : 'False');
  });

  it('keeps lastTransitionTime while a condition holds', () => {
    const clock = new ConditionClock();
    const first = clock.stamp('t1', [['Ready', true]]);
    const again = clock.stamp('t2', [['Ready', true]]);
    const flipped = clock.stamp('t3', [['Ready', false, 'ContainersNotReady']]);
    expect([first[0].lastTransitionTime, again[0].lastTransitionTime, flipped[0].lastTransitionTime]).toEqual(['t1', 't1', 't3']);
    expect(flipped[0].reason).toBe('ContainersNotReady');
  });
});

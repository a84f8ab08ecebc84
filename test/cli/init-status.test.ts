/** STATUS and READY of pods with init containers and sidecars, as kubectl prints them (printPod). */
import { describe, expect, it } from 'vitest';
import { podReady, podStatus, podRestarts } from '../../cli/format/pod-status.js';
import type { ContainerState, ContainerStatus, Pod } from '../../protocol/index.js';

const st = (name: string, state: ContainerState, extra: Partial<ContainerStatus> = {}): ContainerStatus => ({ name, ready: false, restartCount: 0, state, ...extra });
const waiting = (reason: string): ContainerState => ({ waiting: { reason } });
const done = (exitCode: number, reason?: string): ContainerState => ({ terminated: { exitCode, ...(reason ? { reason } : {}) } });
const running: ContainerState = { running: { startedAt: '2026-01-01T00:00:00Z' } };

function pod(init: ContainerStatus[], app: ContainerStatus[], o: { phase?: string; initialized?: boolean; sidecars?: string[] } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
    spec: { initContainers: init.map((s) => ({ name: s.name, command: ['x'], ...(o.sidecars?.includes(s.name) ? { restartPolicy: 'Always' } : {}) })), containers: app.map((s) => ({ name: s.name, command: ['x'] })) },
    status: { phase: (o.phase ?? 'Pending') as NonNullable<Pod['status']>['phase'], conditions: [{ type: 'Initialized', status: o.initialized ? 'True' : 'False' }], initContainerStatuses: init, containerStatuses: app },
  };
}

describe('STATUS with init containers', () => {
  it.each<[string, Pod, string]>([
    ['the first of two runs', pod([st('a', running), st('b', waiting('PodInitializing'))], [st('app', waiting('PodInitializing'))]), 'Init:0/2'],
    ['the second runs', pod([st('a', done(0, 'Completed')), st('b', running)], [st('app', waiting('PodInitializing'))]), 'Init:1/2'],
    ['one failed', pod([st('a', done(0, 'Completed')), st('b', done(1, 'Error'))], [st('app', waiting('PodInitializing'))], { phase: 'Failed' }), 'Init:Error'],
    ['one failed without a reason', pod([st('a', done(3))], [st('app', waiting('PodInitializing'))]), 'Init:ExitCode:3'],
    ['one crash-looping', pod([st('a', waiting('CrashLoopBackOff'), { restartCount: 2, lastState: done(1, 'Error') })], [st('app', waiting('PodInitializing'))]), 'Init:CrashLoopBackOff'],
    ['an image pull failing', pod([st('a', waiting('ErrImagePull'))], [st('app', waiting('PodInitializing'))]), 'Init:ErrImagePull'],
    ['all done, the app being created', pod([st('a', done(0, 'Completed'))], [st('app', waiting('PodInitializing'))], { initialized: true }), 'PodInitializing'],
    ['all done, the app running', pod([st('a', done(0, 'Completed'))], [st('app', running, { ready: true })], { phase: 'Running', initialized: true }), 'Running'],
    ['a started sidecar counts as done', pod([st('proxy', running, { started: true }), st('b', running)], [st('app', waiting('PodInitializing'))], { sidecars: ['proxy'] }), 'Init:1/2'],
    ['a sidecar not started yet', pod([st('proxy', running, { started: false })], [st('app', waiting('PodInitializing'))], { sidecars: ['proxy'] }), 'Init:0/1'],
  ])('%s → %s', (_what, p, want) => expect(podStatus(p)).toBe(want));
});

describe('READY and RESTARTS with sidecars', () => {
  it('READY counts sidecars with the app containers; regular init containers not', () => {
    const p = pod([st('setup', done(0, 'Completed')), st('proxy', running, { ready: true, started: true })], [st('app', running, { ready: true }), st('worker', running)], { sidecars: ['proxy'], initialized: true, phase: 'Running' });
    expect(podReady(p)).toBe('2/3');
  });
  it('RESTARTS adds the init containers', () => {
    const p = pod([st('a', waiting('CrashLoopBackOff'), { restartCount: 3 })], [st('app', waiting('PodInitializing'))]);
    expect(podRestarts(p, Date.now())).toBe('3');
  });
});

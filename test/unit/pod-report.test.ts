/**
 * A node's pod status report (master/nodes/pod-report.ts), table by table: every broken rule is named by its full
 * field path — also the second time the same path is met (the paths are made once and reused) — and a good report
 * keeps only the fields Skiff knows.
 */
import { describe, expect, it } from 'vitest';
import { checkPodStatus } from '../../master/nodes/pod-report.js';

const running = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: { startedAt: 'now' } } }] };

describe('checkPodStatus', () => {
  it.each([
    ['a phase Kubernetes does not know', { phase: 'Sleeping' }, 'phase: must be one of'],
    ['a condition without type', { conditions: [{ type: 'Ready', status: 'True' }, { status: 'True' }] }, 'conditions[1].type:'],
    ['a long probe time', { conditions: [{ type: 'Ready', status: 'True', lastProbeTime: 'x'.repeat(129) }] }, 'conditions[0].lastProbeTime: must be at most 128 characters'],
    ['a fractional restart count', { containerStatuses: [{ name: 'c', restartCount: 1.5 }] }, 'containerStatuses[0].restartCount:'],
    ['an exit code that is not a number', { containerStatuses: [{ name: 'a', restartCount: 0 }, { name: 'c', restartCount: 0, state: { terminated: { exitCode: 'x' } } }] }, 'containerStatuses[1].state.terminated.exitCode:'],
    ['a long waiting reason in the last state', { containerStatuses: [{ name: 'c', restartCount: 0, lastState: { waiting: { reason: 'r'.repeat(129) } } }] }, 'containerStatuses[0].lastState.waiting.reason: must be at most 128 characters'],
    ['a port protocol', { ports: [{ containerName: 'c', port: 80, protocol: 'SCTP' }] }, 'ports[0].protocol: must be one of'],
    ['more than 16 conditions', { conditions: Array.from({ length: 17 }, () => ({ type: 'X', status: 'True' })) }, 'conditions: must have at most 16 entries'],
  ])('%s: refused naming the field', (_, status, message) => {
    for (let i = 0; i < 2; i++) expect(() => checkPodStatus('p', status)).toThrow(`Pod/p: status report: ${message}`);
  });

  it('a good report keeps only the fields Skiff knows', () => {
    expect(checkPodStatus('p', { ...running, nodeInvented: { x: 1 }, podIP: '10.0.0.2' })).toEqual({ ...running, podIP: '10.0.0.2' });
  });
});

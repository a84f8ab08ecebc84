/** QoS classes as Kubernetes computes them (GetPodQOS), table by table. */
import { describe, expect, it } from 'vitest';
import { qosClass, type Container } from '../../protocol/index.js';

const c = (requests?: Record<string, string>, limits?: Record<string, string>): Container => ({ name: 'c', command: ['x'], resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } });

describe('qosClass', () => {
  it.each([
    ['nothing asked', [c()], [], 'BestEffort'],
    ['a request only', [c({ cpu: '100m' })], [], 'Burstable'],
    ['cpu and memory limits (requests default to them)', [c(undefined, { cpu: '500m', memory: '64Mi' })], [], 'Guaranteed'],
    ['requests equal to limits', [c({ cpu: '500m', memory: '64Mi' }, { cpu: '0.5', memory: '64Mi' })], [], 'Guaranteed'],
    ['a request below its limit', [c({ cpu: '100m', memory: '64Mi' }, { cpu: '500m', memory: '64Mi' })], [], 'Burstable'],
    ['only a memory limit', [c(undefined, { memory: '64Mi' })], [], 'Burstable'],
    ['one of two containers without limits', [c(undefined, { cpu: '1', memory: '1Gi' }), c()], [], 'Burstable'],
    ['an init container without limits', [c(undefined, { cpu: '1', memory: '1Gi' })], [c()], 'Burstable'],
    ['init and app containers all guaranteed', [c(undefined, { cpu: '1', memory: '1Gi' })], [c(undefined, { cpu: '200m', memory: '32Mi' })], 'Guaranteed'],
    ['zero quantities count as nothing', [c({ cpu: '0' }, { memory: '0' })], [], 'BestEffort'],
  ])('%s → %s', (_what, containers, initContainers, want) => expect(qosClass({ containers, initContainers })).toBe(want));
});

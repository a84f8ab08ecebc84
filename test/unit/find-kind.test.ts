/** findKind: every name kubectl accepts, the exact-name shortcut included, and nothing else. */
import { describe, expect, it } from 'vitest';
import { findKind, registerKind } from '../../protocol/index.js';

describe('findKind', () => {
  it.each([
    ['Pod', 'Pod'],
    ['pod', 'Pod'],
    ['pods', 'Pod'],
    ['po', 'Pod'],
    ['PODS', 'Pod'],
    ['Deployment', 'Deployment'],
    ['deployment.apps', 'Deployment'],
    ['deployments.apps/v1', 'Deployment'],
    ['deploy', 'Deployment'],
    ['Lease', 'Lease'],
    ['leases.coordination.k8s.io', 'Lease'],
    ['sc', 'StorageClass'],
    ['storageclasses.storage.k8s.io', 'StorageClass'],
  ])('%s is %s', (name, kind) => {
    expect(findKind(name)?.kind).toBe(kind);
  });

  it.each(['', 'Pods.apps.extra', 'constructor', '__proto__', 'toString', 'pod ', 'Widget'])('%j is no kind', (name) => {
    expect(findKind(name)).toBeUndefined();
  });

  it('finds a registered kind by its exact and its other names', () => {
    const info = { ...findKind('ConfigMap')!, kind: 'FindKindTestThing', plural: 'findkindtestthings', singular: 'findkindtestthing', short: ['fktt'] };
    registerKind(info as never);
    for (const n of ['FindKindTestThing', 'findkindtestthing', 'findkindtestthings', 'FKTT']) expect(findKind(n)?.kind, n).toBe('FindKindTestThing');
  });
});

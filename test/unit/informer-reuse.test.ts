/**
 * The informers keep one copy of what did not change between versions of an object: a status write's new version
 * shares the cached version's spec and metadata members (json-value.ts reuseEqual), and handlers and the cache still
 * see each version exactly as stored.
 */
import { describe, expect, it } from 'vitest';
import { Informers } from '../../master/informer.js';
import { openSqliteStore } from '../../master/store/sqlite.js';
import { applyDefaults, silentLogger, type Pod } from '../../protocol/index.js';
import { eventually } from '../helpers/wait.js';

const key = '/registry/pods/default/web-1';
const pod = (phase: string, node?: string): Pod =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'default', uid: 'u-1', labels: { app: 'web' } },
    spec: { containers: [{ name: 'main', image: 'busybox' }], ...(node ? { nodeName: node } : {}) },
    status: { phase },
  }) as Pod;

describe('informer versions share what did not change', () => {
  it('a status change keeps the cached spec object; a spec change makes a new one; each version reads as stored', async () => {
    const store = await openSqliteStore(':memory:');
    const informers = new Informers(store, silentLogger);
    await informers.start();
    const seen: { obj: Pod | undefined; old: Pod | undefined }[] = [];
    informers.on('Pod', (obj, old) => seen.push({ obj, old }));

    await store.create(key, pod('Pending'));
    await eventually(() => seen.length === 1, 'the create');
    const v1 = informers.get('Pod', 'default', 'web-1')!;

    await store.update(key, pod('Pending', 'n1'));
    await eventually(() => seen.length === 2, 'the bind');
    const v2 = informers.get('Pod', 'default', 'web-1')!;
    expect(v2).not.toBe(v1);
    expect(v2.spec).not.toBe(v1.spec);
    expect(v2.spec.nodeName).toBe('n1');
    expect(v1.spec.nodeName).toBeUndefined();
    expect(v2.spec.containers).toBe(v1.spec.containers);
    expect(v2.metadata.labels).toBe(v1.metadata.labels);

    await store.update(key, pod('Running', 'n1'));
    await eventually(() => seen.length === 3, 'the status');
    const v3 = informers.get('Pod', 'default', 'web-1')!;
    expect(v3.spec).toBe(v2.spec);
    expect(v3.status!.phase).toBe('Running');
    expect(v2.status!.phase).toBe('Pending');
    expect(seen[2]!.old).toBe(v2);
    expect(Number(v3.metadata.resourceVersion)).toBeGreaterThan(Number(v2.metadata.resourceVersion));
    expect(v2.metadata.resourceVersion).toBe(String((await store.revision()) - 1));
    // What the cache holds is what the store holds (with the defaults the cache applies).
    const stored = applyDefaults((await store.get<Pod>(key))!.value);
    expect(JSON.stringify({ ...v3, metadata: { ...v3.metadata, resourceVersion: undefined } })).toBe(JSON.stringify(stored));
    informers.stop();
    await store.close();
  });
});

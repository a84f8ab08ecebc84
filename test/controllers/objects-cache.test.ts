/**
 * Objects reading from the informers' cache (master/object-reads.ts), in memory, table by table: mutate from a stale
 * copy retries and applies on the stored object, "nothing to do" is only concluded on the stored object, fn never
 * changes the cache; admission's quota stays exact with a stale cached quota and under racing creates; a quota,
 * LimitRange or namespace change this master made is seen by the very next create, cached or not.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addAdmission } from '../../master/admission/plugins.js';
import { Objects, type ObjectCache } from '../../master/objects.js';
import { openSqliteStore, type SqliteStore } from '../../master/store/sqlite.js';
import { applyDefaults, type KObject, type Pod, type ResourceQuota } from '../../protocol/index.js';
import { harness, type Harness } from './harness.js';

/** A cache the test fills and leaves stale at will: copies of the store's objects as the informer holds them, deep-frozen. */
class FakeCache implements ObjectCache {
  ready = true;
  revision = 0;
  private readonly objects = new Map<string, KObject>();

  /** Copies every object of the store into the cache, frozen (a write into one throws in strict mode). */
  async fill(store: SqliteStore): Promise<void> {
    const { entries, revision } = await store.list<KObject>('/registry/');
    for (const e of entries) {
      const o = applyDefaults(structuredClone(e.value));
      o.metadata.resourceVersion = String(e.modRevision);
      this.objects.set(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, deepFreeze(o));
    }
    this.revision = revision;
  }
  get(kind: string, namespace: string | undefined, name: string): KObject | undefined {
    return this.objects.get(`${kind}/${namespace ?? ''}/${name}`);
  }
  /** Leaves one object out, as a cache that has not had its change yet. */
  drop(kind: string, namespace: string | undefined, name: string): void {
    this.objects.delete(`${kind}/${namespace ?? ''}/${name}`);
  }
  list(kind: string, namespace?: string): KObject[] {
    return [...this.objects.values()].filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
  }
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

const pod = (name: string, labels: Record<string, string> = {}): Pod =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'c', command: ['x'] }] } }) as Pod;

/** Objects over a `:memory:` store with the master's admission and a fake cache. */
async function world(): Promise<{ store: SqliteStore; cache: FakeCache; objects: Objects }> {
  const store = await openSqliteStore(':memory:');
  const cache = new FakeCache();
  const objects = new Objects(store, { cache });
  addAdmission(objects);
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' }, status: { phase: 'Active' } });
  return { store, cache, objects };
}

/** Changes a stored pod behind the cache's back (another writer). */
async function writeBehind(store: SqliteStore, name: string, change: (p: Pod) => void): Promise<void> {
  const e = (await store.get<Pod>(`/registry/pods/default/${name}`))!;
  change(e.value);
  await store.update(e.key, e.value, e.modRevision);
}

describe('mutate reading the cache', () => {
  let w: Awaited<ReturnType<typeof world>>;
  afterEach(() => w.store.close());

  const setLabel = (k: string, v: string) => (p: Pod) => {
    if (p.metadata.labels?.[k] === v) return undefined;
    p.metadata.labels = { ...p.metadata.labels, [k]: v };
    return p;
  };

  it.each([
    // name, what happens behind the cache, the mutation, calls of fn, store reads, labels after
    { name: 'an up-to-date copy: fn once, no store read', behind: undefined, fn: setLabel('a', '1'), calls: 1, reads: 0, labels: { a: '1' } },
    { name: 'a cached copy saying "nothing to do" is confirmed on the stored object', behind: undefined, fn: setLabel('a', '0'), calls: 2, reads: 1, labels: { a: '0' } },
    {
      name: 'a stale copy: the write conflicts, fn runs again on the stored object, both changes kept',
      behind: (p: Pod) => void (p.metadata.labels = { ...p.metadata.labels, b: '2' }),
      fn: setLabel('a', '1'),
      calls: 2,
      reads: 1,
      labels: { a: '1', b: '2' },
    },
    {
      name: 'a stale copy saying "nothing to do" is asked again on the stored object',
      behind: (p: Pod) => void (p.metadata.labels = { a: '2' }),
      fn: setLabel('a', '0'),
      calls: 2,
      reads: 1,
      labels: { a: '0' },
    },
    {
      name: 'nothing to do on the stored object either: no write',
      behind: (p: Pod) => void (p.metadata.labels = { a: '1' }),
      fn: setLabel('a', '1'),
      calls: 2,
      reads: 1,
      labels: { a: '1' },
    },
  ])('$name', async ({ behind, fn, calls, reads, labels }) => {
    w = await world();
    await w.objects.create(pod('web', { a: '0' }));
    await w.cache.fill(w.store);
    if (behind) await writeBehind(w.store, 'web', behind);
    const before = (await w.store.get('/registry/pods/default/web'))!.modRevision;
    const get = vi.spyOn(w.store, 'get');
    const seen: Pod[] = [];
    const res = await w.objects.mutate('Pod', 'default', 'web', (p) => {
      seen.push(structuredClone(p));
      return fn(p);
    });
    expect(seen).toHaveLength(calls);
    expect(get).toHaveBeenCalledTimes(reads);
    expect(res!.metadata.labels).toEqual(labels);
    const stored = (await w.store.get<Pod>('/registry/pods/default/web'))!;
    expect(stored.value.metadata.labels).toEqual(labels);
    expect(res!.metadata.resourceVersion).toBe(String(stored.modRevision));
    // No change at all leaves the stored object alone.
    if (jsonOf(labels) === jsonOf(seen.at(-1)!.metadata.labels)) expect(stored.modRevision).toBe(before);
    // What is returned is the caller's: never the cache's object.
    expect(res).not.toBe(w.cache.get('Pod', 'default', 'web'));
    res!.metadata.labels!.mine = 'x';
  });

  it('a write landing while an async fn runs: its "nothing to do" is asked again, even once the cache caught up', async () => {
    w = await world();
    await w.objects.create(pod('web', { a: '0' }));
    await w.cache.fill(w.store);
    let calls = 0;
    const res = await w.objects.mutate('Pod', 'default', 'web', async (p) => {
      if (calls++ === 0) {
        await writeBehind(w.store, 'web', (q) => void (q.metadata.labels = { a: '2' }));
        await w.cache.fill(w.store);
      }
      return setLabel('a', '0')(p);
    });
    expect(calls).toBe(2);
    expect(res!.metadata.labels).toEqual({ a: '0' });
    expect((await w.store.get<Pod>('/registry/pods/default/web'))!.value.metadata.labels).toEqual({ a: '0' });
  });

  it('fn changing its copy deeply never changes the (frozen) cached object', async () => {
    w = await world();
    await w.objects.create(pod('web', { a: '0' }));
    await w.cache.fill(w.store);
    const cached = structuredClone(w.cache.get('Pod', 'default', 'web'));
    const res = await w.objects.mutate('Pod', 'default', 'web', (p) => {
      p.spec.containers[0]!.command!.push('--flag');
      p.metadata.labels!.a = '9';
      p.status = { phase: 'Running' };
      return p;
    });
    expect(res!.spec.containers[0]!.command).toEqual(['x', '--flag']);
    expect(res!.metadata.generation).toBe(2);
    expect(w.cache.get('Pod', 'default', 'web')).toEqual(cached);
  });

  it('an object the cache lacks is read from the store; one gone from the store is undefined', async () => {
    w = await world();
    await w.cache.fill(w.store);
    await w.objects.create(pod('new'));
    expect((await w.objects.mutate('Pod', 'default', 'new', setLabel('a', '1')))!.metadata.labels).toEqual({ a: '1' });
    await w.objects.create(pod('gone'));
    await w.cache.fill(w.store);
    await w.store.delete('/registry/pods/default/gone');
    expect(await w.objects.mutate('Pod', 'default', 'gone', setLabel('a', '1'))).toBeUndefined();
  });
});

function jsonOf(v: unknown): string {
  return JSON.stringify(v);
}

describe('the admission fence: a write of this master is read from the cache only once the cache has that very write', () => {
  let w: Awaited<ReturnType<typeof world>>;
  afterEach(() => w.store.close());
  const lr = { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr', namespace: 'default' }, spec: { limits: [{ type: 'Container', defaultRequest: { cpu: '100m' } }] } };

  it.each([
    // The LimitRange was written at revision R. The cache: at which revision, and with or without the LimitRange.
    { name: 'cache at R without it (the rest of R still on its way): from the store', cacheAt: 0, has: false, from: 'store' },
    { name: 'cache at R with it: from the cache', cacheAt: 0, has: true, from: 'cache' },
    { name: 'cache past R without it (deleted since by another writer): from the cache', cacheAt: 1, has: false, from: 'cache' },
    { name: 'cache before R: from the store', cacheAt: -1, has: false, from: 'store' },
  ])('a put — $name', async ({ cacheAt, has, from }) => {
    w = await world();
    await w.cache.fill(w.store);
    const written = await w.objects.create(lr as KObject);
    await w.cache.fill(w.store);
    const r = Number(written.metadata.resourceVersion);
    w.cache.revision = r + cacheAt;
    if (!has) w.cache.drop('LimitRange', 'default', 'lr');
    const list = vi.spyOn(w.store, 'list');
    const read = await w.objects.reads.list('LimitRange', 'default');
    expect(list).toHaveBeenCalledTimes(from === 'store' ? 1 : 0);
    expect(read.map((o) => o.cached)).toEqual(from === 'cache' ? (has ? [true] : []) : [false]);
  });

  it.each([
    { name: 'cache at R still with it: from the store', cacheAt: 0, has: true, from: 'store' },
    { name: 'cache at R without it: from the cache', cacheAt: 0, has: false, from: 'cache' },
    { name: 'cache before R without it: from the store', cacheAt: -1, has: false, from: 'store' },
  ])('a delete — $name', async ({ cacheAt, has, from }) => {
    w = await world();
    await w.objects.create(lr);
    await w.cache.fill(w.store);
    await w.objects.delete('LimitRange', 'default', 'lr');
    const r = await w.store.revision();
    w.cache.revision = r + cacheAt;
    if (!has) w.cache.drop('LimitRange', 'default', 'lr');
    const list = vi.spyOn(w.store, 'list');
    expect(await w.objects.reads.list('LimitRange', 'default')).toEqual([]);
    expect(list).toHaveBeenCalledTimes(from === 'store' ? 1 : 0);
  });
});

describe('quota admission reading the cache', () => {
  let w: Awaited<ReturnType<typeof world>>;
  afterEach(() => w.store.close());

  it('a quota charged by another writer meanwhile: the stale cached quota loses the compare-and-swap, and the create is refused on the stored one', async () => {
    w = await world();
    await w.objects.apply({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { pods: '1' } } });
    await w.cache.fill(w.store);
    expect((w.cache.get('ResourceQuota', 'default', 'q') as ResourceQuota).status!.used).toEqual({ pods: '0' });
    // Another master charged the last unit: the store has it, the cache not yet.
    const e = (await w.store.get<KObject & { status: { used: Record<string, string> } }>('/registry/resourcequotas/default/q'))!;
    e.value.status.used = { pods: '1' };
    await w.store.update(e.key, e.value, e.modRevision);
    await expect(w.objects.create(pod('a'))).rejects.toThrow('pods "a" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1');
    expect((await w.store.get<{ status: unknown }>(e.key))!.value.status).toEqual({ used: { pods: '1' }, hard: { pods: '1' } });
    expect(await w.store.get('/registry/pods/default/a')).toBeUndefined();
  });

  it('a cached quota is charged on a copy: the cache keeps what it had', async () => {
    w = await world();
    await w.objects.apply({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { pods: '3' } } });
    await w.cache.fill(w.store);
    await w.objects.create(pod('a'));
    expect((w.cache.get('ResourceQuota', 'default', 'q') as ResourceQuota).status!.used).toEqual({ pods: '0' });
    expect((await w.objects.get('ResourceQuota', 'default', 'q'))!.status!.used).toEqual({ pods: '1' });
  });
});

describe('admission with the informers\' cache (the harness, as the master runs it)', () => {
  let h: Harness;
  afterEach(() => h.stop());
  const quota = (hard: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'default' }, spec: { hard } });

  it('creates racing for a quota: exactly as many win as it allows, wave after wave', async () => {
    h = await harness({ admission: true });
    await h.objects.apply(quota({ pods: '5' }));
    await h.settle();
    for (const wave of [0, 1]) {
      const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => h.objects.create(pod(`p-${wave}-${i}`))));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(wave === 0 ? 5 : 0);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as Error).message).toContain('exceeded quota: q');
      expect((await h.objects.get('ResourceQuota', 'default', 'q'))!.status!.used).toEqual({ pods: '5' });
      await h.settle();
    }
    expect(h.pods()).toHaveLength(5);
  });

  it.each([
    {
      name: 'a quota created by this master is charged by the very next create',
      write: (h: Harness) => h.objects.apply(quota({ pods: '1' })),
      kind: 'ResourceQuota',
      check: async (h: Harness) => {
        await h.objects.create(pod('a'));
        await expect(h.objects.create(pod('b'))).rejects.toThrow('exceeded quota: q');
      },
    },
    {
      name: 'a LimitRange created by this master fills the very next pod',
      write: (h: Harness) => h.objects.apply({ apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr' }, spec: { limits: [{ type: 'Container', defaultRequest: { cpu: '100m' } }] } }),
      kind: 'LimitRange',
      check: async (h: Harness) => expect((await h.objects.create(pod('a'))).spec.containers[0]!.resources?.requests).toEqual({ cpu: '100m' }),
    },
    {
      name: 'a namespace this master marked Terminating refuses the very next create',
      write: async (h: Harness) => {
        await h.objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tmp' } });
        await h.settle();
        await h.objects.delete('Namespace', undefined, 'tmp');
      },
      kind: 'Namespace',
      check: async (h: Harness) => await expect(h.objects.create({ ...pod('a'), metadata: { name: 'a', namespace: 'tmp' } })).rejects.toThrow('namespace "tmp" is being terminated'),
    },
  ])('$name', async ({ write, kind, check }) => {
    h = await harness({ admission: true });
    await write(h);
    // The cache has not caught up: what follows reads past it.
    const cached = kind === 'Namespace' ? h.informers.get('Namespace', undefined, 'tmp')?.metadata.deletionTimestamp : h.informers.list(kind, 'default')[0];
    expect(cached).toBeUndefined();
    await check(h);
  });
});

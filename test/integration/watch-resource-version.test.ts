/**
 * `watch` from a resourceVersion against a real master over real MQTT: the changes made between a list and the
 * watch arrive exactly once (none lost, nothing the list showed replayed), then live ones; a revision older than
 * the master keeps is SKIFF_ERR_GONE; a malformed one is refused naming the field; no resourceVersion still
 * replays the current objects as ADDED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResponse, KObject } from '../../protocol/index.js';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';

const cm = (name: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: rv}\ndata: {v: "${v}"}\n`;

describe('watch from a resourceVersion', () => {
  let c: TestCluster;
  const aborts: AbortController[] = [];
  beforeAll(async () => {
    // A small window, so that "too old" is reached with a few writes.
    c = await startCluster([], { watchWindow: 8 });
    await c.apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: rv}\n');
  });
  afterAll(async () => {
    for (const a of aborts) a.abort();
    await c?.stop();
  });

  /** Opens a watch; the events it gets as `TYPE name v=value rv=N`, and how it ended. */
  function watch(params: Record<string, unknown>) {
    const events: string[] = [];
    const a = new AbortController();
    aborts.push(a);
    const ended = c.api
      .stream('watch', { kind: 'ConfigMap', namespace: 'rv', ...params }, (res: ApiResponse) => {
        const e = res.event;
        if (e) events.push(`${e.type} ${e.object.metadata.name} v=${(e.object as KObject & { data: { v: string } }).data.v}`);
      }, a.signal)
      .then(() => 'done', (err: Error & { code?: string }) => `${err.code}: ${err.message}`);
    return { events, ended, stop: () => a.abort() };
  }

  it('delivers the changes made between the list and the watch exactly once, then live changes', async () => {
    await c.apply(cm('kept', '1'));
    await c.apply(cm('changed', '1'));
    await c.apply(cm('removed', '1'));
    const list = await c.api.request<{ items: KObject[]; metadata: { resourceVersion: string } }>('list', { kind: 'ConfigMap', namespace: 'rv' });
    expect(list.items.map((o) => o.metadata.name)).toEqual(['changed', 'kept', 'removed']);
    // Between the list and the watch.
    await c.apply(cm('changed', '2'));
    await c.api.request('delete', { kind: 'ConfigMap', namespace: 'rv', name: 'removed' });
    await c.apply(cm('added', '1'));
    const w = watch({ resourceVersion: list.metadata.resourceVersion });
    await eventually(() => w.events.length >= 3, 'the three changes since the list');
    await c.apply(cm('live', '1'));
    await eventually(() => w.events.length >= 4, 'a live change');
    // A settle round: one more write and its event, so a duplicate of anything above would have arrived by now.
    await c.apply(cm('live', '2'));
    await eventually(() => w.events.length >= 5, 'the last change');
    expect(w.events).toEqual(['MODIFIED changed v=2', 'DELETED removed v=1', 'ADDED added v=1', 'ADDED live v=1', 'MODIFIED live v=2']);
    w.stop();
  });

  it('resumes from the last event seen: a deleted object carries the deletion revision', async () => {
    const list = await c.api.request<{ metadata: { resourceVersion: string } }>('list', { kind: 'ConfigMap', namespace: 'rv' });
    await c.apply(cm('resume', '1'));
    await c.api.request('delete', { kind: 'ConfigMap', namespace: 'rv', name: 'resume' });
    const seen: ApiResponse[] = [];
    const a = new AbortController();
    aborts.push(a);
    void c.api.stream('watch', { kind: 'ConfigMap', namespace: 'rv', resourceVersion: list.metadata.resourceVersion }, (res) => res.event && seen.push(res), a.signal).catch(() => undefined);
    await eventually(() => seen.length === 2, 'add and delete');
    const lastRv = seen[1].event!.object.metadata.resourceVersion!;
    expect(Number(lastRv)).toBeGreaterThan(Number(seen[0].event!.object.metadata.resourceVersion));
    a.abort();
    await c.apply(cm('after', '1'));
    const w = watch({ resourceVersion: lastRv });
    await eventually(() => w.events.length >= 1, 'the change after the delete');
    expect(w.events).toEqual(['ADDED after v=1']);
    w.stop();
  });

  it('a resourceVersion older than the window is SKIFF_ERR_GONE; listing again and watching from there works', async () => {
    const list = await c.api.request<{ metadata: { resourceVersion: string } }>('list', { kind: 'ConfigMap', namespace: 'rv' });
    for (let i = 0; i < 10; i++) await c.apply(cm('churn', String(i)));
    const old = watch({ resourceVersion: list.metadata.resourceVersion });
    expect(await old.ended).toMatch(/^SKIFF_ERR_GONE: resourceVersion \d+ is too old.*list again/);
    const again = await c.api.request<{ metadata: { resourceVersion: string } }>('list', { kind: 'ConfigMap', namespace: 'rv' });
    const w = watch({ resourceVersion: again.metadata.resourceVersion });
    await c.apply(cm('churn', 'last'));
    await eventually(() => w.events.length >= 1, 'the change after the new list');
    expect(w.events).toEqual(['MODIFIED churn v=last']);
    w.stop();
  });

  it('a malformed or future resourceVersion is refused naming the field', async () => {
    for (const rv of ['abc', '-1', '1.5', { n: 1 }])
      expect(await watch({ resourceVersion: rv }).ended).toMatch(/^SKIFF_ERR_BAD_REQUEST: request watch: resourceVersion: must be a store revision/);
    expect(await watch({ resourceVersion: '999999999' }).ended).toMatch(/^SKIFF_ERR_BAD_REQUEST: request watch: resourceVersion: 999999999 is newer than the store/);
    expect(await c.api.stream('watch', { kind: 'Event', resourceVersion: '5' }, () => undefined).catch((e: Error) => e.message)).toMatch(/resourceVersion: events are not kept/);
  });

  it('without a resourceVersion (or "0") the current objects are replayed as ADDED first, as before', async () => {
    for (const rv of [undefined, '0']) {
      const w = watch(rv === undefined ? {} : { resourceVersion: rv });
      await eventually(() => w.events.some((e) => e.startsWith('ADDED kept ')), 'the replay');
      expect(w.events.every((e) => e.startsWith('ADDED '))).toBe(true);
      w.stop();
    }
  });
});

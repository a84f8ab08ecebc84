/**
 * Events as objects, in memory: the correlator (identical repeats raise count; the tenth distinct
 * message of one reason is combined), the TTL, the per-object and overall bounds, the watch stream,
 * kubectl's order, field selectors, and the recorder's log budget. All in memory, table by table.
 */
import { describe, expect, it, vi } from 'vitest';
import { BrokerQueue } from '../../master/broker/emitter.js';
import { EventRecorder } from '../../master/events.js';
import { combinedPrefix, type EventInput } from '../../master/events/correlate.js';
import { EventStore } from '../../master/events/store.js';
import { LruMap } from '../../master/events/lru.js';
import { decode, matchesFields, parseFieldSelector, type Event, type Logger } from '../../protocol/index.js';

const t0 = Date.parse('2026-12-01T10:00:00Z');

function input(over: Partial<EventInput> = {}, name = 'web-1'): EventInput {
  return { involvedObject: { kind: 'Pod', namespace: 'default', name }, type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container', source: { component: 'skiff-agent', host: 'pi-1' }, ...over };
}

function store(over: Partial<ConstructorParameters<typeof EventStore>[0]> = {}): EventStore {
  return new EventStore({ ttlMs: 3_600_000, maxEvents: 1000, maxPerObject: 100, ...over });
}

describe('the event correlator', () => {
  it('folds an identical event into the kept one: count rises, lastTimestamp moves, firstTimestamp stays', () => {
    const s = store();
    const a = s.record(input(), t0);
    const b = s.record(input(), t0 + 5000);
    const c = s.record(input({ count: 3 }), t0 + 9000);
    expect([a.created, b.created, c.created]).toEqual([true, false, false]);
    expect(s.size).toBe(1);
    expect(c.event).toMatchObject({ count: 5, firstTimestamp: new Date(t0).toISOString(), lastTimestamp: new Date(t0 + 9000).toISOString(), kind: 'Event', apiVersion: 'v1' });
    expect(c.event.metadata.name).toBe(a.event.metadata.name);
    expect(Number(c.event.metadata.resourceVersion)).toBeGreaterThan(Number(a.event.metadata.resourceVersion));
  });

  it.each([
    ['another message', { message: 'other' }],
    ['another reason', { reason: 'Unhealthy' }],
    ['another type', { type: 'Normal' as const }],
    ['another source', { source: { component: 'skiff-agent', host: 'pi-2' } }],
    ['another container', { involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-1', fieldPath: 'spec.containers{b}' } }],
  ])('keeps an event with %s apart', (_what, over) => {
    const s = store();
    s.record(input(), t0);
    expect(s.record(input(over), t0 + 1).created).toBe(true);
    expect(s.size).toBe(2);
  });

  it('combines the tenth distinct message of one reason into one "(combined from similar events)" event', () => {
    const s = store();
    for (let i = 0; i < 9; i++) expect(s.record(input({ message: `probe failed: ${i}` }), t0 + i).created).toBe(true);
    const tenth = s.record(input({ message: 'probe failed: 9' }), t0 + 9);
    const eleventh = s.record(input({ message: 'probe failed: 10' }), t0 + 10);
    expect(tenth.created).toBe(true);
    expect(eleventh.created).toBe(false);
    expect(eleventh.event).toMatchObject({ count: 2, message: `${combinedPrefix}probe failed: 10` });
    expect(s.size).toBe(10);
    // A message seen before is still folded into its own event.
    expect(s.record(input({ message: 'probe failed: 3' }), t0 + 11).event.count).toBe(2);
  });

  it('expires events last seen more than ttlMs ago, and a repeat keeps one alive', () => {
    const s = store({ ttlMs: 60_000 });
    s.record(input({ message: 'old' }), t0);
    s.record(input({ message: 'kept' }), t0);
    s.record(input({ message: 'kept' }), t0 + 50_000);
    expect(s.list(undefined, t0 + 70_000).map((e) => e.message)).toEqual(['kept']);
    expect(s.list(undefined, t0 + 111_000)).toEqual([]);
  });

  it('bounds events per object and overall, dropping the least recently seen', () => {
    const s = store({ maxPerObject: 3, maxEvents: 5 });
    for (let i = 0; i < 5; i++) s.record(input({ reason: `R${i}` }, 'a'), t0 + i);
    expect(s.of('Pod', 'default', 'a', t0 + 10).map((e) => e.reason)).toEqual(['R2', 'R3', 'R4']);
    for (let i = 0; i < 4; i++) s.record(input({ reason: `R${i}` }, `b${i}`), t0 + 10 + i);
    expect(s.size).toBe(5);
    expect(s.list(undefined, t0 + 20).map((e) => `${e.involvedObject.name}/${e.reason}`)).toEqual(['a/R4', 'b0/R0', 'b1/R1', 'b2/R2', 'b3/R3']);
  });

  it('keeps an object\'s one event and its later ones apart, in order, through drops and repeats', () => {
    const s = store({ maxPerObject: 2 });
    const reasons = () => s.of('Pod', 'default', 'a', t0 + 100).map((e) => `${e.reason} x${e.count}`);
    s.record(input({ reason: 'R0' }, 'a'), t0);
    expect(reasons()).toEqual(['R0 x1']);
    s.record(input({ reason: 'R0' }, 'a'), t0 + 1); // a repeat of its only event
    expect(reasons()).toEqual(['R0 x2']);
    s.record(input({ reason: 'R1' }, 'a'), t0 + 2);
    s.record(input({ reason: 'R0' }, 'a'), t0 + 3); // R0 is the most recent again: R1 goes first
    s.record(input({ reason: 'R2' }, 'a'), t0 + 4);
    expect(reasons()).toEqual(['R0 x3', 'R2 x1']);
    // Dropped down to nothing (overall bound 1), then one event again.
    const one = store({ maxEvents: 1 });
    one.record(input({}, 'a'), t0);
    one.record(input({}, 'b'), t0 + 1);
    expect(one.of('Pod', 'default', 'a', t0 + 2)).toEqual([]);
    one.record(input({}, 'a'), t0 + 2);
    expect(one.of('Pod', 'default', 'a', t0 + 3).map((e) => e.count)).toEqual([1]);
    expect(one.of('Pod', 'default', 'b', t0 + 3)).toEqual([]);
  });

  it('tells watchers of additions, repeats and removals', () => {
    const s = store({ maxEvents: 1 });
    const seen: string[] = [];
    const stop = s.watch((type, e) => seen.push(`${type} ${e.reason} x${e.count}`));
    s.record(input(), t0);
    s.record(input(), t0 + 1);
    s.record(input({ reason: 'Started', type: 'Normal' }), t0 + 2);
    stop();
    s.record(input({ reason: 'Killing' }), t0 + 3);
    expect(seen).toEqual(['ADDED BackOff x1', 'MODIFIED BackOff x2', 'ADDED Started x1', 'DELETED BackOff x2']);
  });

  it('lists by lastTimestamp as kubectl sorts events, and finds one by name', () => {
    const s = store();
    const first = s.record(input({ reason: 'A' }), t0);
    s.record(input({ reason: 'B' }), t0 + 1000);
    s.record(input({ reason: 'A' }), t0 + 2000);
    expect(s.list(undefined, t0 + 3000).map((e) => e.reason)).toEqual(['B', 'A']);
    expect(s.get('default', first.event.metadata.name, t0 + 3000)?.count).toBe(2);
    expect(s.list('other', t0 + 3000)).toEqual([]);
  });
});

describe('the least-recently-used map under the event store', () => {
  it.each([
    // operations, keys oldest first, oldest
    { ops: [['set', 'a'], ['set', 'b'], ['set', 'c']], order: ['a', 'b', 'c'] },
    { ops: [['set', 'a'], ['set', 'b'], ['set', 'a']], order: ['b', 'a'] },
    { ops: [['set', 'a'], ['set', 'b'], ['set', 'c'], ['delete', 'b']], order: ['a', 'c'] },
    { ops: [['set', 'a'], ['set', 'b'], ['delete', 'a'], ['set', 'a']], order: ['b', 'a'] },
    { ops: [['set', 'a'], ['delete', 'a'], ['delete', 'a']], order: [] },
    { ops: [['set', 'a'], ['set', 'b'], ['set', 'c'], ['set', 'c'], ['set', 'b'], ['delete', 'c']], order: ['a', 'b'] },
  ] as { ops: ['set' | 'delete', string][]; order: string[] }[])('%j', ({ ops, order }) => {
    const m = new LruMap<string, string>();
    ops.forEach(([op, k], i) => (op === 'set' ? m.set(k, `${k}${i}`) : m.delete(k)));
    expect([...m.values()].map((v) => v[0])).toEqual(order);
    expect(m.size).toBe(order.length);
    expect(m.oldestKey()).toBe(order[0]);
    if (order.length) expect(m.get(order.at(-1)!)?.[0]).toBe(order.at(-1));
  });
});

describe('field selectors', () => {
  const ev = { kind: 'Event', apiVersion: 'v1', metadata: { name: 'x.1', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default' }, type: 'Warning', reason: 'BackOff', source: { component: 'skiff-agent' } } as unknown as Event;
  it.each([
    ['involvedObject.name=web-1', true],
    ['involvedObject.name==web-1,type=Warning', true],
    ['involvedObject.name!=web-1', false],
    ['type=Normal', false],
    ['reason=BackOff,involvedObject.kind=Pod,source=skiff-agent', true],
    ['metadata.namespace=default', true],
    ['involvedObject.fieldPath=', true],
    ['reportingComponent!=skiff-master', true],
  ])('%s → %s', (sel, want) => {
    expect(matchesFields(parseFieldSelector(sel, 'Event'), ev)).toBe(want);
  });

  it.each([
    ['Event', 'spec.nodeName=x', /field label not supported: spec.nodeName \(Event supports metadata.name, metadata.namespace, involvedObject.kind/],
    ['Pod', 'involvedObject.name=x', /field label not supported: involvedObject.name/],
    ['Event', 'type', /invalid field selector: "type"/],
    ['Deployment', 'constructor=x', /field label not supported: constructor/],
  ])('%s %s is refused naming the term', (kind, sel, msg) => {
    expect(() => parseFieldSelector(sel, kind)).toThrow(msg);
  });
});

describe('the event recorder', () => {
  function memoryLog(): Logger & { lines: string[] } {
    const lines: string[] = [];
    return { lines, debug() {}, info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) } as Logger & { lines: string[] };
  }

  it('logs a new event once, not its repeats, and publishes every occurrence', () => {
    const log = memoryLog();
    const published: string[] = [];
    const r = new EventRecorder(log);
    r.attach((topic) => published.push(topic));
    for (let i = 0; i < 3; i++) r.object('Pod', 'default', 'web-1', 'Warning', 'FailedScheduling', '0/1 nodes are available: 1 Insufficient cpu.');
    expect(log.lines).toEqual(['warn 0/1 nodes are available: 1 Insufficient cpu.']);
    // Each occurrence on the cluster topic and on its namespace's (for namespaced watchers).
    expect(published).toEqual(Array.from({ length: 3 }, () => ['skiff/v1/events', 'skiff/v1/events/default']).flat());
    expect(r.of('Pod', 'default', 'web-1')).toMatchObject([{ reason: 'FailedScheduling', count: 3, source: { component: 'skiff-master' } }]);
  });

  it.each([
    // subscribed topics, what is published
    { subscribed: ['skiff/v1/events', 'skiff/v1/events/default'], published: ['skiff/v1/events', 'skiff/v1/events/default'] },
    { subscribed: ['skiff/v1/events/default'], published: ['skiff/v1/events/default'] },
    { subscribed: ['skiff/v1/events'], published: ['skiff/v1/events'] },
    { subscribed: [], published: [] },
  ])('publishes only to topics someone subscribes to ($subscribed), one encoding for both, and keeps every event', ({ subscribed, published }) => {
    const sent: [string, Buffer][] = [];
    const r = new EventRecorder(memoryLog());
    r.attach((topic, payload) => sent.push([topic, payload]), (topic) => subscribed.includes(topic));
    r.object('Pod', 'default', 'web-1', 'Normal', 'Scheduled', 'Successfully assigned default/web-1 to n1');
    r.report({ involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-1' }, type: 'Warning', reason: 'BackOff', message: 'back-off', source: { component: 'skiff-agent', host: 'n1' } });
    expect(sent.map(([t]) => t)).toEqual([...published, ...published]);
    if (sent.length === 4) expect(sent[0]![1]).toBe(sent[1]![1]);
    for (const [, payload] of sent.slice(0, published.length)) expect(decode(payload).value).toMatchObject({ type: 'Normal', reason: 'Scheduled', namespace: 'default', involvedObject: { kind: 'Pod', name: 'web-1' } });
    expect(r.of('Pod', 'default', 'web-1').map((e) => e.reason)).toEqual(['Scheduled', 'BackOff']);
  });

  it('an object\'s event is kept and published as emit would (same bytes), and counted once per occurrence', () => {
    const counted: string[] = [];
    const a = new EventRecorder(memoryLog(), { onRecorded: (type, reason, n) => counted.push(`${type} ${reason} ${n}`) });
    const b = new EventRecorder(memoryLog());
    const sent: [string, string, Buffer][] = [];
    a.attach((topic, payload) => sent.push(['object', topic, payload]), () => true);
    b.attach((topic, payload) => sent.push(['emit', topic, payload]), () => true);
    vi.useFakeTimers();
    try {
      vi.setSystemTime(t0);
      for (const ns of ['shop', undefined]) {
        a.object('Pod', ns, 'web-1', 'Normal', 'Scheduled', 'Successfully assigned shop/web-1 to n1');
        b.emit({ type: 'Normal', reason: 'Scheduled', message: 'Successfully assigned shop/web-1 to n1', involvedObject: { kind: 'Pod', namespace: ns, name: 'web-1' }, source: 'skiff-master' });
      }
    } finally {
      vi.useRealTimers();
    }
    const of = (who: string) => sent.filter(([w]) => w === who).map(([, t, p]) => [t, p.toString('hex')]);
    expect(of('object')).toEqual(of('emit'));
    expect(of('object').map(([t]) => t)).toEqual(['skiff/v1/events', 'skiff/v1/events/shop', 'skiff/v1/events']);
    expect(a.store.list()).toEqual(b.store.list().map((e) => ({ ...e, metadata: { ...e.metadata, uid: expect.any(String) } })));
    expect(counted).toEqual(['Normal Scheduled 1', 'Normal Scheduled 1']);
  });

  it('the broker tells which topics someone subscribes to: wildcards count, an unsubscribe ends it', async () => {
    const q = new BrokerQueue(10);
    const sent: string[] = [];
    const r = new EventRecorder(memoryLog());
    r.attach((topic) => sent.push(topic), (topic) => q.hasListener(topic));
    const listener = () => {};
    q.on('skiff/v1/events/+', listener);
    r.object('Pod', 'shop', 'web-1', 'Normal', 'Scheduled', 'assigned');
    q.on('skiff/#', listener);
    r.object('Pod', 'shop', 'web-2', 'Normal', 'Scheduled', 'assigned');
    q.removeListener('skiff/v1/events/+', listener);
    q.removeListener('skiff/#', listener);
    await new Promise((res) => setImmediate(res));
    r.object('Pod', 'shop', 'web-3', 'Normal', 'Scheduled', 'assigned');
    expect(sent).toEqual(['skiff/v1/events/shop', 'skiff/v1/events', 'skiff/v1/events/shop']);
    expect(r.store.size).toBe(3);
  });

  it('correlates as before: one ReplicaSet\'s creates fold after the tenth distinct message, each pod\'s event stays its own', () => {
    const r = new EventRecorder(memoryLog());
    for (let i = 0; i < 50; i++) {
      r.object('ReplicaSet', 'default', 'web-5d8f9', 'Normal', 'SuccessfulCreate', `Created pod: web-5d8f9-${i}`);
      r.object('Pod', 'default', `web-5d8f9-${i}`, 'Normal', 'Scheduled', `Successfully assigned default/web-5d8f9-${i} to n1`);
    }
    const rs = r.of('ReplicaSet', 'default', 'web-5d8f9');
    expect(rs).toHaveLength(10);
    expect(rs.at(-1)).toMatchObject({ count: 41, message: `${combinedPrefix}Created pod: web-5d8f9-49` });
    expect(r.store.size).toBe(60);
    expect(r.of('Pod', 'default', 'web-5d8f9-7')).toMatchObject([{ count: 1, message: 'Successfully assigned default/web-5d8f9-7 to n1' }]);
  });

  it('an event storm keeps every event but sums up the log lines beyond the budget', () => {
    vi.useFakeTimers({ now: t0 });
    try {
      const log = memoryLog();
      const r = new EventRecorder(log);
      for (let i = 0; i < 500; i++) r.object('Pod', 'default', `p-${i}`, 'Normal', 'Scheduled', `assigned p-${i}`);
      expect(r.store.size).toBe(500);
      expect(log.lines).toHaveLength(100);
      vi.setSystemTime(t0 + 1000);
      r.object('Pod', 'default', 'late', 'Normal', 'Scheduled', 'x');
      expect(log.lines.slice(100)).toEqual(['warn event log lines suppressed (an event storm); the events are kept: skiff get events -A', 'info x']);
      // A storm that goes on: 20 lines a second, and its summary once in 10 s, not before every line.
      for (let ms = 1050; ms < 6000; ms += 50) {
        vi.setSystemTime(t0 + ms);
        for (let i = 0; i < 10; i++) r.object('Pod', 'default', `q-${ms}-${i}`, 'Normal', 'Scheduled', `assigned q-${ms}-${i}`);
      }
      const later = log.lines.slice(102);
      expect(later.filter((l) => l.startsWith('warn event log lines suppressed'))).toEqual([]);
      expect(later.length).toBeGreaterThanOrEqual(90);
      expect(later.length).toBeLessThanOrEqual(120); // the 19 tokens left at 1 s, then 20 a second
      vi.setSystemTime(t0 + 12_000);
      r.object('Pod', 'default', 'later', 'Normal', 'Scheduled', 'y');
      expect(log.lines.slice(-2)).toEqual(['warn event log lines suppressed (an event storm); the events are kept: skiff get events -A', 'info y']);
    } finally {
      vi.useRealTimers();
    }
  });
});

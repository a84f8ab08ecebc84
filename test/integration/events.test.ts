/**
 * Events end to end, on an in-process master and a real agent over TCP: the scheduler's Scheduled and
 * FailedScheduling, the agent's Started, BackOff (a crash loop), Unhealthy and Killing (a failing
 * liveness probe), eviction by drain — through `list` with field selectors, `watch`, `skiff get events`
 * and the Events section of `skiff describe`. Events never touch the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import type { ApiResponse, Event, Pod } from '../../protocol/index.js';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';

async function cli(c: TestCluster, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (s: string) => void (stdout += s), stderr: (s: string) => void (stderr += s), readStdin: async () => '', env: {} };
  const code = await main(['--server', c.master.url, '--token', c.master.adminToken, ...args], io);
  return { code, stdout, stderr };
}

const events = async (c: TestCluster, fieldSelector?: string) =>
  (await c.api.request<{ items: Event[] }>('list', { kind: 'Event', allNamespaces: true, ...(fieldSelector ? { fieldSelector } : {}) })).items;

/** The first event about pod `prefix*` with `reason`, once there is one. */
async function eventFor(c: TestCluster, prefix: string, reason: string, minCount = 1): Promise<Event> {
  return eventually(async () => (await events(c, `reason=${reason}`)).find((e) => e.involvedObject.name.startsWith(prefix) && e.count >= minCount), `a ${reason} event about ${prefix}* (count ≥ ${minCount})`, 20_000, 100);
}

const manifests = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: calm}
spec:
  replicas: 1
  selector: {matchLabels: {app: calm}}
  template:
    metadata: {labels: {app: calm}}
    spec: {containers: [{name: main, command: [sleep, "600"]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers: [{name: boom, command: [sh, -c, "exit 3"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: sick}
spec:
  containers:
  - name: patient
    command: [sleep, "600"]
    livenessProbe: {exec: {command: ["false"]}, periodSeconds: 1, failureThreshold: 2}
---
apiVersion: v1
kind: Pod
metadata: {name: nowhere}
spec:
  nodeSelector: {zone: moon}
  containers: [{name: main, command: [sleep, "600"]}]
`;

describe('events', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['ev-a'], {}, { crashLoop: { initialMs: 200, maxMs: 400 } });
    await c.apply(manifests);
  }, 60_000);
  afterAll(async () => c?.stop());

  it('the scheduler reports Scheduled, and FailedScheduling with the reason', async () => {
    const scheduled = await eventFor(c, 'calm-', 'Scheduled');
    expect(scheduled).toMatchObject({ type: 'Normal', involvedObject: { kind: 'Pod', namespace: 'default' }, source: { component: 'skiff-master' } });
    expect(scheduled.message).toMatch(/^Successfully assigned default\/calm-\S+ to ev-a$/);
    const failed = await eventFor(c, 'nowhere', 'FailedScheduling');
    expect(failed).toMatchObject({ type: 'Warning', message: expect.stringMatching(/^0\/1 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector/) });
  });

  it('the agent reports Started, and BackOff as a container crash-loops (counted, not repeated)', async () => {
    const started = await eventFor(c, 'crash', 'Started', 2);
    expect(started).toMatchObject({ type: 'Normal', message: 'Started container boom', source: { component: 'skiff-agent', host: 'ev-a' }, involvedObject: { fieldPath: 'spec.containers{boom}' } });
    const backoff = await eventFor(c, 'crash', 'BackOff');
    expect(backoff).toMatchObject({ type: 'Warning', message: 'Back-off restarting failed container boom in pod default/crash' });
    const pod = await c.api.request<Pod>('get', { kind: 'Pod', name: 'crash' });
    expect(backoff.involvedObject.uid).toBe(pod.metadata.uid);
    expect((await events(c, 'involvedObject.name=crash,reason=Started')).length).toBe(1);
  });

  it('a failing liveness probe: Unhealthy on each failed check, then Killing', async () => {
    const unhealthy = await eventFor(c, 'sick', 'Unhealthy', 2);
    expect(unhealthy).toMatchObject({ type: 'Warning', involvedObject: { fieldPath: 'spec.containers{patient}' } });
    expect(unhealthy.message).toMatch(/^Liveness probe failed: /);
    const killing = await eventFor(c, 'sick', 'Killing');
    expect(killing.message).toBe('Container patient failed liveness probe, will be restarted');
  });

  it('a watch of kind Event streams new events and repeats', async () => {
    const seen: string[] = [];
    const ac = new AbortController();
    const done = c.api.stream('watch', { kind: 'Event', fieldSelector: 'involvedObject.name=crash' }, (res: ApiResponse) => {
      const o = res.event?.object as Event | undefined;
      if (o) seen.push(`${res.event!.type} ${o.reason} ${o.count}`);
    }, ac.signal);
    await eventually(() => seen.some((s) => s.startsWith('MODIFIED ')), 'a repeat of a crash event on the watch', 20_000, 100);
    ac.abort();
    await done;
    expect(seen[0]).toMatch(/^ADDED /);
  });

  it('skiff get events: kubectl columns, sorted by last seen, filtered by field selector', async () => {
    const all = await cli(c, 'get', 'events');
    expect(all.code).toBe(0);
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
    expect(all.stdout).toMatch(/Warning\s+BackOff\s+pod\/crash\s+Back-off restarting failed container boom in pod default\/crash/);
    const listed = await events(c);
    const times = listed.map((e) => e.lastTimestamp);
    expect(times).toEqual([...times].sort());
    const one = await cli(c, 'get', 'events', '--field-selector', 'involvedObject.name=sick,type=Warning', '-o', 'wide');
    const rows = one.stdout.trimEnd().split('\n').slice(1);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => /pod\/sick/.test(r) && /Warning/.test(r))).toBe(true);
    expect(one.stdout.split('\n')[0]).toMatch(/SUBOBJECT\s+SOURCE\s+FIRST SEEN\s+COUNT\s+NAME$/);
    const bad = await cli(c, 'get', 'events', '--field-selector', 'spec.nodeName=x');
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringMatching(/field label not supported: spec.nodeName \(Event supports /) });
  });

  it('an Event cannot be applied', async () => {
    const res = (await c.apply('apiVersion: v1\nkind: Event\nmetadata: {name: fake}\ninvolvedObject: {kind: Pod, name: crash}\nreason: Started\nmessage: forged\n')) as { results: { action: string; error?: { message: string } }[] };
    expect(res.results[0]).toMatchObject({ action: 'failed', error: { message: 'Event/fake: kind: events are recorded by the master and the agents; they cannot be applied' } });
    expect((await events(c)).some((e) => e.message === 'forged')).toBe(false);
  });

  it('skiff describe ends with the object\'s events', async () => {
    const d = await cli(c, 'describe', 'pod', 'crash');
    expect(d.code).toBe(0);
    const tail = d.stdout.slice(d.stdout.indexOf('\nEvents:'));
    expect(tail).toMatch(/^\nEvents:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n/);
    expect(tail).toMatch(/Warning\s+BackOff\s+\S+ \(x\d+ over \S+\)\s+skiff-agent\s+Back-off restarting failed container boom/);
  });

  it('a drain evicts with an Evicted event per pod, and no event ever writes to the store', async () => {
    const before = (await events(c)).reduce((n, e) => n + e.count, 0);
    await eventually(async () => (await events(c)).reduce((n, e) => n + e.count, 0) > before + 3, 'more event occurrences (crash loop, probes)', 20_000, 100);
    // Events live in the master's memory: however many there are, the store holds no key of theirs.
    const { entries } = await c.master.store.list('/registry/events/');
    expect(entries).toEqual([]);
    const drained = await cli(c, 'drain', 'ev-a', '--timeout', '30s');
    expect(drained.code).toBe(0);
    expect(drained.stdout).toMatch(/evicting pod default\/calm-\S+\n/);
    expect(drained.stdout).toMatch(/pod\/calm-\S+ evicted\n/);
    expect(drained.stdout.trimEnd().split('\n').at(-1)).toBe('node/ev-a drained');
    const evicted = await eventFor(c, 'calm-', 'Evicted');
    expect(evicted).toMatchObject({ type: 'Normal', message: 'Evicted by drain of node ev-a' });
    await cli(c, 'uncordon', 'ev-a');
  });
});

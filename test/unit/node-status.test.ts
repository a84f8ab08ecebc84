/**
 * Node status on the master: an unchanged status (every agent reconnect) costs no store write; lastHeartbeatTime
 * is refreshed at most every heartbeatRefreshMs (by a status or a lease), as the kubelet's periodic NodeStatus.
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaster, type Master } from '../../master/index.js';
import { EventRecorder } from '../../master/events.js';
import { NodeStatusTracker, setCondition, spreadRefresh } from '../../master/nodes/status.js';
import { resolveOptions } from '../../edge-agent/config.js';
import { onlineStatus } from '../../edge-agent/facts.js';
import { agentReconnectMaxMs, readyCondition, silentLogger, type Condition } from '../../protocol/index.js';
import { testEngine, quietLogger } from '../helpers/cluster.js';
import { eventually, tempDir } from '../helpers/wait.js';

const ready: Condition = { type: 'Ready', status: 'True', reason: 'AgentReady', message: 'skiff-agent is posting ready status' };

describe('setCondition', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const first = setCondition(undefined, ready, t0, 60_000);

  it('keeps an unchanged condition as it is within the refresh period', () => {
    const again = setCondition(first, { ...ready, lastHeartbeatTime: new Date(t0 + 59_000).toISOString() }, t0 + 59_000, 60_000);
    expect(again).toEqual(first);
    expect(again[0].lastHeartbeatTime).toBe('2026-01-01T00:00:00.000Z');
  });

  it('refreshes the heartbeat of an unchanged condition once the period has passed, keeping its transition time', () => {
    const later = setCondition(first, ready, t0 + 60_000, 60_000);
    expect(later[0].lastHeartbeatTime).toBe('2026-01-01T00:01:00.000Z');
    expect(later[0].lastTransitionTime).toBe('2026-01-01T00:00:00.000Z');
  });

  it('writes a changed status or reason at once, with a new transition time only when the status changed', () => {
    const unknown = setCondition(first, { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }, t0 + 1000, 60_000);
    expect(unknown[0]).toMatchObject({ status: 'Unknown', lastHeartbeatTime: '2026-01-01T00:00:01.000Z', lastTransitionTime: '2026-01-01T00:00:01.000Z' });
    const reason = setCondition(first, { ...ready, reason: 'Other' }, t0 + 2000, 60_000);
    expect(reason[0]).toMatchObject({ reason: 'Other', lastHeartbeatTime: '2026-01-01T00:00:02.000Z', lastTransitionTime: '2026-01-01T00:00:00.000Z' });
  });
});

describe('spreadRefresh', () => {
  const period = 5 * 60_000;
  const joined = '2026-01-01T00:00:00.000Z';

  it('gives nodes that joined together refresh moments spread over the last quarter of the period', () => {
    const due = Array.from({ length: 1000 }, (_, i) => spreadRefresh(period, `board-${i}`, joined));
    for (const d of due) expect(d >= 0.75 * period && d < period).toBe(true);
    // 20 slices of the 75 s window: none holds more than twice its share (1,000 / 20 = 50).
    const slices = new Array(20).fill(0);
    for (const d of due) slices[Math.floor(((d - 0.75 * period) / (0.25 * period)) * 20)]++;
    expect(Math.max(...slices)).toBeLessThanOrEqual(100);
    expect(Math.min(...slices)).toBeGreaterThan(0);
  });

  it.each([
    ['the same node and heartbeat', 'a', joined, 'a', joined, true],
    ['another node', 'a', joined, 'b', joined, false],
    ['the next heartbeat of the same node', 'a', joined, 'a', '2026-01-01T00:04:40.000Z', false],
  ])('%s: same period = %s', (_, n1, b1, n2, b2, same) => {
    expect(spreadRefresh(period, n1, b1) === spreadRefresh(period, n2, b2)).toBe(same);
  });
});

describe('NodeStatusTracker.heard: a lease needs a write only when the node is not Ready or its heartbeat is due (in memory)', () => {
  const refreshMs = 60_000;
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const beat0 = new Date(t0).toISOString();
  const due0 = t0 + spreadRefresh(refreshMs, 'pi', beat0);
  const node = (status: string, beat?: string) =>
    ({ metadata: { name: 'pi' }, status: { capacity: { cpu: '1' }, conditions: [{ ...ready, status, ...(beat ? { lastHeartbeatTime: beat } : {}) }] } }) as never;
  const tracker = (nodes: unknown[], now: () => number) => {
    let i = 0; // each call of heard reads the Node once: the list is the Node as it is at each call
    const informers = { on() {}, off() {}, get: () => nodes[Math.min(i++, nodes.length - 1)], list: () => [] };
    const clock = { now, after: () => ({ cancel() {} }), every: () => ({ cancel() {} }) };
    return new NodeStatusTracker({ informers, clock, log: silentLogger } as never, 10_000, refreshMs);
  };

  it.each([
    // [case, the Node at each lease, the times of the leases, heard's answers (true = nothing to write)]
    ['Ready, heartbeat fresh', [node('True', beat0)], [t0 + 1000, due0 - 1], [true, true]],
    ['Ready, heartbeat due at its spread moment', [node('True', beat0)], [due0 - 1, due0, due0 + 5000], [true, false, false]],
    ['not Ready', [node('Unknown', beat0)], [t0 + 1000], [false]],
    ['no heartbeat yet', [node('True')], [t0 + 1000], [false]],
    ['a heartbeat written meanwhile: due again from the new one', [node('True', beat0), node('True', new Date(due0).toISOString())], [due0, due0 + 1000], [false, true]],
    ['an unparsable heartbeat is never due (as before the memo)', [node('True', 'yesterday')], [t0, t0 + 10 * refreshMs], [true, true]],
  ])('%s', (_, nodes, times, want) => {
    let now = 0;
    const t = tracker(nodes, () => now);
    const got = times.map((at) => ((now = at), t.heard('pi', { intervalMs: 10_000 })));
    expect(got).toEqual(want);
  });
});

describe('NodeStatusTracker against a real store', () => {
  let master: Master;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('skiff-node-status-');
    master = await startMaster({ dataDir: join(dir, 'master'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, nodeMonitorGraceMs: 3_600_000 }); // the master's own tracker leaves these nodes alone
  });
  afterAll(async () => {
    await master.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const ctx = () => ({ objects: master.objects, informers: master.informers, events: new EventRecorder(silentLogger), log: silentLogger });
  const statusOf = (name: string) => onlineStatus(resolveOptions({ master: 'mqtt://127.0.0.1:1', name, dataDir: join(dir, name), address: '127.0.0.1', logger: quietLogger }), ['process']);
  const revisionOf = async (name: string) => (await master.objects.get('Node', undefined, name))?.metadata.resourceVersion;

  it('an unchanged status (a reconnect) writes nothing; a changed one does', async () => {
    const tracker = new NodeStatusTracker(ctx(), 10_000);
    await tracker.onStatus('quiet-1', statusOf('quiet-1'));
    const rv = await revisionOf('quiet-1');
    expect(rv).toBeDefined();
    for (let i = 0; i < 5; i++) await tracker.onStatus('quiet-1', statusOf('quiet-1'));
    await tracker.onLease('quiet-1', { ts: Date.now() });
    expect(await revisionOf('quiet-1')).toBe(rv);
    await tracker.onStatus('quiet-1', { ...statusOf('quiet-1'), labels: { zone: 'greenhouse' } });
    expect(Number(await revisionOf('quiet-1'))).toBeGreaterThan(Number(rv));
  });

  it('a lease refreshes a stale heartbeat (one write), then writes nothing until the period passes again', async () => {
    const tracker = new NodeStatusTracker(ctx(), 10_000, 300);
    await tracker.onStatus('quiet-2', statusOf('quiet-2'));
    const n0 = (await master.objects.get('Node', undefined, 'quiet-2'))!;
    const beat0 = n0.status!.conditions!.find((c) => c.type === 'Ready')!.lastHeartbeatTime!;
    await tracker.onLease('quiet-2', { ts: Date.now() });
    expect(await revisionOf('quiet-2')).toBe(n0.metadata.resourceVersion);
    await new Promise((r) => setTimeout(r, 350)); // the refresh period itself is what is tested
    await tracker.onLease('quiet-2', { ts: Date.now() });
    const n1 = (await master.objects.get('Node', undefined, 'quiet-2'))!;
    const r1 = n1.status!.conditions!.find((c) => c.type === 'Ready')!;
    expect(Date.parse(r1.lastHeartbeatTime!)).toBeGreaterThan(Date.parse(beat0));
    expect(r1.lastTransitionTime).toBe(n0.status!.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime);
    await tracker.onLease('quiet-2', { ts: Date.now() });
    expect(await revisionOf('quiet-2')).toBe(n1.metadata.resourceVersion);
  });
  it('a restarted master counts a Ready node it has not heard from yet from its start plus the agents\' reconnect cap', async () => {
    await new NodeStatusTracker(ctx(), 1000).onStatus('restarted-1', statusOf('restarted-1')); // the previous master's run
    await eventually(() => readyCondition(master.informers.get('Node', undefined, 'restarted-1'))?.status === 'True', 'the Ready node in the cache');
    const before = Date.now();
    const tracker = new NodeStatusTracker(ctx(), 1000); // the restarted master: its agent is still in its back-off
    const after = Date.now();
    const readyOf = async () => readyCondition(await master.objects.get('Node', undefined, 'restarted-1'));
    // Past the grace, within grace + cap: Kubernetes would count the grace alone, but the agent may not have retried yet.
    await tracker.checkLeases(before + agentReconnectMaxMs + 1000);
    expect((await readyOf())?.status).toBe('True');
    await tracker.checkLeases(after + agentReconnectMaxMs + 1001);
    expect(await readyOf()).toMatchObject({ status: 'Unknown', message: expect.stringContaining('no lease since the master started') });
  });
});

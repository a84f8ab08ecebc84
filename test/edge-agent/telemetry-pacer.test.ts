/** The agent's telemetry pacing (edge-agent/telemetry.ts) and the master's side of metric deltas (master/metrics.ts), in memory. */
import { describe, expect, it } from 'vitest';
import { ACTIVE_MS, FULL_EVERY_MS, KEEP_MS, LEASE_JITTER, TelemetryPacer, moved, type FullSample } from '../../edge-agent/telemetry.js';
import { MetricsStore } from '../../master/metrics.js';
import type { Pod } from '../../protocol/index.js';

const MiB = 1 << 20;
const pod = (name: string, cpuMilli: number, memoryBytes: number) => ({ namespace: 'default', name, uid: `uid-${name}`, cpuMilli, memoryBytes });
const sample = (ts: number, pods = [pod('a', 5, 10 * MiB), pod('b', 200, 50 * MiB)], node = { cpuMilli: 300, memoryBytes: 500 * MiB }): FullSample => ({ ts, node, pods });

describe('telemetry pacing', () => {
  it.each([
    // [previous, next, moved?]
    [{ cpuMilli: 0, memoryBytes: 10 * MiB }, { cpuMilli: 9, memoryBytes: 10 * MiB }, false], // below the 10m floor
    [{ cpuMilli: 200, memoryBytes: 10 * MiB }, { cpuMilli: 215, memoryBytes: 10 * MiB }, false], // 15m but under 10 %
    [{ cpuMilli: 200, memoryBytes: 10 * MiB }, { cpuMilli: 230, memoryBytes: 10 * MiB }, true],
    [{ cpuMilli: 0, memoryBytes: 10 * MiB }, { cpuMilli: 0, memoryBytes: 10.4 * MiB }, false], // under 1 MiB
    [{ cpuMilli: 0, memoryBytes: 100 * MiB }, { cpuMilli: 0, memoryBytes: 104 * MiB }, false], // 4 % < 5 %
    [{ cpuMilli: 0, memoryBytes: 100 * MiB }, { cpuMilli: 0, memoryBytes: 106 * MiB }, true],
    // A steady 200m: the rate does not move, the cumulative counter does (a second of cpu is news).
    [{ cpuMilli: 200, memoryBytes: 10 * MiB, cpuSeconds: 100 }, { cpuMilli: 200, memoryBytes: 10 * MiB, cpuSeconds: 100.9 }, false],
    [{ cpuMilli: 200, memoryBytes: 10 * MiB, cpuSeconds: 100 }, { cpuMilli: 200, memoryBytes: 10 * MiB, cpuSeconds: 101 }, true],
  ])('moved(%o, %o) = %s', (a, b, want) => expect(moved(a, b, 10, MiB)).toBe(want));

  it('leases at the configured period while active, at twice it when quiet, and never right after another message', () => {
    const p = new TelemetryPacer(2000);
    p.reconnected(0);
    expect(p.leaseDue(2000)).toBe(true);
    p.published(2000);
    expect(p.leaseDue(3000)).toBe(false);
    p.published(3500); // a pods report went out: no lease needed until 5500
    expect(p.leaseDue(4000)).toBe(false);
    expect(p.leaseDue(5500)).toBe(true);
    const quiet = ACTIVE_MS + 10_000;
    p.published(quiet);
    expect(p.leaseDue(quiet + 2000)).toBe(false);
    expect(p.leaseDue(quiet + 4000)).toBe(true);
    p.changed(quiet + 4000);
    p.published(quiet + 4000);
    expect(p.leaseDue(quiet + 6000)).toBe(true);
  });

  it('follows a longer assigned interval in both periods, never a shorter one; each period is drawn up to LEASE_JITTER short', () => {
    let draw = 0;
    const p = new TelemetryPacer(2000, 1, 10_000, () => draw);
    p.reconnected(0);
    p.follow(10_000);
    expect(p.intervalMs()).toBe(10_000);
    p.published(1000);
    expect(p.leaseInMs(1000)).toBe(10_000); // active: max(2 s, 10 s), no jitter drawn (0)
    expect(p.leaseDue(1000 + 9_000)).toBe(false);
    expect(p.leaseDue(1000 + 9_600)).toBe(true);
    draw = 1; // the next period is drawn the most early
    p.published(20_000);
    expect(p.leaseInMs(20_000)).toBe(10_000 * (1 - LEASE_JITTER));
    const quiet = ACTIVE_MS + 50_000;
    p.published(quiet);
    expect(p.leaseInMs(quiet)).toBe(10_000 * (1 - LEASE_JITTER)); // quiet: max(4 s, 10 s)
    p.follow(500); // shorter than its own: its own holds
    expect(p.intervalMs()).toBe(2000);
    expect(p.leaseInMs(quiet)).toBe(4000 * (1 - LEASE_JITTER));
    p.follow(undefined);
    expect(p.intervalMs()).toBe(2000);
  });

  it('sends a full message first, then only what moved, an empty delta to stay fresh, and full again after a reconnect', () => {
    const p = new TelemetryPacer(2000);
    const first = p.metrics(sample(0));
    expect(first).toEqual(sample(0));
    expect(p.metrics(sample(10_000))).toBeUndefined(); // nothing moved
    const d = p.metrics(sample(20_000, [pod('a', 5, 10 * MiB), pod('b', 400, 50 * MiB)]));
    expect(d).toEqual({ ts: 20_000, delta: true, pods: [pod('b', 400, 50 * MiB)] });
    // A slow drift is measured against what the master holds, not against the last sample: it adds up.
    expect(p.metrics(sample(30_000, [pod('a', 5, 10.6 * MiB), pod('b', 400, 50 * MiB)]))).toBeUndefined();
    expect(p.metrics(sample(40_000, [pod('a', 5, 11.2 * MiB), pod('b', 400, 50 * MiB)]))?.pods).toEqual([pod('a', 5, 11.2 * MiB)]);
    expect(p.metrics(sample(40_000 + KEEP_MS, [pod('a', 5, 11.2 * MiB), pod('b', 400, 50 * MiB)]))).toEqual({ ts: 40_000 + KEEP_MS, delta: true, pods: [] });
    const c = p.metrics(sample(FULL_EVERY_MS + 1, [pod('a', 5, 11.2 * MiB), pod('b', 400, 50 * MiB)]));
    expect(c?.delta).toBeUndefined();
    p.reconnected(FULL_EVERY_MS + 2);
    expect(p.metrics(sample(FULL_EVERY_MS + 3))?.delta).toBeUndefined();
  });
});

describe('master metrics store: deltas', () => {
  const bound = new Map<string, Pod>(['a', 'b'].map((n) => [`default/${n}`, { metadata: { name: n, namespace: 'default', uid: `uid-${n}` }, spec: { nodeName: 'pi' } } as unknown as Pod]));
  const store = () => new MetricsStore((ns, name) => bound.get(`${ns}/${name}`));

  it('a delta replaces what it lists, keeps (and refreshes) the rest, and drops pods no longer bound', () => {
    const s = store();
    s.onNodeMetrics('pi', sample(0), 0);
    s.onNodeMetrics('pi', { ts: 50_000, delta: true, pods: [pod('b', 999, 50 * MiB)] }, 50_000);
    expect(s.pod('default', 'a', 'uid-a', 100_000)).toMatchObject({ cpuMilli: 5, at: 50_000 }); // fresh again: not expired at 100 s
    expect(s.pod('default', 'b', 'uid-b', 100_000)).toMatchObject({ cpuMilli: 999 });
    expect(s.node('pi', 100_000)).toMatchObject({ cpuMilli: 300 });
    bound.delete('default/a');
    s.onNodeMetrics('pi', { ts: 60_000, delta: true, pods: [] }, 60_000);
    expect(s.size().pods).toBe(1);
    // A full message is the node's whole word again.
    s.onNodeMetrics('pi', { ts: 70_000, node: { cpuMilli: 1, memoryBytes: 1 }, pods: [] }, 70_000);
    expect(s.size().pods).toBe(0);
  });

  it('paces the keep-alive delta and the node sample in samples when the agent samples faster than every 10 s', () => {
    const p = new TelemetryPacer(2000, 1, 500); // every 500 ms: keep-alive after 4.5 samples, a node sample after 3
    expect(p.metrics(sample(0))).toEqual(sample(0));
    expect(p.metrics(sample(2000))).toBeUndefined();
    expect(p.metrics(sample(2250))).toEqual({ ts: 2250, delta: true, pods: [] });
    const busy = { ...sample(4000), node: { cpuMilli: 900, memoryBytes: 10 * MiB } };
    expect(p.metrics(busy)?.node).toEqual(busy.node);
    const slow = new TelemetryPacer(2000); // the default 10 s sampling keeps the fixed periods
    slow.metrics(sample(0));
    expect(slow.metrics(sample(KEEP_MS - 1))).toBeUndefined();
  });
});

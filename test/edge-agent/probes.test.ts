/**
 * Probe timing and thresholds, table-driven on a fake clock (vitest's fake timers drive setTimeout and
 * Date.now): when checks run, when verdicts flip, timeouts, the liveness hold, and the startup gate.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ContainerProber, type ProbedContainer } from '../../edge-agent/probes/prober.js';
import { settingsOf } from '../../edge-agent/probes/settings.js';
import type { ProbeCheck, ProbeKind } from '../../edge-agent/probes/types.js';
import { ProbeWorker } from '../../edge-agent/probes/worker.js';
import type { Container, Probe } from '../../protocol/types.js';

/** A scripted result: pass, fail, never answer, or answer after `ms`. */
type Step = boolean | 'hang' | { ms: number; ok: boolean };

/** A check that plays `steps` in order (repeating the last) and records when it was called. */
function scripted(steps: Step[]): ProbeCheck & { calls: number[] } {
  let i = 0;
  const calls: number[] = [];
  const check = (async (_signal: AbortSignal) => {
    calls.push(Date.now());
    const s = steps[Math.min(i++, steps.length - 1)];
    if (s === 'hang') return new Promise(() => {});
    if (typeof s === 'boolean') return { ok: s, message: s ? undefined : 'scripted failure' };
    await new Promise((r) => setTimeout(r, s.ms));
    return { ok: s.ok };
  }) as unknown as ProbeCheck & { calls: number[] };
  check.calls = calls;
  return check;
}

interface Row {
  name: string;
  kind: ProbeKind;
  probe: Probe;
  steps: Step[];
  /** Check start times (ms since the container started) within `untilMs`. */
  calls: number[];
  /** Verdict changes: [ms, verdict]. */
  flips: [number, boolean][];
  untilMs?: number;
}

const rows: Row[] = [
  { name: 'defaults: readiness checks at once, then every 10 s', kind: 'readiness', probe: {}, steps: [true], calls: [0, 10_000, 20_000], flips: [[0, true]], untilMs: 25_000 },
  { name: 'initialDelaySeconds postpones the first check', kind: 'readiness', probe: { initialDelaySeconds: 5, periodSeconds: 2 }, steps: [true], calls: [5000, 7000, 9000], flips: [[5000, true]], untilMs: 10_000 },
  { name: 'liveness flips only after failureThreshold consecutive failures, then holds', kind: 'liveness', probe: { periodSeconds: 1, failureThreshold: 3 }, steps: [false], calls: [0, 1000, 2000], flips: [[2000, false]], untilMs: 10_000 },
  { name: 'a success in between resets the failure run', kind: 'readiness', probe: { periodSeconds: 1, failureThreshold: 2 }, steps: [true, false, true, false, false, true], calls: [0, 1000, 2000, 3000, 4000, 5000], flips: [[0, true], [4000, false], [5000, true]], untilMs: 5500 },
  { name: 'readiness successThreshold 2 needs two passes in a row', kind: 'readiness', probe: { periodSeconds: 1, successThreshold: 2, failureThreshold: 1 }, steps: [true, false, true, true], calls: [0, 1000, 2000, 3000], flips: [[3000, true]], untilMs: 3500 },
  { name: 'liveness ignores successThreshold (Kubernetes requires 1)', kind: 'liveness', probe: { periodSeconds: 1, successThreshold: 5, failureThreshold: 1 }, steps: [true, false], calls: [0, 1000], flips: [[1000, false]], untilMs: 5000 },
  { name: 'a check that never answers fails after timeoutSeconds; the next starts a period after the last began', kind: 'readiness', probe: { periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 1 }, steps: [true, 'hang', true], calls: [0, 5000, 10_000], flips: [[0, true], [7000, false], [10_000, true]], untilMs: 12_000 },
  { name: 'a slow check does not delay the period', kind: 'readiness', probe: { periodSeconds: 10, timeoutSeconds: 5 }, steps: [{ ms: 3000, ok: true }], calls: [0, 10_000, 20_000], flips: [[3000, true]], untilMs: 25_000 },
  // "Right after" is setTimeout(0), which Node (and the fake clock) turn into 1 ms.
  { name: 'a check slower than the period starts the next one right after it', kind: 'readiness', probe: { periodSeconds: 1, timeoutSeconds: 3 }, steps: [{ ms: 2500, ok: true }], calls: [0, 2501, 5002], flips: [[2500, true]], untilMs: 6000 },
];

describe('probe worker: timing and thresholds (fake clock)', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it.each(rows)('$name', async (row) => {
    const t0 = Date.now();
    const check = scripted(row.steps);
    const flips: [number, boolean][] = [];
    const initial = row.kind === 'liveness' ? true : row.kind === 'readiness' ? false : undefined;
    const w = new ProbeWorker(settingsOf(row.kind, row.probe), check, initial, row.kind !== 'readiness', (ok) => flips.push([Date.now() - t0, ok]));
    w.start(t0);
    await vi.advanceTimersByTimeAsync(row.untilMs ?? 30_000);
    w.stop();
    expect(check.calls.map((c) => c - t0)).toEqual(row.calls);
    expect(flips).toEqual(row.flips);
  });

  it('counts initialDelaySeconds from the container start, not from when probing began', async () => {
    const t0 = Date.now();
    const check = scripted([true]);
    const w = new ProbeWorker(settingsOf('readiness', { initialDelaySeconds: 10 }), check, false, false, () => {});
    await vi.advanceTimersByTimeAsync(4000);
    w.start(t0); // e.g. readiness starting after a startup probe passed at 4 s
    await vi.advanceTimersByTimeAsync(7000);
    w.stop();
    expect(check.calls.map((c) => c - t0)).toEqual([10_000]);
  });

  it('ignores a check still in flight when stopped, and forgets the verdict', async () => {
    const check = scripted([{ ms: 500, ok: true }]);
    const flips: boolean[] = [];
    const w = new ProbeWorker(settingsOf('readiness', {}), check, false, false, (ok) => flips.push(ok));
    w.start(Date.now());
    await vi.advanceTimersByTimeAsync(100);
    w.stop();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(check.calls).toHaveLength(1);
    expect(flips).toEqual([]);
    expect(w.verdict).toBe(false);
  });
});

/** A container whose attempts the test plays by hand. */
class FakeContainer implements ProbedContainer {
  state: ProbedContainer['state'] = { waiting: { reason: 'ContainerCreating' } };
  restartCount = 0;
  run(): void {
    this.state = { running: { startedAt: new Date().toISOString() } };
  }
  end(): void {
    this.state = { terminated: { exitCode: 143 } };
    this.restartCount++;
  }
}

function proberWith(spec: Partial<Container>, checks: Partial<Record<ProbeKind, ProbeCheck>>) {
  const container = new FakeContainer();
  const kills: string[] = [];
  let changes = 0;
  // The handlers are replaced by scripted checks: exec commands name the probe kind.
  const c: Container = { name: 'main', ...spec };
  const p = new ContainerProber(c, {
    container,
    target: { containerName: 'main', host: '127.0.0.1', ports: [], env: {} },
    kill: (m) => kills.push(m),
    onChange: () => changes++,
  }, (kind) => checks[kind]!);
  return { p, container, kills, changes: () => changes };
}

describe('container prober: startup gate, liveness kill, readiness (fake clock)', () => {
  beforeEach(() => vi.useFakeTimers({ now: 2_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('runs liveness and readiness only after the startup probe passed', async () => {
    const startup = scripted([false, false, true]);
    const liveness = scripted([true]);
    const readiness = scripted([true]);
    const probe = { exec: { command: ['x'] }, periodSeconds: 1, failureThreshold: 5 };
    const { p, container } = proberWith({ startupProbe: probe, livenessProbe: probe, readinessProbe: probe }, { startup, liveness, readiness });
    container.run();
    p.sync();
    await vi.advanceTimersByTimeAsync(1500);
    expect(p.started()).toBe(false);
    expect(p.ready()).toBe(false);
    expect(liveness.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000); // third startup check at 2 s passes
    expect(p.started()).toBe(true);
    expect(p.ready()).toBe(true);
    expect(startup.calls).toHaveLength(3);
    expect(liveness.calls.length).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(startup.calls).toHaveLength(3); // never again for this attempt
    p.stop();
  });

  it('kills the attempt when the startup probe fails failureThreshold times, and probes the next attempt afresh', async () => {
    const startup = scripted([false]);
    const { p, container, kills } = proberWith({ startupProbe: { exec: { command: ['x'] }, periodSeconds: 1, failureThreshold: 2 } }, { startup });
    container.run();
    p.sync();
    await vi.advanceTimersByTimeAsync(5000);
    expect(kills).toEqual(['Startup probe failed: scripted failure; container restarted by the probe']);
    expect(startup.calls).toHaveLength(2); // held after the verdict
    container.end();
    p.sync();
    container.run();
    p.sync();
    await vi.advanceTimersByTimeAsync(1500);
    expect(kills).toHaveLength(2);
    p.stop();
  });

  it('kills on liveness failure; readiness goes False and back without a kill', async () => {
    const liveness = scripted([true, true, false]);
    const readiness = scripted([true, false, true]);
    const probe = { exec: { command: ['x'] }, periodSeconds: 1, failureThreshold: 1 };
    const { p, container, kills, changes } = proberWith({ livenessProbe: probe, readinessProbe: probe }, { liveness, readiness });
    container.run();
    p.sync();
    await vi.advanceTimersByTimeAsync(10);
    expect(p.ready()).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(p.ready()).toBe(false);
    expect(kills).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(p.ready()).toBe(true);
    expect(kills).toEqual(['Liveness probe failed: scripted failure; container restarted by the probe']);
    expect(changes()).toBeGreaterThanOrEqual(3);
    container.end();
    p.sync();
    expect(p.ready()).toBe(false); // not running: not ready, and readiness starts from False next attempt
    p.stop();
  });
});

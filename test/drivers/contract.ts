/**
 * The driver contract (edge-agent/drivers/types.ts, docs/lifecycle.md) as one suite every driver passes, as
 * the store contract runs against SQLite and etcd: start an attempt to its exit code, stop it with a grace
 * period, let go of it and adopt it again (same process, same restartCount), find nothing where nothing ran,
 * reap the pods no longer wanted, and report a start that fails as StartError rather than throw.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, LaunchSpec } from '../../edge-agent/drivers/types.js';
import { quietLogger } from '../helpers/cluster.js';

/** A driver under test and how to launch `sh -c script` with it. */
export interface DriverUnderTest {
  driver: Driver;
  /** The records dir `reap` reads (DATA/pods). */
  podsDir: string;
  /** A launch of `sh -c script` as pod `pod`'s container `main`. */
  launch(o: { script: string; pod: string; restartCount?: number; graceMs?: number }): LaunchSpec;
  /** A launch that cannot start (a command or image that does not exist). */
  broken(pod: string): LaunchSpec;
  close(): Promise<void>;
}

let seq = 0;
const podName = () => `contract-${process.pid}-${++seq}`;

/** Registers the contract's tests for one driver. */
export function driverContract(name: string, setup: () => Promise<DriverUnderTest>): void {
  describe(`driver contract: ${name}`, () => {
    let t: DriverUnderTest;
    beforeAll(async () => {
      t = await setup();
    }, 90_000);
    afterAll(async () => {
      await t?.close();
    }, 90_000);
    const ref = (spec: LaunchSpec) => ({ podUid: spec.podUid, containerName: spec.containerName, stateDir: spec.stateDir });

    it('start runs an attempt to its exit code', async () => {
      const fail = await t.driver.start(t.launch({ script: 'exit 3', pod: podName() }));
      expect(await fail.exited).toMatchObject({ exitCode: 3, reason: 'Error' });
      const ok = await t.driver.start(t.launch({ script: 'true', pod: podName() }));
      expect(await ok.exited).toMatchObject({ exitCode: 0, reason: 'Completed' });
    });

    it('stop ends an attempt that heeds SIGTERM at once, and kills one that ignores it after the grace period', async () => {
      const polite = await t.driver.start(t.launch({ script: 'trap "exit 0" TERM; while :; do sleep 0.1; done', pod: podName() }));
      await new Promise((r) => setTimeout(r, 300)); // the trap is set
      const t0 = Date.now();
      expect(await polite.stop(10_000)).toMatchObject({ exitCode: 0 });
      expect(Date.now() - t0).toBeLessThan(5000);
      const stubborn = await t.driver.start(t.launch({ script: 'trap "" TERM; while :; do sleep 0.1; done', pod: podName() }));
      await new Promise((r) => setTimeout(r, 300));
      const t1 = Date.now();
      expect(await stubborn.stop(1000)).toMatchObject({ exitCode: 137 });
      expect(Date.now() - t1).toBeGreaterThanOrEqual(900);
    });

    it('a released attempt keeps running and is adopted: same pid, same restartCount; once ended, its exit', async () => {
      const spec = t.launch({ script: 'trap "exit 7" TERM; while :; do sleep 0.1; done', pod: podName(), restartCount: 2 });
      const h = await t.driver.start(spec);
      await new Promise((r) => setTimeout(r, 300));
      h.release();
      const a = await t.driver.adopt(ref(spec));
      expect(a.kind).toBe('running');
      if (a.kind !== 'running') return;
      expect(a.restartCount).toBe(2);
      expect(a.handle.pid).toBe(h.pid);
      expect(await a.handle.stop(5000)).toMatchObject({ exitCode: 7 });
      expect(await t.driver.adopt(ref(spec))).toMatchObject({ kind: 'exited', restartCount: 2, exit: { exitCode: 7 } });
    });

    it('adopt finds nothing where nothing ran', async () => {
      expect(await t.driver.adopt(ref(t.launch({ script: 'true', pod: podName() })))).toEqual({ kind: 'none' });
    });

    it('reap stops the attempts of pods not kept, and leaves the kept ones running', async () => {
      const keep = t.launch({ script: 'sleep 60', pod: podName(), graceMs: 500 });
      const drop = t.launch({ script: 'sleep 60', pod: podName(), graceMs: 500 });
      const hk = await t.driver.start(keep);
      const hd = await t.driver.start(drop);
      await t.driver.reap(t.podsDir, new Set([keep.podUid]), quietLogger);
      await hd.exited;
      expect((await t.driver.adopt(ref(keep))).kind).toBe('running');
      await hk.stop(0);
    });

    it('a start that cannot run is an attempt that ended with StartError, not a throw', async () => {
      const h = await t.driver.start(t.broken(podName()));
      expect(await h.exited).toMatchObject({ reason: 'StartError' });
    });
  });
}

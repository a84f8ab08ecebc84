/**
 * Reconciles the desired pod set with what runs, by pod uid: new uids start, missing uids stop (and are
 * reported gone once their processes have ended), known uids keep running untouched (pods are immutable);
 * a uid the set lists as terminating that does not run here is reported gone at once.
 * The first desired set also settles what a previous agent run left behind: its pods that are still wanted
 * are adopted by their runners (pods/pod.ts), the others are reaped — stopped and their state removed.
 * Logs go by one rule (logs/retention.ts): a pod's log directory stays while the pod is wanted, running or
 * stopping here, or listed in the desired set's `keepLogs` (it ran to the end and still exists).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DesiredMessage, PodReport } from '../../protocol/messages.js';
import { remove } from '../fsutil.js';
import { sweepSecretDirs } from '../volumes/tmpfs.js';
import type { Logger } from '../log.js';
import { logsKeptBy, sweepLogs } from '../logs/retention.js';
import { PodRunner, type PodContext } from './pod.js';

/** Runs the node's pods. */
export class PodManager {
  private readonly runners = new Map<string, PodRunner>();
  private readonly stopping = new Map<string, Promise<void>>();
  private latest?: DesiredMessage;
  private settled = false;
  private sweeping: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: PodContext,
    private readonly onGone: (uid: string) => void,
    private readonly log: Logger,
  ) {}

  /** Converges on `desired` (level-triggered: the same message twice changes nothing). */
  apply(desired: DesiredMessage): void {
    this.latest = desired;
    const want = new Map(desired.pods.map((p) => [p.metadata.uid as string, p]));
    if (!this.settled) this.reapLeftovers(new Set(want.keys()));
    for (const uid of [...this.runners.keys()]) if (!want.has(uid)) this.remove(uid);
    // Being deleted and not stopping here: it never ran here (or a previous run reaped it), nothing to wait for.
    for (const uid of desired.terminating ?? []) if (!want.has(uid) && !this.stopping.has(uid)) this.onGone(uid);
    for (const [uid, pod] of want) {
      const r = this.runners.get(uid);
      if (r) r.update(desired);
      else if (!this.stopping.has(uid)) {
        const runner = new PodRunner(pod, this.ctx);
        this.runners.set(uid, runner);
        this.log.info(`starting pod ${runner.namespace}/${runner.name} (${uid})`);
        void runner.run(desired).catch((err) => this.log.error(`pod ${runner.namespace}/${runner.name}: ${(err as Error).stack ?? err}`));
      }
    }
    this.sweepLogs();
  }

  /**
   * Removes the logs of pods that are neither wanted, kept (finished pods that still exist: logs/retention.ts),
   * running nor stopping here. One sweep at a time.
   */
  private sweepLogs(): void {
    this.sweeping = this.sweeping
      .then(() => sweepLogs(this.ctx.logsDir, new Set([...logsKeptBy(this.latest), ...this.runners.keys(), ...this.stopping.keys()])))
      .then(
        () => undefined,
        (err) => this.log.error(`removing logs of deleted pods: ${(err as Error).message}`),
      );
  }

  private remove(uid: string): void {
    const r = this.runners.get(uid) as PodRunner;
    this.runners.delete(uid);
    this.log.info(`stopping pod ${r.namespace}/${r.name} (${uid})`);
    const done = r
      .stop()
      .then(() => Promise.all([remove(path.join(this.ctx.podsDir, uid)), this.ctx.cgroups?.removePod(uid)]))
      .catch((err) => this.log.error(`stopping pod ${uid}: ${(err as Error).message}`))
      .then(() => {
        this.stopping.delete(uid);
        this.onGone(uid);
        // Its logs stay while the pod object exists (a finished pod); the sweep decides.
        this.sweepLogs();
        // Desired again while it was stopping (a rare flap): start it afresh.
        if (this.latest?.pods.some((p) => p.metadata.uid === uid)) this.apply(this.latest);
      });
    this.stopping.set(uid, done);
  }

  /**
   * Once, with the first desired set: stops the processes of pods a previous agent run left that are not in
   * it (deleted while no agent ran), then removes their state and reports them gone, so the master can
   * finish a deletion it was waiting on; their logs go by the sweep's rule. Until then those uids count as
   * stopping.
   */
  private reapLeftovers(keep: Set<string>): void {
    this.settled = true;
    const { podsDir, secretBase } = this.ctx;
    // Secret volumes in memory of pods no longer wanted (their runners never ran here to clean up).
    if (secretBase) void sweepSecretDirs(secretBase, (uid) => keep.has(uid)).catch((err) => this.log.error(`sweeping secret volumes: ${(err as Error).message}`));
    let listed: string[] = [];
    try {
      listed = fs.readdirSync(podsDir);
    } catch {
      // no pods dir yet
    }
    const podDirs = listed.filter((uid) => !keep.has(uid));
    const cgroupUids = (this.ctx.cgroups?.podUids() ?? []).filter((uid) => !keep.has(uid));
    if (!podDirs.length && !cgroupUids.length) return;
    const done = Promise.all(this.ctx.drivers.all().map((d) => d.reap(podsDir, keep, this.log)))
      .then((counts) => {
        const n = counts.reduce((a, b) => a + b, 0);
        if (n) this.log.info(`stopped ${n} process(es) of pods no longer wanted on this node`);
      })
      .then(() => Promise.all([...podDirs.map((uid) => remove(path.join(podsDir, uid))), ...cgroupUids.map((uid) => this.ctx.cgroups?.removePod(uid))]))
      .catch((err) => this.log.error(`reaping leftovers: ${(err as Error).message}`))
      .then(() => {
        for (const uid of podDirs) {
          this.stopping.delete(uid);
          this.onGone(uid);
        }
        this.sweepLogs();
        if (this.latest && this.latest.pods.some((p) => podDirs.includes(p.metadata.uid as string))) this.apply(this.latest);
      });
    for (const uid of podDirs) this.stopping.set(uid, done);
  }

  /** The runner of a pod by namespace and name. */
  find(namespace: string, name: string): PodRunner | undefined {
    for (const r of this.runners.values()) if (r.namespace === namespace && r.name === name) return r;
    return undefined;
  }

  /** The runner of a pod by uid. */
  get(uid: string): PodRunner | undefined {
    return this.runners.get(uid);
  }

  /** Every pod's report. */
  reports(): PodReport[] {
    return [...this.runners.values()].map((r) => ({ namespace: r.namespace, name: r.name, uid: r.uid, status: r.status() }));
  }

  /** Every runner. */
  all(): PodRunner[] {
    return [...this.runners.values()];
  }

  /**
   * Stops every pod and waits for them; with `stopPods: false` leaves the processes running, for the next agent
   * run to adopt (pods being deleted are still stopped, without waiting for them).
   */
  async shutdown(stopPods: boolean): Promise<void> {
    if (stopPods) await Promise.all([...[...this.runners.values()].map((r) => r.stop().then(() => this.ctx.cgroups?.removePod(r.uid))), ...this.stopping.values()]);
    else for (const r of this.runners.values()) r.detach();
    this.runners.clear();
  }
}

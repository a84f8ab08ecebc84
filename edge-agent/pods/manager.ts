/**
 * Reconciles the desired pod set with what runs, by pod uid: new uids start, missing uids stop (and are
 * reported gone once their processes have ended), known uids keep running untouched (pods are immutable).
 */
import path from 'node:path';
import type { DesiredMessage, PodReport } from '../../protocol/messages.js';
import { remove } from '../fsutil.js';
import type { Logger } from '../log.js';
import { PodRunner, podLogDir, type PodContext } from './pod.js';

/** Runs the node's pods. */
export class PodManager {
  private readonly runners = new Map<string, PodRunner>();
  private readonly stopping = new Map<string, Promise<void>>();
  private latest?: DesiredMessage;

  constructor(
    private readonly ctx: PodContext,
    private readonly onGone: (uid: string) => void,
    private readonly log: Logger,
  ) {}

  /** Converges on `desired` (level-triggered: the same message twice changes nothing). */
  apply(desired: DesiredMessage): void {
    this.latest = desired;
    const want = new Map(desired.pods.map((p) => [p.metadata.uid as string, p]));
    for (const uid of [...this.runners.keys()]) if (!want.has(uid)) this.remove(uid);
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
  }

  private remove(uid: string): void {
    const r = this.runners.get(uid) as PodRunner;
    this.runners.delete(uid);
    this.log.info(`stopping pod ${r.namespace}/${r.name} (${uid})`);
    const done = r
      .stop()
      .then(() => Promise.all([remove(path.join(this.ctx.podsDir, uid)), remove(podLogDir(this.ctx.logsDir, r.pod))]))
      .catch((err) => this.log.error(`stopping pod ${uid}: ${(err as Error).message}`))
      .then(() => {
        this.stopping.delete(uid);
        this.onGone(uid);
        // Desired again while it was stopping (a rare flap): start it afresh.
        if (this.latest?.pods.some((p) => p.metadata.uid === uid)) this.apply(this.latest);
      });
    this.stopping.set(uid, done);
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

  /** Stops every pod, or with `stopPods: false` leaves the processes running for the next agent run to reap. */
  async shutdown(stopPods: boolean): Promise<void> {
    if (stopPods) await Promise.all([...[...this.runners.values()].map((r) => r.stop()), ...this.stopping.values()]);
    else for (const r of this.runners.values()) r.detach();
    this.runners.clear();
  }
}

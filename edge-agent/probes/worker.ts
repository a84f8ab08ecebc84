/**
 * One probe of one container attempt, on one timer: wait initialDelaySeconds from the container's start, then
 * check every periodSeconds, each check cut off after timeoutSeconds. The verdict flips only after
 * successThreshold / failureThreshold consecutive results, as kubelet's prober worker does
 * (pkg/kubelet/prober/worker.go `doProbe`). No check overlaps the next: the next one is scheduled when the
 * previous one ends, `periodMs` after it started.
 */
import type { ProbeSettings } from './settings.js';
import type { ProbeCheck, ProbeOutcome } from './types.js';

/** Runs `check`, turning a timeout into a failed outcome and aborting the check. */
export async function checkWithTimeout(check: ProbeCheck, timeoutMs: number): Promise<ProbeOutcome> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<ProbeOutcome>((resolve) => {
    timer = setTimeout(() => {
      ac.abort();
      resolve({ ok: false, message: `probe timed out after ${timeoutMs / 1000}s` });
    }, timeoutMs);
  });
  try {
    return await Promise.race([check(ac.signal).catch((err: Error) => ({ ok: false, message: err.message })), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One probe's worker: `verdict` is the current result and `onVerdict` is called when it changes. Initial
 * verdicts follow kubelet: readiness false, liveness true, startup unknown (undefined).
 */
export class ProbeWorker {
  /** The current result; undefined while unknown. */
  verdict?: boolean;
  /** Why the last check failed. */
  lastMessage?: string;
  private timer?: NodeJS.Timeout;
  /** Bumped on every start/stop so a check still in flight from an earlier attempt is ignored. */
  private epoch = 0;
  private lastOk?: boolean;
  private run = 0;

  constructor(
    private readonly settings: ProbeSettings,
    private readonly check: ProbeCheck,
    private readonly initial: boolean | undefined,
    /** Liveness and startup: after a failing verdict the container is killed, so stop checking until the next attempt. */
    private readonly holdOnFailure: boolean,
    private readonly onVerdict: (ok: boolean, message?: string) => void,
    /** Every failed check (kubelet records each as an Unhealthy event), before thresholds apply. */
    private readonly onFailure?: (message?: string) => void,
  ) {
    this.verdict = initial;
  }

  /** Starts probing an attempt that started at `startedAtMs` (epoch ms); resets the verdict. */
  start(startedAtMs: number): void {
    this.stop();
    const epoch = this.epoch;
    this.timer = setTimeout(() => void this.tick(epoch), Math.max(0, startedAtMs + this.settings.initialDelayMs - Date.now()));
  }

  /** Stops probing (the attempt ended, or the pod stops) and forgets the verdict. */
  stop(): void {
    this.epoch++;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.verdict = this.initial;
    this.lastOk = undefined;
    this.run = 0;
  }

  private async tick(epoch: number): Promise<void> {
    const began = Date.now();
    const outcome = await checkWithTimeout(this.check, this.settings.timeoutMs);
    if (epoch !== this.epoch) return;
    const hold = this.record(outcome);
    // A failed liveness/startup verdict holds until the next attempt; onVerdict may also have stopped us.
    if (hold || epoch !== this.epoch) return;
    this.timer = setTimeout(() => void this.tick(epoch), Math.max(0, began + this.settings.periodMs - Date.now()));
  }

  /** Applies the thresholds; true when probing should pause (kubelet's `onHold` after a failing verdict). */
  private record(o: ProbeOutcome): boolean {
    if (o.ok === this.lastOk) this.run++;
    else {
      this.lastOk = o.ok;
      this.run = 1;
    }
    if (!o.ok) {
      this.lastMessage = o.message;
      this.onFailure?.(o.message);
    }
    const threshold = o.ok ? this.settings.successThreshold : this.settings.failureThreshold;
    if (this.run < threshold) return false;
    const flipped = this.verdict !== o.ok;
    this.verdict = o.ok;
    const hold = !o.ok && this.holdOnFailure;
    if (hold) this.run = 0;
    if (flipped) this.onVerdict(o.ok, o.message);
    return hold;
  }
}

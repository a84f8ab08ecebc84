/**
 * CrashLoopBackOff, as the kubelet does it but with an immediate first restart: restart 1 at once, then
 * initialMs (10 s) doubling up to maxMs (300 s); a container that ran resetAfterMs (10 min) before it
 * ended starts over at an immediate restart.
 */
export interface BackoffConfig {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

/** Per-container restart delays. */
export class CrashBackoff {
  private restarts = 0;
  constructor(private readonly cfg: BackoffConfig) {}

  /** The delay before the next restart of a container that ran `ranMs` before it ended. */
  next(ranMs: number): number {
    if (ranMs >= this.cfg.resetAfterMs) this.restarts = 0;
    // delay(n) = 0 for n = 0, else min(max, initial × 2^(n−1))
    const n = this.restarts++;
    return n === 0 ? 0 : Math.min(this.cfg.maxMs, this.cfg.initialMs * 2 ** (n - 1));
  }
}

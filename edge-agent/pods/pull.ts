/**
 * The pull step of prepare: each container's image made available on the node by its driver (a WASI module
 * fetched and checked, an OCI image pulled), and the back-off between failed tries — 10 s doubling to 5 min
 * by default (the crash-loop settings), as the kubelet's ImagePullBackOff.
 */
import { PullError, type Driver, type PullContext } from '../drivers/types.js';
import type { BackoffConfig } from './backoff.js';
import type { Launch } from './plan.js';

/** Pulls every launch's image (setting its imageRef); the first failure as a waiting reason and message, or undefined. */
export async function pullImages(driver: Driver, launches: Launch[], ctx: PullContext): Promise<{ reason: string; message: string } | undefined> {
  if (!driver.pull) return undefined;
  for (const l of launches) {
    if (!l.container.image) continue;
    try {
      l.imageRef = await driver.pull(l.container.image, ctx);
    } catch (err) {
      return { reason: err instanceof PullError ? err.reason : 'ErrImagePull', message: `container ${l.name}: ${(err as Error).message}` };
    }
  }
  return undefined;
}

/** The retry timer of a pod whose pull failed. */
export class PullRetry {
  private timer?: NodeJS.Timeout;
  private delayMs = 0;

  constructor(private readonly backoff: Pick<BackoffConfig, 'initialMs' | 'maxMs'>) {}

  /** A retry is pending: a new desired set does not try again before it. */
  get waiting(): boolean {
    return this.timer !== undefined;
  }

  /** A pull failed before: the next failure shows as ImagePullBackOff. */
  get retried(): boolean {
    return this.delayMs > 0;
  }

  /** Calls `retry` after the next back-off. */
  schedule(retry: () => void): void {
    clearTimeout(this.timer);
    this.delayMs = this.delayMs ? Math.min(this.delayMs * 2, this.backoff.maxMs) : this.backoff.initialMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      retry();
    }, this.delayMs);
    this.timer.unref();
  }

  /** A pull succeeded, or the pod stops: no retry, the next failure starts from the first delay. */
  reset(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.delayMs = 0;
  }
}

/**
 * The pull step of prepare: each container's image made available on the node by its driver (a WASI module
 * fetched and checked, an OCI image pulled), and the back-off between failed tries — 10 s doubling to 5 min
 * by default (the crash-loop settings), as the kubelet's ImagePullBackOff.
 */
import { PullError, type Driver, type PullContext } from '../drivers/types.js';
import type { BackoffConfig } from './backoff.js';
import type { Launch } from './plan.js';

/** A failed pull: the waiting reason and message, and which container and image it was. */
export interface PullFailure {
  reason: string;
  message: string;
  container: string;
  image: string;
}

/**
 * Pulls every launch's image (setting its imageRef), each by its container's imagePullPolicy; the first failure,
 * or undefined. `event` gets the driver's pull events (Pulling, Pulled, ...) with the container they are about,
 * `progress` makes each image's progress callback.
 */
export async function pullImages(
  driver: Driver,
  launches: Launch[],
  ctx: PullContext,
  event?: (type: 'Normal' | 'Warning', reason: string, message: string, container: string) => void,
  progress?: (image: string) => (text: string) => void,
): Promise<PullFailure | undefined> {
  if (!driver.pull) return undefined;
  for (const l of launches) {
    if (!l.container.image) continue;
    const policy = l.container.imagePullPolicy;
    try {
      l.imageRef = await driver.pull(l.container.image, { ...ctx, ...(policy ? { pullPolicy: policy } : {}), ...(event ? { event: (t, r, m) => event(t, r, m, l.name) } : {}), ...(progress ? { progress: progress(l.container.image) } : {}) });
    } catch (err) {
      return { reason: err instanceof PullError ? err.reason : 'ErrImagePull', message: `container ${l.name}: ${(err as Error).message}`, container: l.name, image: l.container.image };
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

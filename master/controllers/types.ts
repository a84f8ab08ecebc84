/** What every controller gets: typed writes, the shared cache, the event recorder, the logger and the clock. */
import type { Logger } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { EventRecorder } from '../events.js';
import type { Informers } from '../informer.js';
import type { Objects } from '../objects.js';
import type { Telemetry } from '../telemetry/registry.js';

/** Dependencies of a controller. */
export interface ControllerContext {
  objects: Objects;
  informers: Informers;
  events: EventRecorder;
  /** The master's logger (one, made at start-up). */
  log: Logger;
  /** The master's Prometheus metrics; absent in tests that build a context of their own. */
  telemetry?: Telemetry;
  /** What time-based rules read and wait on; absent: the real clock (tests pass a fake one). */
  clock?: Clock;
}

/** A running controller. */
export interface Controller {
  readonly name: string;
  /** Resolves when the controller has no queued or running work (tests, shutdown). */
  idle(): Promise<void>;
  stop(): void;
}

/**
 * A level-triggered controller: its handlers queue keys and `sync(key)` brings one key's objects to
 * their desired state. `sync` is exposed, as Kubernetes keeps `syncHandler` as a field, so tests call
 * it directly; it is idempotent (a second call with nothing changed writes nothing).
 */
export interface SyncController extends Controller {
  sync(key: string): Promise<void>;
}

/** What every controller gets: typed writes, the shared cache, the event recorder and the logger. */
import type { Logger } from '../../protocol/index.js';
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
}

/** A running controller. */
export interface Controller {
  readonly name: string;
  /** Resolves when the controller has no queued or running work (tests, shutdown). */
  idle(): Promise<void>;
  stop(): void;
}

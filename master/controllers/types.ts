/** What every controller gets: typed writes, the shared cache, and the event recorder. */
import type { EventRecorder } from '../events.js';
import type { Informers } from '../informer.js';
import type { Objects } from '../objects.js';

/** Dependencies of a controller. */
export interface ControllerContext {
  objects: Objects;
  informers: Informers;
  events: EventRecorder;
}

/** A running controller. */
export interface Controller {
  readonly name: string;
  /** Resolves when the controller has no queued or running work (tests, shutdown). */
  idle(): Promise<void>;
  stop(): void;
}

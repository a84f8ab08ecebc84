/**
 * What start-up has acquired, released in reverse: each start-up step registers how to undo itself
 * as soon as it has succeeded, so a step that fails releases exactly what came before it (listeners,
 * timers, the store), and a stop undoes everything in the reverse order of start.
 */
import type { Logger } from '../protocol/index.js';

/** A stack of undo functions, run once. */
export class Teardown {
  private readonly undo: { name: string; fn: () => unknown }[] = [];
  private running?: Promise<void>;

  constructor(private readonly log: Logger) {}

  /** Registers how to release what the step `name` acquired. */
  add(name: string, fn: () => unknown): void {
    // A step that finishes after a stop began (it cannot: start-up is sequential) would leak; release it at once.
    if (this.running) void this.release({ name, fn });
    else this.undo.push({ name, fn });
  }

  /** Releases everything, last acquired first. Idempotent: every call gets the same promise. */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.undo.reverse()) await this.release(step);
    })();
    return this.running;
  }

  /** One failing release is logged; the rest still run (a stuck listener must not keep the store open). */
  private async release(step: { name: string; fn: () => unknown }): Promise<void> {
    try {
      await step.fn();
      this.log.debug(`stopped ${step.name}`);
    } catch (err) {
      this.log.error(`stopping ${step.name} failed`, { err });
    }
  }
}

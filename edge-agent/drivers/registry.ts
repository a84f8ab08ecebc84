/**
 * The drivers this agent has, by runtime class name. Each entry makes its driver when the agent starts, or
 * says why this node cannot have it (a container engine that does not answer); the node advertises the
 * runtimes it has, and a pod asking for another stays Pending with the reason.
 */
import type { Pod } from '../../protocol/types.js';
import type { Logger } from '../log.js';
import { processDriver } from './process.js';
import type { Driver } from './types.js';
import { wasiDriver } from './wasi/driver.js';

/** What a driver is made with. */
export interface DriverContext {
  /** The agent's data dir (module caches and the like live under it). */
  dataDir: string;
  log: Logger;
  /** The node command WASI runners run under (default: the agent's own node). */
  wasiNode?: string[];
}

/** A driver, or why this node has none of that kind. */
export type Made = Driver | { unavailable: string };

/** How each runtime's driver is made; the container driver registers here with one line. */
export const driverFactories = {
  process: (): Made => processDriver,
  wasi: (ctx: DriverContext): Made => wasiDriver({ dataDir: ctx.dataDir, node: ctx.wasiNode }),
} satisfies Record<string, (ctx: DriverContext) => Made | Promise<Made>>;

/** A runtime this agent knows. */
export type DriverName = keyof typeof driverFactories;

/** The drivers made for one agent. */
export class DriverSet {
  private readonly made = new Map<string, Driver>();
  /** Runtimes this node does not have, and why. */
  readonly unavailable = new Map<string, string>();

  /** Makes every driver (a factory that throws counts as unavailable, with its message). */
  async load(ctx: DriverContext): Promise<this> {
    for (const [name, make] of Object.entries(driverFactories) as [DriverName, (c: DriverContext) => Made | Promise<Made>][]) {
      let d: Made;
      try {
        d = await make(ctx);
      } catch (err) {
        d = { unavailable: (err as Error).message };
      }
      if ('unavailable' in d) {
        this.unavailable.set(name, d.unavailable);
        ctx.log.info(`runtime ${name} is not available on this node: ${d.unavailable}`);
      } else this.made.set(name, d);
    }
    return this;
  }

  /** The runtime names this node advertises. */
  get names(): string[] {
    return [...this.made.keys()];
  }

  /** The driver for a runtime class, or undefined when this node does not have it. */
  get(runtimeClass: string): Driver | undefined {
    return this.made.get(runtimeClass);
  }

  /** Every driver made (reaping asks each for its own records). */
  all(): Driver[] {
    return [...this.made.values()];
  }
}

/** The runtime class a pod asks for (DESIGN.md): runtimeClassName, else container when an image is set, else process. */
export function runtimeClassOf(pod: Pod): string {
  return pod.spec.runtimeClassName ?? (pod.spec.containers.some((c) => c.image) ? 'container' : 'process');
}

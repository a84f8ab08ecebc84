/**
 * The drivers an agent has, by runtime class name. `process` is always there; `container` joins when a container
 * engine answered at start (drivers/container/endpoint.ts), so a node advertises only runtimes it can run.
 */
import type { Pod } from '../../protocol/types.js';
import { processDriver } from './process.js';
import type { Driver } from './types.js';

/** The drivers every agent has, by the runtime class name a pod asks for. */
export const drivers = { process: processDriver } satisfies Record<string, Driver>;

/** A runtime every agent has. */
export type DriverName = keyof typeof drivers;

/** The runtime names every agent advertises. */
export const runtimeNames = Object.keys(drivers) as DriverName[];

/** The runtime class a pod asks for (DESIGN.md): runtimeClassName, else container when an image is set, else process. */
export function runtimeClassOf(pod: Pod): string {
  return pod.spec.runtimeClassName ?? (pod.spec.containers.some((c) => c.image) ? 'container' : 'process');
}

/** The static driver for a runtime class, or undefined when it is not one every agent has. */
export function driverFor(runtimeClass: string): Driver | undefined {
  return Object.prototype.hasOwnProperty.call(drivers, runtimeClass) ? drivers[runtimeClass as DriverName] : undefined;
}

/** The drivers of one agent: the static ones plus those that depend on the board (the container engine). */
export class DriverSet {
  private readonly all: ReadonlyMap<string, Driver>;

  constructor(extra: Record<string, Driver> = {}) {
    this.all = new Map<string, Driver>([...Object.entries(drivers), ...Object.entries(extra)]);
  }

  /** The driver for a runtime class, or undefined when this agent does not have it. */
  get(runtimeClass: string): Driver | undefined {
    return this.all.get(runtimeClass);
  }

  /** The runtime names this agent advertises (node status `runtimes`). */
  get names(): string[] {
    return [...this.all.keys()];
  }

  /** Every driver (reaping leftovers asks each). */
  list(): Driver[] {
    return [...this.all.values()];
  }
}

/** The drivers this agent has, by runtime class name; container and wasi join this map when they land. */
import type { Pod } from '../../protocol/types.js';
import { processDriver } from './process.js';
import type { Driver } from './types.js';

/** Every driver, by the runtime class name a pod asks for. */
export const drivers = { process: processDriver } satisfies Record<string, Driver>;

/** A runtime this agent can run. */
export type DriverName = keyof typeof drivers;

/** The runtime names advertised in the node status. */
export const runtimeNames = Object.keys(drivers) as DriverName[];

/** The runtime class a pod asks for (DESIGN.md): runtimeClassName, else container when an image is set, else process. */
export function runtimeClassOf(pod: Pod): string {
  return pod.spec.runtimeClassName ?? (pod.spec.containers.some((c) => c.image) ? 'container' : 'process');
}

/** The driver for a runtime class, or undefined when this agent does not have it. */
export function driverFor(runtimeClass: string): Driver | undefined {
  return Object.prototype.hasOwnProperty.call(drivers, runtimeClass) ? drivers[runtimeClass as DriverName] : undefined;
}

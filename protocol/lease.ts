/**
 * The lease interval the master assigns (docs/protocol.md "Lease interval"): what master and agent agree on about
 * it. The master publishes `{intervalMs}` retained on `cluster/lease` (topics.leaseConfig), chosen so the whole
 * fleet's leases stay under a budget (master/nodes/lease-interval.ts); an agent leases every max(its own
 * --lease-interval, intervalMs) and says which interval it follows in each lease (`LeaseMessage.intervalMs`), and
 * the master scales that node's grace with it. Old agents never subscribe and never say: they lease every 2 s and
 * keep the master's --node-monitor-grace. Both sides check the value against the same bounds.
 */
import { decode } from './codec.js';

/** `cluster/lease`, master → agents, QoS 1, retained: the lease interval every agent should follow. */
export interface LeaseConfig {
  /** ms between two leases of a quiet node; an agent never leases less often than this without a reason of its own. */
  intervalMs: number;
}

/** The shortest interval either side accepts, ms: below it a lease would be a flood, not a heartbeat. */
export const leaseIntervalMinMs = 100;
/** The longest, ms (5 minutes): beyond it a node would take half an hour to be found dead. */
export const leaseIntervalMaxMs = 300_000;

/** Why `value` is not a lease interval (`field`: the name to put in the message), or undefined when it is one. */
export function leaseIntervalRefusal(value: unknown, field: string): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= leaseIntervalMinMs && value <= leaseIntervalMaxMs) return undefined;
  const shown = typeof value === 'string' ? `"${value.slice(0, 40)}"` : typeof value === 'number' ? String(value) : typeof value;
  return `${field}: must be a whole number of ms from ${leaseIntervalMinMs} to ${leaseIntervalMaxMs}, got ${shown}`;
}

/** The interval of a `cluster/lease` message (decoded), or why it is refused, naming the field. */
export function checkLeaseConfig(m: unknown): { intervalMs: number } | { error: string } {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return { error: `cluster/lease: must be a map with intervalMs, got ${Array.isArray(m) ? 'an array' : typeof m}` };
  const v = (m as Record<string, unknown>).intervalMs;
  const why = leaseIntervalRefusal(v, 'cluster/lease: intervalMs');
  return why ? { error: why } : { intervalMs: v as number };
}

/** A `cluster/lease` payload (msgpack or JSON) read and checked: its interval, or why it is refused. */
export function parseLeaseConfig(payload: Uint8Array): { intervalMs: number } | { error: string } {
  let m: unknown;
  try {
    m = decode(payload).value;
  } catch (err) {
    return { error: `cluster/lease: not msgpack or JSON (${(err as Error).message.slice(0, 80)})` };
  }
  return checkLeaseConfig(m);
}

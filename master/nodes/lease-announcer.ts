/**
 * Tells every agent its lease interval: one retained `{intervalMs}` on `cluster/lease` (topics.leaseConfig), chosen
 * by the budget rule (lease-interval.ts) from the number of Node objects, and published again when a join or a
 * deletion moves it (at most once per `settleMs`, so a fleet joining in one burst is told a handful of times, not once
 * per node). One message for the fleet: an agent reads it on every connect (retained), and an old agent, which never
 * subscribes, costs nothing.
 */
import { encode, topics } from '../../protocol/index.js';
import { realClock, type Timer } from '../clock.js';
import type { ControllerContext } from '../controllers/types.js';
import { leaseIntervalFor, type LeaseBudget } from './lease-interval.js';

/** Publishes a retained message (the master's publish). */
type PublishRetained = (topic: string, payload: Buffer, retain: boolean) => Promise<void>;

/** How long the node count must settle before a changed interval is announced, ms. */
export const settleMs = 1_000;

/** Keeps the assigned lease interval and announces it. */
export class LeaseAnnouncer {
  private nodes = 0;
  private announced?: number;
  private current: number;
  /** The interval before the last change, and when it changed (graceIntervalMs). */
  private previous = 0;
  private changedAt = 0;
  private timer?: Timer;
  private readonly onNode = (obj: unknown, old: unknown) => {
    if (!obj === !old) return; // a change, not a join or a deletion
    this.nodes += obj ? 1 : -1;
    this.schedule();
  };

  constructor(
    private readonly ctx: Pick<ControllerContext, 'informers' | 'log' | 'clock'>,
    private readonly budget: LeaseBudget,
    private readonly publish: PublishRetained,
  ) {
    this.current = budget.minMs;
  }

  /** Counts the nodes, announces the interval, and follows joins and deletions. */
  start(): void {
    this.ctx.informers.on('Node', this.onNode);
    this.announce();
  }

  stop(): void {
    this.ctx.informers.off('Node', this.onNode);
    this.timer?.cancel();
  }

  /** The interval assigned now, ms (the one announced last; the minimum before the first). */
  assignedMs(): number {
    return this.current;
  }

  /**
   * The interval nodes' grace is scaled by (status.ts): the one assigned now, or for twice the longer one after the
   * assignment shrank, the longer one — an agent leases on its old interval until the announcement reaches it.
   */
  graceIntervalMs(): number {
    const now = (this.ctx.clock ?? realClock).now();
    return this.previous > this.current && now - this.changedAt < 2 * this.previous ? this.previous : this.current;
  }

  private schedule(): void {
    if (this.timer || leaseIntervalFor(this.nodes, this.budget) === this.announced) return;
    this.timer = (this.ctx.clock ?? realClock).after(settleMs, () => {
      this.timer = undefined;
      this.announce();
    });
  }

  private announce(): void {
    if (this.budget.perSecond <= 0) return; // no budget: agents keep their own interval, nothing is announced
    this.nodes = this.ctx.informers.list('Node').length; // counted again: the running count is only the trigger
    const intervalMs = leaseIntervalFor(this.nodes, this.budget);
    if (intervalMs === this.announced) return;
    const first = this.announced === undefined;
    this.announced = intervalMs;
    this.previous = this.current;
    this.changedAt = (this.ctx.clock ?? realClock).now();
    // Grace follows at once (lease-interval.ts nodeGraceMs takes the assigned interval as a floor): an agent may
    // adopt a longer interval before its next lease says so.
    this.current = intervalMs;
    // A change is what an operator wants to see; the first, at start, is the fleet's as it was (not logged).
    if (!first) this.ctx.log.info('lease interval assigned', { intervalMs, nodes: this.nodes, budgetPerSecond: this.budget.perSecond });
    this.publish(topics.leaseConfig, encode({ intervalMs }), true).catch((err) => this.ctx.log.warn('could not announce the lease interval', { err }));
  }
}

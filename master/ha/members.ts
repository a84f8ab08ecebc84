/**
 * The live masters of one etcd store, and which of them owns an API client session (docs/ha.md "Every master
 * serves the API"). The members are the election's candidates: every master campaigns (election.ts), so each
 * live master has a key under `ROOT.election/election/skiff-controller/` on its own etcd lease, whose value is its
 * name; a killed master's key goes with its lease. Every master watches that prefix, so all of them see the same
 * set, and rendezvous (highest-random-weight) hashing over it gives each session one owner that every master
 * computes alike, and moves only the sessions of a master that left (or a share of everyone's to one that came).
 */
import { createHash } from 'node:crypto';
import type { Namespace, Watcher } from 'etcd3';
import type { Logger } from '../../protocol/index.js';
import type { EtcdStore } from '../store/etcd.js';
import { electionPrefix } from './election.js';

/** The member that owns `key` among `members` (rendezvous hashing); undefined when there is none. */
export function rendezvousOwner(key: string, members: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const m of members) {
    const w = createHash('sha256').update(m).update('\u0000').update(key).digest().readBigUInt64BE(0);
    // Ties (never in practice) go to the smaller name, so every master picks the same one.
    if (w > bestWeight || (w === bestWeight && best !== undefined && m < best)) (best = m), (bestWeight = w);
  }
  return best;
}

/** Who owns what: the set of live masters now. */
export interface Ownership {
  /** True when this master owns session `key`. */
  mine(key: string): boolean;
  /** The owner of `key` now. */
  owner(key: string): string | undefined;
}

/** Everything is this master's (one master: SQLite, or before any membership is known). */
export const soleOwner: Ownership = { mine: () => true, owner: () => undefined };

/** The live masters of an etcd store, followed by a watch on the election's candidates. */
export class Members implements Ownership {
  private members = new Set<string>();
  private watcher?: Watcher;
  private closed = false;
  private refreshing?: Promise<void>;
  private again = false;

  private constructor(
    private readonly self: string,
    private readonly ns: Namespace,
    private readonly log: Logger,
    private readonly onChange: (before: ReadonlySet<string>, after: ReadonlySet<string>) => void,
  ) {}

  /**
   * Follows the candidates of `store`'s election. `onChange` gets every change of the set (after it is applied).
   * This master counts once its own candidate key shows (as the others count it): until then it answers nothing,
   * rather than answering what another master also answers.
   */
  static async follow(store: EtcdStore, self: string, log: Logger, onChange: Members['onChange']): Promise<Members> {
    const m = new Members(self, store.etcd.namespace(electionPrefix(store)), log, onChange);
    m.watcher = await m.ns.watch().prefix('').create();
    // Any change, or a watch that reconnected (it may have missed some): read the whole set again.
    m.watcher.on('put', () => m.refresh());
    m.watcher.on('delete', () => m.refresh());
    m.watcher.on('connected', () => m.refresh());
    m.watcher.on('error', (err) => log.warn('masters: the membership watch failed; it reconnects', { err }));
    await m.refresh();
    return m;
  }

  /** The live masters now, sorted. */
  list(): string[] {
    return [...this.members].sort();
  }

  mine(key: string): boolean {
    return this.owner(key) === this.self;
  }

  owner(key: string): string | undefined {
    return rendezvousOwner(key, this.members);
  }

  /** Stops following. */
  async close(): Promise<void> {
    this.closed = true;
    await this.watcher?.cancel().catch(() => undefined);
  }

  /** Reads the candidates again (one read at a time; a change during one reads once more after it). */
  private refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        const names = await this.ns.getAll().strings().catch((err) => (this.log.warn('masters: cannot read the membership', { err }), undefined));
        if (names && !this.closed) this.apply(new Set(Object.values(names)));
      } while (this.again && !this.closed);
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private apply(next: Set<string>): void {
    const before = this.members;
    if (before.size === next.size && [...next].every((n) => before.has(n))) return;
    this.members = next;
    this.log.info('masters serving the API', { masters: this.list().join(',') });
    this.onChange(before, next);
  }
}

/**
 * The cached bytes of a listed kind's changed objects, made before the next list asks (issue 16: `list pods` p99 <
 * 150 ms at 10,000 pods). A records list during a rollout found ~1,000–2,000 pods changed since the last list, and
 * made their bytes (encoding.ts `prepareAnswer`) in turns of 5–8 ms with a whole loop iteration after each: ~70 ms of
 * its ~110. Here, while a list of a kind's objects in a format was asked in the last `activeMs`, every change of
 * that kind is noted by key, and the current version's bytes are made once it has stood `settleMs` unchanged (a
 * rollout's pod has ~3 versions within its first half second: the ones replaced quickly are not encoded), in short
 * budgeted turns (master/loop-budget.ts), so a list finds only the last moments' changes left to make.
 *
 * Bounded: keys only are noted (at most one per object of the kind), and bytes are made for the version in the cache
 * when its turn comes, kept where a list's are (encoding.ts: a WeakMap keyed by the version) — a version the cache let
 * go is neither held here nor its bytes kept. Nothing is noted while nobody lists.
 */
import type { KObject } from '../../protocol/index.js';
import { loopBudget, type LoopBudget } from '../loop-budget.js';

/** What the warmer makes bytes in (encoding.ts's formats). */
export type WarmFormat = 'msgpack' | 'json' | 'records';

/** How long a version stands unchanged before its bytes are made, ms. */
export const settleMs = 150;
/** How long after a list its kind's changes are still warmed, ms. */
export const activeMs = 10_000;
/** A warm turn's cap and floor, ms (master/loop-budget.ts). */
export const warmTurnMs = 1;
/** The most scopes (format and namespace) warmed at once: past it the one listed longest ago is dropped. */
export const maxScopes = 16;

/** The scheduling the warmer uses (tests drive `turn` themselves). */
export interface WarmClock {
  now(): number;
  /** Runs `fn` after `ms` (0: in the next check phase). */
  later(fn: () => void, ms: number): void;
}

const realClock: WarmClock = {
  now: () => performance.now(),
  later: (fn, ms) => void (ms > 0 ? setTimeout(fn, ms).unref() : setImmediate(fn)),
};

/** One listed scope: a format, and a namespace (undefined: every namespace). */
interface Scope {
  format: WarmFormat;
  namespace: string | undefined;
  /** The namespace's key prefix (`ns/`), or '' for every namespace. */
  prefix: string;
  listedAt: number;
}

/** One kind's warmer: fed its changes by key (list-index.ts), reads the current version by key. */
export class ListWarmer {
  /** Keys changed and not warmed yet, with when they last changed, oldest change first (a change moves a key last). */
  private readonly pending = new Map<string, number>();
  private scopes: Scope[] = [];
  private scheduled = false;
  /** Objects whose bytes were made here (tests, the timing trace). */
  warmed = 0;

  constructor(
    /** The cache's current version of a key (undefined: deleted). */
    private readonly current: (key: string) => KObject | undefined,
    /** Makes (and keeps) a version's bytes in a format, unless they are made. */
    private readonly make: (o: KObject, format: WarmFormat) => boolean,
    private readonly clock: WarmClock = realClock,
    private readonly budget: LoopBudget = loopBudget,
  ) {}

  /** A list of this kind in `format` of `namespace` (undefined: all) was answered: its changes are warmed for a while. */
  listed(format: WarmFormat, namespace: string | undefined): void {
    const now = this.clock.now();
    const s = this.scopes.find((x) => x.format === format && x.namespace === namespace);
    if (s) return void (s.listedAt = now);
    // Bounded: a client listing namespace after namespace cannot make each change cost a check per namespace.
    if (this.scopes.length >= maxScopes) this.scopes.splice(this.scopes.indexOf(this.scopes.reduce((a, b) => (b.listedAt < a.listedAt ? b : a))), 1);
    this.scopes.push({ format, namespace, prefix: namespace === undefined ? '' : `${namespace}/`, listedAt: now });
  }

  /** Whether any list asked recently (changes are noted). */
  get active(): boolean {
    return this.scopes.length > 0;
  }

  /** The object under `key` changed (or was deleted). */
  changed(key: string): void {
    if (this.scopes.length === 0) return;
    this.pending.delete(key);
    this.pending.set(key, this.clock.now());
    if (!this.scheduled) {
      this.scheduled = true;
      this.clock.later(() => this.run(), settleMs);
    }
  }

  /** How many keys wait for their bytes (tests: bounded by the kind's objects). */
  get waiting(): number {
    return this.pending.size;
  }

  private run(): void {
    this.scheduled = false;
    const next = this.turn(this.budget.turn('api-warm', warmTurnMs, warmTurnMs));
    if (next === undefined) return;
    this.scheduled = true;
    this.clock.later(() => this.run(), next);
  }

  /**
   * Makes the bytes of the keys settled by now, for at most `ms`; returns when to come back (ms; 0: at once, more is
   * ready) or undefined when nothing is left. Scopes not listed for `activeMs` are dropped, and with the last, every
   * noted key.
   */
  turn(ms: number): number | undefined {
    const now = this.clock.now();
    this.scopes = this.scopes.filter((s) => now - s.listedAt < activeMs);
    if (this.scopes.length === 0) {
      this.pending.clear();
      return undefined;
    }
    const until = performance.now() + ms;
    for (const [key, at] of this.pending) {
      if (now - at < settleMs) return settleMs - (now - at);
      this.pending.delete(key);
      const o = this.current(key);
      if (o) for (const s of this.scopes) if (key.startsWith(s.prefix) && this.make(o, s.format)) this.warmed++;
      if (performance.now() >= until || this.budget.interrupted()) return this.pending.size > 0 ? 0 : undefined;
    }
    return undefined;
  }
}

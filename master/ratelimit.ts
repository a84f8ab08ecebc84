/**
 * Token buckets: `burst` tokens, refilled at `perMinute` a minute; taking one when none is left says how long
 * to wait. `KeyedBuckets` keeps one bucket per key (a source address) in a bounded map: when it is full the
 * least recently used key is dropped — a dropped key starts again with a full bucket, so the bound on keys
 * is what caps memory, and the overall bucket beside it is what caps the rate whatever the keys.
 */

/** A rate: bursts of `burst`, `perMinute` sustained. */
export interface Rate {
  burst: number;
  perMinute: number;
}

/** One token bucket. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly rate: Rate,
    now = Date.now(),
  ) {
    this.tokens = rate.burst;
    this.at = now;
  }

  /** Takes a token: 0 when there was one, else the ms until there will be (nothing taken). */
  take(now = Date.now()): number {
    const perMs = this.rate.perMinute / 60_000;
    this.tokens = Math.min(this.rate.burst, this.tokens + (now - this.at) * perMs);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return perMs > 0 ? Math.ceil((1 - this.tokens) / perMs) : Infinity;
  }
}

/** A bucket per key, at most `maxKeys` of them (least recently used dropped first). */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly rate: Rate,
    private readonly maxKeys = 4096,
  ) {}

  /** Takes a token from `key`'s bucket; as TokenBucket.take. */
  take(key: string, now = Date.now()): number {
    let b = this.buckets.get(key);
    if (b) this.buckets.delete(key); // re-inserted below: Map order is recency
    else {
      b = new TokenBucket(this.rate, now);
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    this.buckets.set(key, b);
    return b.take(now);
  }

  /** Keys tracked now. */
  get size(): number {
    return this.buckets.size;
  }
}

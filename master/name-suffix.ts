/**
 * generateName suffixes: five characters of Kubernetes' alphabet (no vowels, no 0/1/3, so no words and no
 * look-alikes), drawn from a pool of random bytes filled 4 KiB at a time — one crypto call per ~800 names
 * instead of one per name (randomFillSync was ~20 µs of a pod create's master time).
 */
import { randomFillSync } from 'node:crypto';

const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
/** The largest multiple of the alphabet's size below 256: bytes at or above it are skipped, so every character is equally likely. */
const unbiased = 256 - (256 % alphabet.length);

const pool = Buffer.alloc(4096);
let next = pool.length;

/** One random byte below `unbiased`. */
function draw(): number {
  for (;;) {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    const b = pool[next++]!;
    if (b < unbiased) return b;
  }
}

/** A random lowercase suffix as Kubernetes' generateName uses (5 characters). */
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[draw() % alphabet.length];
  return s;
}

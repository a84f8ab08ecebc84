// Maglev consistent hashing (Eisenbud et al., NSDI 2016, §3.4): every endpoint walks its own
// permutation of the M table slots (offset, offset + skip, ... mod M) and, in turns, claims the
// next free slot; a weight w gives w turns per round. A key's endpoint is table[hash mod M].
import { ld, st } from './memory.js';
import { L_COUNT, L_NEXT, L_OFFSETS, L_SIZE, L_SKIPS, L_TABLE, L_WEIGHTS } from './layout.js';

/** Fills the lookup table; returns the number of slots filled (M, or 0 with no weighted endpoint). Called once per endpoint change. */
export function maglevBuild(lb: number): number {
  const n = ld(lb + L_COUNT * 4);
  const m = ld(lb + L_SIZE * 4);
  const table = ld(lb + L_TABLE * 4);
  const weights = ld(lb + L_WEIGHTS * 4);
  const next = ld(lb + L_NEXT * 4);
  const skips = ld(lb + L_SKIPS * 4);
  for (let c = 0; c < m; c++) st(table + c * 4, -1);
  let weighted = 0;
  for (let i = 0; i < n; i++) {
    st(next + i * 4, ld(ld(lb + L_OFFSETS * 4) + i * 4));
    if (ld(weights + i * 4) > 0) weighted++;
  }
  if (weighted === 0) return 0;
  let filled = 0;
  while (filled < m) {
    for (let i = 0; i < n; i++) {
      const turns = ld(weights + i * 4);
      for (let k = 0; k < turns; k++) {
        // Walk i's permutation to its next free slot; position advances by skip mod M.
        let c = ld(next + i * 4);
        const skip = ld(skips + i * 4);
        while (ld(table + c * 4) >= 0) {
          c += skip;
          if (c >= m) c -= m;
        }
        st(table + c * 4, i);
        c += skip;
        if (c >= m) c -= m;
        st(next + i * 4, c);
        filled++;
        if (filled === m) return m;
      }
    }
  }
  return filled;
}

/** The endpoint for a key hash (u32), or -1 with no endpoints. Called once per new connection. */
export function maglevPick(lb: number, hash: number): number {
  const m = ld(lb + L_SIZE * 4);
  if (ld(lb + L_COUNT * 4) === 0) return -1;
  return ld(ld(lb + L_TABLE * 4) + ((hash >>> 0) % m) * 4);
}

/** maglevPick for `count` u32 hashes at `hashes`, endpoints written to `out`. Called once per batch. */
export function maglevPickBatch(lb: number, hashes: number, count: number, out: number): void {
  for (let k = 0; k < count; k++) st(out + k * 4, maglevPick(lb, ld(hashes + k * 4)));
}

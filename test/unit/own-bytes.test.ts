/**
 * Retained payloads own their memory (protocol/codec.ts ownBytes): a view into a larger buffer — what
 * msgpackr's `pack` returns — is copied before the broker keeps it, so a small retained desired set does not pin
 * the encoder's whole shared buffer; a buffer that is already its own allocation is kept as it is.
 */
import { describe, expect, it } from 'vitest';
import { encode, ownBytes, RecordsEncoder } from '../../protocol/index.js';

describe('ownBytes', () => {
  const big = Buffer.alloc(1 << 20, 7);
  it.each<[string, Buffer, boolean]>([
    ['a view at the start of a larger buffer is copied', big.subarray(0, 100), true],
    ['a view in the middle of a larger buffer is copied', big.subarray(5000, 5100), true],
    ['a buffer that is its whole allocation is kept', Buffer.allocUnsafeSlow(100).fill(1), false],
    ['an empty retained message (a cleared topic) is kept', Buffer.alloc(0), false],
  ])('%s', (_what, b, copied) => {
    const out = ownBytes(b);
    expect(out.equals(b)).toBe(true);
    expect(out !== b).toBe(copied);
    expect(out.buffer.byteLength).toBe(out.byteLength);
  });

  it('an encoded message no longer holds on to the encoder\'s buffer', () => {
    encode({ filler: 'x'.repeat(200_000) }); // grows the shared encoder buffer
    const small = encode({ generation: 1, pods: [] });
    expect(small.buffer.byteLength).toBeGreaterThan(small.byteLength * 100);
    const kept = ownBytes(small);
    expect(kept.buffer.byteLength).toBe(small.byteLength);
    expect(kept.equals(small)).toBe(true);
  });

  it('a small copy kept for long is not a slice of Node\'s 8 KiB pool (one kept slice pins the whole block)', () => {
    const pooled = Buffer.from(encode({ generation: 1 }));
    expect(pooled.buffer.byteLength).toBe(Buffer.poolSize); // what Buffer.from gives a small copy
    const kept = ownBytes(pooled);
    expect(kept.buffer.byteLength).toBe(kept.byteLength);
    // The records encoder's bytes (kept per object by the API's list memo) are their own memory too.
    const rec = new RecordsEncoder().encode({ metadata: { name: 'p', namespace: 'default' }, spec: {} });
    expect(rec.buffer.byteLength).toBe(rec.byteLength);
  });
});

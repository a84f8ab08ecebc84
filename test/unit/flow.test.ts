/** The credit window and the ack batcher of the two-way streams (protocol/flow.ts). */
import { describe, expect, it, vi } from 'vitest';
import { Acker, Credit, chunkBytes, chunks } from '../../protocol/index.js';

describe('Credit', () => {
  it.each([
    // [sent and acked, in order (+n sent, -n acked)], pauses, resumes, pending
    [[+100], 0, 0, 100],
    [[+1000], 1, 0, 1000],
    [[+600, +400], 1, 0, 1000],
    [[+1000, -1], 1, 1, 999],
    [[+1000, -500, +500], 2, 1, 1000],
    [[+100, -500], 0, 0, 0],
    [[+999, +1, +1, -2], 1, 1, 999],
  ])('%j → %i pauses, %i resumes, %i in flight', (steps, pauses, resumes, pending) => {
    const pause = vi.fn();
    const resume = vi.fn();
    const c = new Credit(pause, resume, 1000);
    for (const s of steps) if (s > 0) c.spend(s);
    else c.refund(-s);
    expect([pause.mock.calls.length, resume.mock.calls.length, c.pending]).toEqual([pauses, resumes, pending]);
  });
});

describe('Acker', () => {
  it('sends a chunk\'s worth at once, smaller amounts together after its delay, nothing after close', async () => {
    const sent: number[] = [];
    const a = new Acker((n) => sent.push(n), 5);
    a.add(chunkBytes);
    expect(sent).toEqual([chunkBytes]);
    a.add(10);
    a.add(20);
    expect(sent).toEqual([chunkBytes]);
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([chunkBytes, 30]);
    a.add(5);
    a.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([chunkBytes, 30]);
  });
});

describe('chunks', () => {
  it('splits at the chunk size without copying', () => {
    const b = new Uint8Array(2 * chunkBytes + 3);
    expect([...chunks(b)].map((c) => c.length)).toEqual([chunkBytes, chunkBytes, 3]);
  });
});

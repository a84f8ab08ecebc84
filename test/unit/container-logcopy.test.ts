/**
 * The container log copy (edge-agent/drivers/container/logcopy.ts) against a fake engine that answers `logs` as
 * the Docker API does (multiplexed frames or a raw TTY stream, each entry prefixed with its RFC 3339 time): a
 * copy that resumes writes every line once, lines are dated by the engine's times, `since` narrows what a
 * resumed copy reads, and a line without an end is bounded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../edge-agent/drivers/container/engine.js';
import { LogCopier, timestampNs } from '../../edge-agent/drivers/container/logcopy.js';
import { readAttempt } from '../../edge-agent/logs/read.js';
import { readTimeline } from '../../edge-agent/logs/timeline.js';
import { tempDir } from '../helpers/wait.js';

/** One engine log entry: its time and text. */
interface Entry {
  ts: string;
  text: string;
}

/** A multiplexed frame (stdout) holding `TIMESTAMP text`. */
function frame(e: Entry): Buffer {
  const body = Buffer.from(`${e.ts} ${e.text}`);
  const h = Buffer.alloc(8);
  h[0] = 1;
  h.writeUInt32BE(body.length, 4);
  return Buffer.concat([h, body]);
}

/** The same entry in two frames: its time, then its text (an engine may frame each write of its log writer). */
function splitFrames(e: Entry): Buffer {
  const f = (body: string) => {
    const h = Buffer.alloc(8);
    h[0] = 1;
    h.writeUInt32BE(Buffer.byteLength(body), 4);
    return Buffer.concat([h, Buffer.from(body)]);
  };
  return Buffer.concat([f(`${e.ts} `), f(e.text)]);
}

/** A fake engine whose one container logged `entries`; records the `since` of every logs call. */
function fakeEngine(entries: Entry[], tty = false, framing: (e: Entry) => Buffer = frame) {
  const calls: { follow: boolean; since?: number }[] = [];
  const bytes = (since?: number) => {
    const kept = entries.filter((e) => since === undefined || Number(timestampNs(e.ts)! / 1_000_000_000n) > since);
    return tty ? Buffer.from(kept.map((e) => `${e.ts} ${e.text}`).join('')) : Buffer.concat(kept.map(framing));
  };
  const container = {
    inspect: async () => ({ Config: { Tty: tty } }),
    logs: async (o: { follow: boolean; since?: number }) => {
      calls.push({ follow: o.follow, since: o.since });
      if (!o.follow) return bytes(o.since);
      const s = new PassThrough();
      // Delivered in 5-byte pieces, so frames and lines arrive cut anywhere.
      const all = bytes(o.since);
      for (let i = 0; i < all.length; i += 5) s.write(all.subarray(i, i + 5));
      return s;
    },
  };
  return { engine: { docker: { getContainer: () => container } } as unknown as Engine, calls };
}

let dir: string;
beforeEach(async () => {
  dir = await tempDir('skiff-logcopy-');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const entries = (n: number, from = 0): Entry[] =>
  Array.from({ length: n }, (_, i) => ({ ts: `2026-12-01T10:00:${String(Math.floor((from + i) / 10)).padStart(2, '0')}.${String(((from + i) % 10) * 100).padStart(3, '0')}000000Z`, text: `line ${from + i}\n` }));

describe('the container log copy', () => {
  it('parses the engine timestamps to the nanosecond (Z or an offset, trailing zeros dropped)', () => {
    expect(timestampNs('2026-12-01T10:00:00.123456789Z')).toBe(1796119200123456789n);
    expect(timestampNs('2026-12-01T10:00:00.5Z')).toBe(1796119200500000000n);
    expect(timestampNs('2026-12-01T11:00:00+01:00')).toBe(1796119200000000000n);
    expect(timestampNs('line 1')).toBeUndefined();
  });

  it('follows, then a second copy (a restarted agent) resumes: every line once, dated by the engine', async () => {
    const log = entries(30);
    const file = path.join(dir, 'main', '0.log');
    const { engine, calls } = fakeEngine(log.slice(0, 12));
    const first = new LogCopier(engine, 'c1', file);
    await first.follow();
    await expect.poll(() => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '')).toContain('line 11\n');
    first.close();
    // The engine wrote on while no agent followed; the next copy reads from a second before the last line copied.
    const second = fakeEngine(log);
    await new LogCopier(second.engine, 'c1', file).finish();
    expect(fs.readFileSync(file, 'utf8')).toBe(log.map((e) => e.text).join(''));
    expect(calls[0].since).toBeUndefined();
    expect(second.calls).toEqual([{ follow: false, since: 1796119200 }]);
    const r = readAttempt(path.join(dir, 'main'), 0, { timestamps: true, sinceMs: Date.parse('2026-12-01T10:00:02.5Z'), maxBytes: 1 << 20 });
    expect(r.text.split('\n').slice(0, 2)).toEqual(['2026-12-01T10:00:02.5Z line 25', '2026-12-01T10:00:02.6Z line 26']);
    expect(readTimeline(path.join(dir, 'main', '0.idx')).length).toBe(30);
  });

  it('lines that share one timestamp are told apart by their count', async () => {
    const ts = '2026-12-01T10:00:00Z';
    const log = ['a\n', 'b\n', 'c\n', 'd\n'].map((text) => ({ ts, text }));
    const file = path.join(dir, '0.log');
    await new LogCopier(fakeEngine(log.slice(0, 2)).engine, 'c1', file).finish();
    await new LogCopier(fakeEngine(log).engine, 'c1', file).finish();
    await new LogCopier(fakeEngine(log).engine, 'c1', file).finish();
    expect(fs.readFileSync(file, 'utf8')).toBe('a\nb\nc\nd\n');
  });

  it('a TTY stream, a line split over entries, a last line without its newline', async () => {
    const file = path.join(dir, '0.log');
    const tty = [{ ts: '2026-12-01T10:00:00Z', text: 'one\r\n' }, { ts: '2026-12-01T10:00:01Z', text: 'two\r\n' }];
    await new LogCopier(fakeEngine(tty, true).engine, 'c1', file).finish();
    expect(fs.readFileSync(file, 'utf8')).toBe('one\r\ntwo\r\n');
    const split = path.join(dir, '1.log');
    const parts = [{ ts: '2026-12-01T10:00:00Z', text: 'hel' }, { ts: '2026-12-01T10:00:00.1Z', text: 'lo\n' }, { ts: '2026-12-01T10:00:00.2Z', text: 'prompt> ' }];
    await new LogCopier(fakeEngine(parts).engine, 'c1', split).finish();
    expect(fs.readFileSync(split, 'utf8')).toBe('hello\nprompt> ');
  });

  it('an entry in two frames (its time, then its text) is dated by its time and copied once across passes', async () => {
    const log = entries(6);
    const file = path.join(dir, 'main', '0.log');
    const first = new LogCopier(fakeEngine(log.slice(0, 3), false, splitFrames).engine, 'c1', file);
    await first.follow();
    await expect.poll(() => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '')).toContain('line 2\n');
    await first.finish(); // the final pass reads the same entries again
    await new LogCopier(fakeEngine(log, false, splitFrames).engine, 'c1', file).finish(); // a restarted agent's pass
    await new LogCopier(fakeEngine(log).engine, 'c1', file).finish(); // and one with whole frames
    expect(fs.readFileSync(file, 'utf8')).toBe(log.map((e) => e.text).join(''));
    expect(readTimeline(path.join(dir, 'main', '0.idx')).map((s) => s.ms)).toEqual(log.map((e) => Date.parse(e.ts)));
  });

  it('a last line without its newline is copied once across passes', async () => {
    const file = path.join(dir, '0.log');
    const log = [{ ts: '2026-12-01T10:00:00Z', text: 'a\n' }, { ts: '2026-12-01T10:00:01Z', text: 'prompt> ' }];
    await new LogCopier(fakeEngine(log).engine, 'c1', file).finish();
    await new LogCopier(fakeEngine(log).engine, 'c1', file).finish();
    expect(fs.readFileSync(file, 'utf8')).toBe('a\nprompt> ');
  });

  it('a line that never ends is written in bounded pieces', async () => {
    const file = path.join(dir, '0.log');
    const long = Array.from({ length: 40 }, (_, i) => ({ ts: `2026-12-01T10:00:00.${String(i).padStart(3, '0')}Z`, text: 'y'.repeat(4096) }));
    const { engine } = fakeEngine(long);
    const c = new LogCopier(engine, 'c1', file);
    await c.follow();
    await expect.poll(() => (fs.existsSync(file) ? fs.statSync(file).size : 0)).toBeGreaterThan(64 << 10);
    await c.finish();
    expect(fs.statSync(file).size).toBe(40 * 4096);
  });

  it('a pod log dir removed under it (the pod deleted) is no error', async () => {
    const file = path.join(dir, 'gone', '0.log');
    const c = new LogCopier(fakeEngine(entries(3)).engine, 'c1', file);
    fs.rmSync(path.join(dir, 'gone'), { recursive: true });
    await expect(c.finish()).resolves.toBeUndefined();
  });
});

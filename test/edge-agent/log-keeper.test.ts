/**
 * The agent's log keeper, table by table on real files: a log past its bound is rotated by copy and
 * truncate while its writer keeps appending (O_APPEND, as a process pod's stdout), nothing written is
 * lost, attempts older than the previous one go, and lines are dated by the size samples.
 */
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { attemptFiles } from '../../edge-agent/logs/files.js';
import { LogKeeper } from '../../edge-agent/logs/keeper.js';
import { readAttempt, rfc3339Nano } from '../../edge-agent/logs/read.js';
import { appendSample, appendSamples, maxTimelineBytes, readTimeline, timeAt } from '../../edge-agent/logs/timeline.js';
import { followAttempt } from '../../edge-agent/rpc/logs.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const dirOf = () => fs.mkdtempSync(path.join(tmpdir(), 'skiff-logs-'));

describe('LogKeeper', () => {
  it('rotates a log past maxBytes while the writer keeps appending; the rotated part and the current one hold every line', () => {
    const dir = dirOf();
    const f = attemptFiles(dir, 0);
    const fd = fs.openSync(f.log, 'a'); // the writer: O_APPEND, as the process driver opens it
    const keeper = new LogKeeper(() => [{ dir, attempt: 0 }], { maxBytes: 1000, maxFiles: 2, sampleMs: 1000 }, quiet);
    let n = 0;
    const write = (count: number) => {
      for (let i = 0; i < count; i++) fs.writeSync(fd, `line ${String(n++).padStart(4, '0')}\n`);
    };
    write(50); // 500 bytes
    keeper.tick(1_000);
    expect(fs.existsSync(f.rotated)).toBe(false);
    write(60); // 1100 bytes: past the bound
    keeper.tick(2_000);
    expect(fs.statSync(f.log).size).toBe(0);
    expect(fs.statSync(f.rotated).size).toBe(1100);
    write(10); // the writer goes on at the start of the truncated file
    keeper.tick(3_000);
    const text = readAttempt(dir, 0, { maxBytes: 1 << 20 }).text;
    expect(text.split('\n').filter(Boolean)).toEqual(Array.from({ length: 120 }, (_, i) => `line ${String(i).padStart(4, '0')}`));
    // A second rotation replaces the first: the bound holds (2 × maxBytes).
    write(100);
    keeper.tick(4_000);
    expect(fs.statSync(f.rotated).size + fs.statSync(f.log).size).toBeLessThanOrEqual(2 * 1100);
    expect(readAttempt(dir, 0, { maxBytes: 1 << 20, tailLines: 1 }).text).toBe('line 0219\n');
    fs.closeSync(fd);
  });

  it('dates lines by the first sample that saw them: --since and --timestamps', () => {
    const dir = dirOf();
    const f = attemptFiles(dir, 3);
    const keeper = new LogKeeper(() => [{ dir, attempt: 3 }], { maxBytes: 1 << 20, maxFiles: 5, sampleMs: 1000 }, quiet);
    fs.appendFileSync(f.log, 'old\n');
    keeper.tick(Date.parse('2026-01-10T12:00:00Z'));
    fs.appendFileSync(f.log, 'new 1\nnew 2\n');
    keeper.tick(Date.parse('2026-01-10T12:00:05.250Z'));
    expect(readAttempt(dir, 3, { maxBytes: 1 << 20, timestamps: true }).text).toBe('2026-01-10T12:00:00Z old\n2026-01-10T12:00:05.25Z new 1\n2026-01-10T12:00:05.25Z new 2\n');
    expect(readAttempt(dir, 3, { maxBytes: 1 << 20, sinceMs: Date.parse('2026-01-10T12:00:01Z') }).text).toBe('new 1\nnew 2\n');
  });

  it('keeps the current and the previous attempt only', () => {
    const dir = dirOf();
    for (const n of [0, 1, 2, 3]) fs.writeFileSync(attemptFiles(dir, n).log, `attempt ${n}\n`);
    fs.writeFileSync(attemptFiles(dir, 0).rotated, 'rotated 0\n');
    new LogKeeper(() => [{ dir, attempt: 3 }], { maxBytes: 1 << 20, maxFiles: 5, sampleMs: 1000 }, quiet).tick();
    expect(fs.readdirSync(dir).filter((x) => x.endsWith('.log')).sort()).toEqual(['2.log', '3.log']);
  });
});

describe('timeline', () => {
  it.each([
    [0, 1000],
    [10, 1000],
    [11, 2000],
    [30, 3000],
    [31, 99],
  ])('the byte ending at %i was written at %i', (end, ms) => {
    expect(timeAt([{ size: 10, ms: 1000 }, { size: 20, ms: 2000 }, { size: 30, ms: 3000 }], end, 99)).toBe(ms);
  });

  it('thins itself past its bound, keeping the newest sample', () => {
    const file = path.join(dirOf(), '0.idx');
    let i = 0;
    while (fs.existsSync(file) ? fs.statSync(file).size <= maxTimelineBytes : true) appendSample(file, { size: ++i, ms: 1_000_000_000_000 + i });
    appendSample(file, { size: ++i, ms: 2_000_000_000_000 });
    const samples = readTimeline(file);
    expect(fs.statSync(file).size).toBeLessThan(maxTimelineBytes * 0.6);
    expect(samples.at(-1)).toEqual({ size: i, ms: 2_000_000_000_000 });
    expect(samples.every((s, k) => k === 0 || s.size > samples[k - 1].size)).toBe(true);
  });

  it('formats times as Go\'s RFC3339Nano: trailing zeros of the fraction dropped', () => {
    expect(rfc3339Nano(Date.parse('2026-01-10T12:00:00.000Z'))).toBe('2026-01-10T12:00:00Z');
    expect(rfc3339Nano(Date.parse('2026-01-10T12:00:00.120Z'))).toBe('2026-01-10T12:00:00.12Z');
  });
});

describe('logs -f --timestamps', () => {
  it('dates each followed line by the timeline where it has it (a container copy\'s engine times), else as it is read', async () => {
    const dir = dirOf();
    const f = attemptFiles(dir, 0);
    const t0 = Date.parse('2026-01-02T03:04:05.123Z');
    fs.writeFileSync(f.log, 'a\n');
    appendSample(f.idx, { size: 2, ms: t0 });
    const chunks: string[] = [];
    let done!: () => void;
    const ended = new Promise<void>((r) => (done = r));
    const finished = new Promise<void>((r) => {
      followAttempt(f, 0, '', ended, true, (m) => {
        if (m.chunk) chunks.push(m.chunk);
        if (m.done) r();
      });
    });
    // As the container copy writes: the lines, then their engine times (b a second after a, to the millisecond).
    fs.appendFileSync(f.log, 'b\nc\n');
    appendSamples(f.idx, [{ size: 4, ms: t0 + 1000 }]);
    fs.appendFileSync(f.log, 'not sampled yet\n');
    const before = Date.now();
    done();
    await finished;
    const lines = chunks.join('').split('\n').filter(Boolean);
    expect(lines.slice(0, 3)).toEqual([`${rfc3339Nano(t0)} a`, `${rfc3339Nano(t0 + 1000)} b`, expect.stringMatching(/ c$/)]);
    // c and the last line have no sample: dated as read (the follower's last poll, after `before`).
    for (const l of lines.slice(2)) expect(Date.parse(l.split(' ')[0]!)).toBeGreaterThanOrEqual(before);
    expect(lines[3]).toMatch(/ not sampled yet$/);
  });
});

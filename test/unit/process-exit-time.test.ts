/**
 * A wrapped process's exit as the agent reads it back (edge-agent/drivers/process-record.ts readExit): the exit code
 * the wrapper wrote, and its finish time from the file's mtime — never before the process started, though file times
 * come from the kernel's coarse clock, up to a tick behind Date.now() (a process that ended within milliseconds of its
 * start read as finished 1 ms before it started: the driver contract's check caught it once in a full run).
 */
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readExit } from '../../edge-agent/drivers/process-record.js';

describe('readExit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-exit-'));
  const fallback = () => ({ exitCode: 137, reason: 'Error' as const, finishedAt: new Date(0) });
  const exitFile = (text: string, mtimeMs: number) => {
    const f = join(dir, `exit-${Math.random().toString(36).slice(2)}`);
    writeFileSync(f, text);
    utimesSync(f, mtimeMs / 1000, mtimeMs / 1000);
    return f;
  };

  it.each<[string, number, Date | undefined, number]>([
    ['an mtime after the start is the finish time', 10_000, new Date(9_000), 10_000],
    ['an mtime a tick before the start reads as the start', 8_996, new Date(9_000), 9_000],
    ['without a start time the mtime as it is', 8_996, undefined, 8_996],
  ])('%s', (_, mtime, startedAt, finished) => {
    const exit = readExit(exitFile('3\n', mtime), fallback, startedAt);
    expect(exit).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(exit.finishedAt.getTime()).toBe(finished);
  });

  it('no file, or not an exit code: the fallback', () => {
    expect(readExit(join(dir, 'none'), fallback, new Date(1))).toEqual(fallback());
    expect(readExit(exitFile('killed', 5_000), fallback, new Date(1))).toEqual(fallback());
  });
});

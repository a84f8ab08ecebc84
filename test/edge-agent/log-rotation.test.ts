/**
 * Log rotation as the kubelet bounds it (containerLogMaxSize × containerLogMaxFiles): a log past its size moves
 * down a chain of rotated parts while its writer keeps appending, the oldest part beyond the file count goes,
 * `logs` reads the parts in order; a log that grew while no agent ran is caught up within the bound; the
 * agent's flags for both.
 */
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../edge-agent/main.js';
import { attemptFiles, rotatedParts } from '../../edge-agent/logs/files.js';
import { LogKeeper } from '../../edge-agent/logs/keeper.js';
import { readAttempt } from '../../edge-agent/logs/read.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const line = (n: number) => `line ${String(n).padStart(4, '0')}\n`; // 10 bytes

describe('log rotation: size × files', () => {
  it('keeps maxFiles files per attempt (the current and maxFiles − 1 rotated parts, newest first), in order for logs', () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'skiff-rotate-'));
    const f = attemptFiles(dir, 0);
    const fd = fs.openSync(f.log, 'a');
    const keeper = new LogKeeper(() => [{ dir, attempt: 0 }], { maxBytes: 100, maxFiles: 3, sampleMs: 1000 }, quiet);
    let n = 0;
    const write = (count: number) => {
      for (let i = 0; i < count; i++) fs.writeSync(fd, line(n++));
    };
    for (let round = 0; round < 5; round++) {
      write(11); // 110 bytes: past the bound each round
      keeper.tick(1000 * (round + 1));
    }
    write(3);
    fs.closeSync(fd);
    expect(rotatedParts(dir, 0)).toEqual([1, 2]);
    expect(fs.existsSync(f.part(3).log)).toBe(false);
    // The newest rotation in n.1.log, the one before in n.2.log; the three older rounds are gone.
    expect(fs.readFileSync(f.part(1).log, 'utf8')).toBe(Array.from({ length: 11 }, (_, i) => line(44 + i)).join(''));
    expect(fs.readFileSync(f.part(2).log, 'utf8')).toBe(Array.from({ length: 11 }, (_, i) => line(33 + i)).join(''));
    expect(readAttempt(dir, 0, { maxBytes: 1 << 20 }).text).toBe(Array.from({ length: 25 }, (_, i) => line(33 + i)).join(''));
    expect(readAttempt(dir, 0, { maxBytes: 1 << 20, tailLines: 2 }).text).toBe(line(56) + line(57));
    const total = fs.readdirSync(dir).filter((x) => x.endsWith('.log')).reduce((a, x) => a + fs.statSync(path.join(dir, x)).size, 0);
    expect(total).toBeLessThanOrEqual(3 * 110);
  });

  it('a log that grew while no agent ran is caught up within the bound: its last maxBytes kept, the rest named as dropped', () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'skiff-rotate-'));
    const f = attemptFiles(dir, 2);
    fs.writeFileSync(f.log, Array.from({ length: 1000 }, (_, i) => line(i)).join('')); // 10,000 bytes, bound 200
    new LogKeeper(() => [{ dir, attempt: 2 }], { maxBytes: 200, maxFiles: 5, sampleMs: 1000 }, quiet).tick();
    const rotated = fs.readFileSync(f.rotated, 'utf8');
    expect(rotated.split('\n')[0]).toBe('skiff-agent: 9800 bytes of this log were dropped: it grew past 200 bytes while no agent rotated it');
    expect(rotated.endsWith(line(999))).toBe(true);
    expect(rotated.length).toBeLessThan(400);
    expect(fs.statSync(f.log).size).toBe(0);
  });

  it('prunes every part of attempts older than the previous one', () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'skiff-rotate-'));
    for (const n of [0, 1, 2]) for (const name of [`${n}.log`, `${n}.1.log`, `${n}.2.log`, `${n}.idx`, `${n}.3.idx`]) fs.writeFileSync(path.join(dir, name), 'x\n');
    new LogKeeper(() => [{ dir, attempt: 2 }], { maxBytes: 1 << 20, maxFiles: 5, sampleMs: 1000 }, quiet).tick();
    expect(fs.readdirSync(dir).filter((x) => x.startsWith('0.'))).toEqual([]);
    expect(fs.readdirSync(dir).filter((x) => x.startsWith('1.')).length).toBe(5);
  });
});

describe('skiff-agent --container-log-max-size / --container-log-max-files', () => {
  it('reads them', () => {
    expect(parseArgs(['join', '--master', 'mqtt://x:1', '--container-log-max-size', '5Mi', '--container-log-max-files=3'])).toMatchObject({ options: { containerLogMaxBytes: 5 << 20, containerLogMaxFiles: 3 } });
  });
  it.each([
    [['--container-log-max-size', 'big'], '--container-log-max-size must be a size of at least 1Ki, e.g. 10Mi, got "big"'],
    [['--container-log-max-size', '10'], 'at least 1Ki'],
    [['--container-log-max-files', '1'], '--container-log-max-files must be an integer ≥ 2, got "1"'],
    [['--pod-max-pids', '-3'], '--pod-max-pids must be an integer ≥ 0'],
  ])('%j → %s', (flags, msg) => expect(() => parseArgs(['join', '--master', 'mqtt://x:1', ...flags])).toThrow(msg));
});

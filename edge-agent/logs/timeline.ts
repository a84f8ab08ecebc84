/**
 * When each line of a log was written. The process writes its log file directly (no agent in between, so
 * nothing is lost while the agent restarts), so lines carry no time of their own; instead the agent
 * samples each running attempt's file size every second (keeper.ts) and appends `<size> <epoch ms>` to
 * its timeline file whenever it grew. A line is dated by the first sample that saw it whole: an upper
 * bound, at most one sample period late (`--timestamps` and `--since` are that precise; docs/cli.md).
 * A container pod's copy (drivers/container/logcopy.ts) adds samples of its own, dated by the engine's
 * per-line timestamps, so its lines are dated to the millisecond.
 * A timeline longer than its bound keeps every other sample (older lines get coarser dates).
 */
import fs from 'node:fs';

/** One sample: the file had `size` bytes at `ms`. */
export interface Sample {
  size: number;
  ms: number;
}

/** A timeline file past this size is thinned (every other sample kept); 256 KiB ≈ 12,000 samples. */
export const maxTimelineBytes = 256 << 10;

/** Appends one sample; thins the file first when it is past its bound. */
export function appendSample(file: string, s: Sample): void {
  appendSamples(file, [s]);
}

/** Appends samples in one write (a log copy's, dated by the engine); thins the file first when it is past its bound. */
export function appendSamples(file: string, samples: readonly Sample[]): void {
  if (!samples.length) return;
  try {
    if (fs.statSync(file).size > maxTimelineBytes) {
      const kept = readTimeline(file).filter((_, i, all) => i % 2 === 1 || i === all.length - 1);
      fs.writeFileSync(file, kept.map(line).join(''));
    }
  } catch {
    // no timeline yet
  }
  fs.appendFileSync(file, samples.map(line).join(''));
}

const line = (s: Sample) => `${s.size} ${s.ms}\n`;

/** Reads a timeline (empty when missing); malformed lines are skipped. */
export function readTimeline(file: string): Sample[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: Sample[] = [];
  for (const l of text.split('\n')) {
    const m = /^(\d+) (\d+)$/.exec(l);
    if (m) out.push({ size: Number(m[1]), ms: Number(m[2]) });
  }
  return out;
}

/** The time of the byte ending at `end`: the first sample whose size reached it, else `fallback` (not sampled yet). */
export function timeAt(samples: readonly Sample[], end: number, fallback: number): number {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (samples[mid].size >= end) hi = mid;
    else lo = mid + 1;
  }
  return lo < samples.length ? samples[lo].ms : fallback;
}

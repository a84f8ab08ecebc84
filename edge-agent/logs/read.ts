/**
 * Reading one attempt's log for `logs`: the rotated parts and the current file as one text, its last
 * `maxBytes` at most, each line dated by the timeline (timeline.ts) so that `sinceMs` and `timestamps`
 * work; then `tailLines`. `follow` goes on from the returned offset (follow.ts).
 */
import fs from 'node:fs';
import { attemptFiles, rotatedParts } from './files.js';
import { readTimeline, timeAt } from './timeline.js';

/** What to read. */
export interface ReadOptions {
  /** Only the last N lines. */
  tailLines?: number;
  /** Only lines written at or after this time (epoch ms). */
  sinceMs?: number;
  /** Prefix each line with its time, RFC 3339 (kubectl --timestamps). */
  timestamps?: boolean;
  /** The most bytes read (the end of the log); the answer is at most about this long. */
  maxBytes: number;
}

/** One line (without its newline) and when it was written. */
interface Line {
  text: string;
  ms: number;
  /** Ends with a newline (the last line of a file may not yet). */
  complete: boolean;
}

/** The text to answer, and where the current file ended (for follow). */
export function readAttempt(containerDir: string, attempt: number, o: ReadOptions): { text: string; offset: number } {
  const f = attemptFiles(containerDir, attempt);
  const current = readPart(f.log, f.idx, o.maxBytes);
  let rest = o.maxBytes - current.bytes;
  let lines = current.lines;
  // The rotated parts, newest first, while the byte budget lasts.
  for (const k of rotatedParts(containerDir, attempt)) {
    if (rest <= 0) break;
    const part = readPart(f.part(k).log, f.part(k).idx, rest);
    lines = [...part.lines, ...lines];
    rest -= part.bytes;
  }
  if (o.sinceMs !== undefined) lines = lines.filter((l) => l.ms >= o.sinceMs!);
  if (o.tailLines !== undefined) lines = o.tailLines === 0 ? [] : lines.slice(-o.tailLines);
  return { text: lines.map((l) => formatLine(l.text, l.ms, o.timestamps === true, l.complete)).join(''), offset: current.size };
}

/** A line as `logs` prints it: with its time first when asked, and its newline when it had one. */
export function formatLine(text: string, ms: number, timestamps: boolean, complete = true): string {
  return (timestamps ? `${rfc3339Nano(ms)} ` : '') + text + (complete ? '\n' : '');
}

/** Go's time.RFC3339Nano in UTC, as kubectl prints --timestamps: trailing zeros of the fraction dropped. */
export function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
}

/** The last `maxBytes` of a file, split into dated lines (a line cut by the limit is left out). */
function readPart(file: string, idx: string, maxBytes: number): { lines: Line[]; bytes: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return { lines: [], bytes: 0, size: 0 };
  }
  let buf: Buffer;
  let start: number;
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
    start = Math.max(0, st.size - maxBytes);
    buf = Buffer.alloc(st.size - start);
    const n = buf.length ? fs.readSync(fd, buf, 0, buf.length, start) : 0;
    buf = buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
  const samples = readTimeline(idx);
  const lines: Line[] = [];
  let at = 0;
  if (start > 0) {
    const nl = buf.indexOf(10);
    at = nl < 0 ? buf.length : nl + 1;
  }
  while (at < buf.length) {
    const nl = buf.indexOf(10, at);
    const end = nl < 0 ? buf.length : nl + 1;
    lines.push({ text: buf.toString('utf8', at, nl < 0 ? end : nl), ms: timeAt(samples, start + end, st.mtimeMs), complete: nl >= 0 });
    at = end;
  }
  return { lines, bytes: buf.length, size: start + buf.length };
}

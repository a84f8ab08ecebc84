/**
 * Durations as Go's time.ParseDuration and kubectl write them — the one parser master, agent and CLI
 * use: a sequence of decimal numbers each with a unit (`300ms`, `1.5h`, `1h30m`, `2m3.5s`, `.5s`);
 * units `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`. Unlike Go: a bare number is seconds (kubectl's
 * `--request-timeout=5`), and negative durations are refused (no setting here wants one).
 */
import { SkiffError } from './errors.js';

/** Milliseconds per unit. */
const units = new Map<string, number>([
  ['ns', 1e-6],
  ['us', 1e-3],
  ['µs', 1e-3], // U+00B5 micro sign, as Go accepts
  ['μs', 1e-3], // U+03BC Greek mu, as Go accepts
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
  ['h', 3_600_000],
]);

/** One `number unit` term, matched where the previous ended (sticky: linear, no backtracking). */
const term = /([0-9]*(?:\.[0-9]*)?)([a-zµμ]+)/y;

/** Parses a duration to milliseconds (fractions below 1 ms kept, to the nanosecond); undefined when it is not one. */
export function parseDuration(s: string | number): number | undefined {
  if (typeof s === 'number') return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
  if (typeof s !== 'string' || s.length > 100) return undefined;
  let t = s.trim();
  if (/^[0-9]+(\.[0-9]+)?$/.test(t)) return Number(t) * 1000;
  if (t.startsWith('+')) t = t.slice(1);
  if (t === '') return undefined;
  let ms = 0;
  for (let at = 0; at < t.length; ) {
    term.lastIndex = at;
    const m = term.exec(t);
    const perUnit = m ? units.get(m[2]) : undefined;
    // Go: a term needs at least one digit before or after the point (".5s" and "1.s" are fine, ".s" is not).
    if (!m || perUnit === undefined || !/[0-9]/.test(m[1])) return undefined;
    ms += Number(m[1]) * perUnit;
    at = term.lastIndex;
  }
  return Number.isFinite(ms) ? Math.round(ms * 1e6) / 1e6 : undefined;
}

/** A command-line flag's duration, or SKIFF_ERR_BAD_REQUEST naming the flag (`--timeout: must be a duration ...`). */
export function durationFlag(flag: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${flag}: must be a duration such as 500ms, 10s or 1h30m, got "${value}"`);
  return ms;
}

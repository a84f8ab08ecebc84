/** Durations as Go and kubectl write them: `500ms`, `10s`, `5m`, `1h30m`, or a bare number of seconds. */

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration to milliseconds; undefined when it is not one. */
export function parseDuration(s: string | number): number | undefined {
  if (typeof s === 'number') return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
  const t = s.trim();
  if (/^[0-9]+(\.[0-9]+)?$/.test(t)) return Number(t) * 1000;
  if (!/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * units[m[2]];
  return ms;
}

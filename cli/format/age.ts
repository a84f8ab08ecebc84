/** Durations as kubectl prints them (k8s.io/apimachinery/pkg/util/duration.HumanDuration). */

/**
 * Formats a duration in ms like kubectl's AGE column: `45s`, `3m12s`, `15m`, `5h10m`, `12h`, `3d4h`,
 * `20d`, `2y31d`. Up to 2 s in the future counts as now (clock skew); further is `<invalid>`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return withRest(minutes, 'm', seconds % 60, 's');
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return withRest(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return withRest(days, 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return withRest(years, 'y', days % 365, 'd');
  return `${years}y`;
}

function withRest(big: number, bigUnit: string, rest: number, restUnit: string): string {
  return rest === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${rest}${restUnit}`;
}

/** The AGE of an RFC 3339 timestamp at `now` (ms), or `<unknown>` when there is none. */
export function age(timestamp: string | number | undefined, now: number): string {
  if (timestamp === undefined || timestamp === '') return '<unknown>';
  const t = typeof timestamp === 'number' ? timestamp : Date.parse(timestamp);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

/** Small formatting helpers of the dashboard (ages and pod columns come from protocol/display.ts, as the CLI's). */

/** `512Mi`, `1.2Gi` from bytes. */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  const units = ['B', 'Ki', 'Mi', 'Gi', 'Ti'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)}${units[i]}`;
}

/** `250m` or `1.5` cores from millicores. */
export function formatCpu(m: number | undefined): string {
  if (m === undefined || !Number.isFinite(m)) return '–';
  return m < 1000 ? `${Math.round(m)}m` : `${(m / 1000).toFixed(m % 1000 ? 1 : 0)}`;
}

/** The Ready condition's status of a node or pod. */
export function readyOf(o: { status?: { conditions?: { type: string; status: string }[] } }): string | undefined {
  return o.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

/**
 * Kubernetes resource quantities: cpu in millicores ("100m", "0.5", 2) and bytes ("128Mi", "1G", "1e3").
 * https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
 */

const binary = new Map([['Ki', 2 ** 10], ['Mi', 2 ** 20], ['Gi', 2 ** 30], ['Ti', 2 ** 40], ['Pi', 2 ** 50], ['Ei', 2 ** 60]]);
const decimal = new Map([['n', 1e-9], ['u', 1e-6], ['m', 1e-3], ['', 1], ['k', 1e3], ['M', 1e6], ['G', 1e9], ['T', 1e12], ['P', 1e15], ['E', 1e18]]);
const pattern = /^([+]?[0-9]+(?:\.[0-9]*)?|[+]?\.[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$/;

/**
 * The largest quantity taken: 2^53 base units (8Pi bytes; no edge board comes near). Beyond it a
 * double loses whole units and sums stop adding up: `1e400` and `99999E` are mistakes or attacks.
 */
export const maxQuantity = 2 ** 53;

/** Parses a quantity to a plain number in base units; undefined when it is not a quantity, not finite or above maxQuantity. */
export function parseQuantity(q: unknown): number | undefined {
  let v: number;
  if (typeof q === 'number') v = q;
  else if (typeof q !== 'string') return undefined;
  else {
    const m = pattern.exec(q.trim());
    if (!m) return undefined;
    const n = Number(m[1]);
    v = m[3] !== undefined ? n * 10 ** Number(m[3]) : n * (binary.get(m[2] ?? '') ?? decimal.get(m[2] ?? '')!);
  }
  return Number.isFinite(v) && v >= 0 && v <= maxQuantity ? v : undefined;
}

/** CPU in millicores, rounded up like Kubernetes (1m is the smallest unit). */
export function cpuMilli(q: unknown): number | undefined {
  const v = parseQuantity(q);
  return v === undefined ? undefined : Math.ceil(Math.round(v * 1e6) / 1e3);
}

/** Memory or storage in whole bytes (rounded up). */
export function bytes(q: unknown): number | undefined {
  const v = parseQuantity(q);
  return v === undefined ? undefined : Math.ceil(v);
}

/** Formats millicores the way kubectl shows them ("250m", "2"). */
export function formatCpu(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Formats bytes with the largest binary suffix that divides them ("128Mi"), else plain or rounded Ki. */
export function formatBytes(b: number): string {
  for (const [s, size] of [...binary].reverse()) if (b >= size && b % size === 0) return `${b / size}${s}`;
  return b >= 1024 ? `${Math.round(b / 1024)}Ki` : String(b);
}

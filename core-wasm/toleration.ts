// The one toleration rule of Skiff: the scheduler's taint filter and score (encode.ts, explain.ts,
// engine.ts), node lifecycle's NoExecute evictions and the DaemonSet controller all ask it.
// core-wasm imports nothing outside itself, so the rule lives here and the master imports it
// (protocol may import only core-wasm's types); protocol's validation refuses the one toleration
// on which readings used to differ (an empty key with operator Equal).
import type { EngineTaint, EngineToleration } from './types.js';

/**
 * core/v1 Toleration.ToleratesTaint (k8s.io/api/core/v1/toleration.go):
 * - an effect, when given, must equal the taint's (an empty effect matches every effect);
 * - a key, when given, must equal the taint's (an empty key matches every key; validation allows
 *   that only with operator Exists, so an empty key with Exists matches every taint);
 * - Exists matches any value; Equal (the default) needs the same value, absent counting as "".
 * tolerationSeconds plays no part in matching: it only bounds how long a NoExecute taint is
 * tolerated (master/controllers/nodelifecycle.ts evictionTime).
 */
export function tolerates(t: EngineToleration, taint: EngineTaint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    default:
      return false; // an unknown operator tolerates nothing (validation refuses it first)
  }
}

/** True when some toleration of the list tolerates the taint. */
export function tolerated(tolerations: readonly EngineToleration[] | undefined, taint: EngineTaint): boolean {
  return !!tolerations && tolerations.some((t) => tolerates(t, taint));
}

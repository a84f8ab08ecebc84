/**
 * Which load balancer a service gets, and making one. Kubernetes' `sessionAffinity: ClientIP` keeps a
 * client on one endpoint: here Maglev consistent hashing of the client address (stable while the
 * endpoint set is, and only ~1/N of clients move when it changes). `None` spreads connections: smooth
 * weighted round robin by default, or what the `service.skiff.io/lb` annotation asks for.
 */
import { createBalancer } from '../../core-wasm/index.js';
import type { Balancer, BalancerAlgorithm } from '../../core-wasm/types.js';
import type { ServiceMessage } from '../../protocol/messages.js';
import type { Logger } from '../log.js';

/** The per-service annotation that picks the algorithm for `sessionAffinity: None`. */
export const lbAnnotation = 'service.skiff.io/lb';

/** Annotation values and the algorithm each names. */
const byAnnotation: Record<string, BalancerAlgorithm> = {
  'round-robin': 'round-robin',
  'least-connections': 'least-connections',
  'power-of-two': 'power-of-two',
};

/** Maglev table size: a prime ≥ 100 × endpoints keeps disruption near 1/N (Maglev paper §3.4) up to ~40 endpoints, in 16 KiB. */
export const maglevTableSize = 4099;

/** The algorithm for a service, and a warning when its annotation names none we know. */
export function algorithmFor(msg: Pick<ServiceMessage, 'sessionAffinity' | 'annotations'>): { algorithm: BalancerAlgorithm; warning?: string } {
  if (msg.sessionAffinity === 'ClientIP') return { algorithm: 'maglev' };
  const asked = msg.annotations?.[lbAnnotation];
  if (asked === undefined) return { algorithm: 'round-robin' };
  const algorithm = byAnnotation[asked];
  if (algorithm) return { algorithm };
  return { algorithm: 'round-robin', warning: `annotation ${lbAnnotation}: must be one of ${Object.keys(byAnnotation).join(', ')}, got ${JSON.stringify(asked)}; using round-robin` };
}

/** Which implementation the proxy's balancers run, decided once per agent and reported in its node status and metrics. */
export interface BalancerEngine {
  impl: 'wasm' | 'reference';
  /** Why it is not wasm: the load error, or the configuration that asked for the reference. */
  reason?: string;
}

/**
 * Loads the balancer engine once: wasm unless the configuration asks for the TS twin or the wasm kernel
 * fails to load on this board, in which case the twin runs (same picks, slower) and the reason is kept —
 * a fallback is reported (node condition WasmBalancer, metrics), never silent.
 */
export async function loadBalancerEngine(wanted: 'wasm' | 'reference', log: Logger): Promise<BalancerEngine> {
  if (wanted === 'reference') return { impl: 'reference', reason: 'proxy.balancerImpl is reference' };
  try {
    await createBalancer({ algorithm: 'round-robin', impl: 'wasm' });
    return { impl: 'wasm' };
  } catch (err) {
    const reason = `the wasm load balancer failed to load: ${(err as Error).message}`;
    log.warn(`${reason}; the proxy runs the TypeScript reference balancers (same picks, slower)`);
    return { impl: 'reference', reason };
  }
}

/** Creates a balancer on the engine chosen by loadBalancerEngine. */
export function makeBalancer(algorithm: BalancerAlgorithm, engine: BalancerEngine): Promise<Balancer> {
  return createBalancer({ algorithm, tableSize: maglevTableSize, impl: engine.impl });
}

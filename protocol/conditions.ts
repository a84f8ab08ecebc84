/**
 * Status conditions: finding one by type, and "is it Ready" — the one definition the master, the
 * agent, the CLI and the benches use (a second copy drifts: one checked `some`, another `find`).
 */
import type { Condition } from './types.js';

/** Anything whose status carries conditions: a Pod, a Node, any object read from the API. */
export interface HasConditions {
  status?: { conditions?: readonly Condition[] };
}

/** The condition of `type`, if the object has one (the first, should a client have sent two). */
export function conditionOf(o: HasConditions | undefined, type: string): Condition | undefined {
  const list: unknown = o?.status?.conditions;
  return Array.isArray(list) ? (list as Condition[]).find((c) => c?.type === type) : undefined;
}

/** The Ready condition of a Pod or Node. */
export function readyCondition(o: HasConditions | undefined): Condition | undefined {
  return conditionOf(o, 'Ready');
}

/** The Ready condition's status: True, False, Unknown, or undefined when there is none yet. */
export function readyStatus(o: HasConditions | undefined): Condition['status'] | undefined {
  return readyCondition(o)?.status;
}

/** True when the Ready condition is True (Kubernetes' IsPodReady / IsNodeReady). */
export function isReady(o: HasConditions | undefined): boolean {
  return readyStatus(o) === 'True';
}

/** The agent's node condition for its service proxy's balancers: True = WebAssembly, False = the TS twin (its message says why). */
export const wasmBalancerCondition = 'WasmBalancer';

/** Which balancer engine a node's proxy runs, from its WasmBalancer condition: wasm, reference, or undefined (no proxy, or an older agent). */
export function balancerEngineOf(node: HasConditions | undefined): 'wasm' | 'reference' | undefined {
  const c = conditionOf(node, wasmBalancerCondition);
  return c?.status === 'True' ? 'wasm' : c?.status === 'False' ? 'reference' : undefined;
}

/** The agent's node condition for pod resource limits: True = enforced through cgroups, False = pods run unlimited (its message says why and the fix). */
export const resourceLimitsCondition = 'ResourceLimits';

// The scoring settings of an engine: EngineOptions checked once (throwing naming the field), and
// where the kernels find them — header words for the strategy and the weights, a small region
// for the RequestedToCapacityRatio shape.
import {
  H_RTC_POINTS, H_RTC_SHAPE, H_RW_CPU, H_RW_EPH, H_RW_MEM, H_STRATEGY, H_W_AFF, H_W_BAL, H_W_IMAGE, H_W_RES, H_W_SPREAD,
  H_W_TAINT, ST_LEAST_ALLOCATED, ST_MOST_ALLOCATED, ST_REQUESTED_TO_CAPACITY,
} from './reference/layout.js';
import type { EngineOptions, ResourceStrategy, ResourceWeights, ScoreWeights, UtilizationShapePoint } from './types.js';

/** kube-scheduler's default score plugin weights (apis/config/v1/default_plugins.go). */
export const DEFAULT_WEIGHTS: Readonly<ScoreWeights> = Object.freeze({
  resources: 1,
  balancedAllocation: 1,
  nodeAffinity: 2,
  taintToleration: 3,
  topologySpread: 2,
  imageLocality: 1,
});

/** kube-scheduler's default NodeResourcesFit resources (apis/config/v1/defaults.go defaultResourceSpec): cpu and memory, weight 1. */
export const DEFAULT_RESOURCE_WEIGHTS: Readonly<ResourceWeights> = Object.freeze({ cpu: 1, memory: 1, ephemeralStorage: 0 });

/** MaxNodeScore / MaxCustomPriorityScore: shape scores 0–10 become 0–100. */
const SHAPE_SCALE = 10;
const strategies: Record<ResourceStrategy, number> = {
  LeastAllocated: ST_LEAST_ALLOCATED,
  MostAllocated: ST_MOST_ALLOCATED,
  RequestedToCapacityRatio: ST_REQUESTED_TO_CAPACITY,
};

/** Checked scoring settings, as the kernels read them. */
export interface Scoring {
  /** ST_* (layout.ts). */
  strategy: number;
  weights: ScoreWeights;
  resourceWeights: ResourceWeights;
  /** RequestedToCapacityRatio: (utilization, score × 10) per point; empty otherwise. */
  shape: UtilizationShapePoint[];
  /** Bytes of kernel memory the shape takes beside the header. */
  bytes: number;
}

const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** Checks weights: integers in 0..100 and nothing unknown; throws naming the field. */
function checkWeights<T extends object>(field: string, given: Partial<T> | undefined, dflt: Readonly<T>): T {
  const out = { ...dflt, ...(given ?? {}) } as T;
  for (const [k, v] of Object.entries(out)) {
    if (!(k in dflt)) throw new Error(`EngineOptions: ${field}.${k}: unknown, expected one of ${Object.keys(dflt).join(', ')}`);
    if (!isInt(v, 0, 100)) throw new Error(`EngineOptions: ${field}.${k}: must be an integer in 0..100, got ${JSON.stringify(v)}`);
  }
  return out;
}

/** The RequestedToCapacityRatio shape (validation_pluginargs.go validateFunctionShape), scores scaled to 0–100. */
function checkShape(shape: UtilizationShapePoint[] | undefined): UtilizationShapePoint[] {
  if (!Array.isArray(shape) || shape.length === 0) throw new Error('EngineOptions: shape: at least one point is required with RequestedToCapacityRatio');
  return shape.map((p, i) => {
    if (!isInt(p?.utilization, 0, 100)) throw new Error(`EngineOptions: shape[${i}].utilization: must be an integer in 0..100, got ${JSON.stringify(p?.utilization)}`);
    if (!isInt(p.score, 0, 10)) throw new Error(`EngineOptions: shape[${i}].score: must be an integer in 0..10, got ${JSON.stringify(p.score)}`);
    if (i > 0 && shape[i - 1].utilization >= p.utilization) throw new Error(`EngineOptions: shape[${i}].utilization: must be greater than the previous point's, got ${p.utilization}`);
    return { utilization: p.utilization, score: p.score * SHAPE_SCALE };
  });
}

/** Checks the scoring options once; throws naming the field. */
export function checkScoring(opts: EngineOptions): Scoring {
  const type = opts.resourceStrategy ?? 'LeastAllocated';
  if (!Object.prototype.hasOwnProperty.call(strategies, type)) {
    throw new Error(`EngineOptions: resourceStrategy: must be one of ${Object.keys(strategies).join(', ')}, got ${JSON.stringify(opts.resourceStrategy)}`);
  }
  const weights = checkWeights('weights', opts.weights, DEFAULT_WEIGHTS);
  const resourceWeights = checkWeights('resourceWeights', opts.resourceWeights, DEFAULT_RESOURCE_WEIGHTS);
  const rtc = type === 'RequestedToCapacityRatio';
  if (!rtc && opts.shape !== undefined) throw new Error(`EngineOptions: shape: only with RequestedToCapacityRatio, not ${type}`);
  const shape = rtc ? checkShape(opts.shape) : [];
  return { strategy: strategies[type], weights, resourceWeights, shape, bytes: shape.length * 8 };
}

/** Writes the settings into the header at byte `t` and the shape into the `bytes`-long region at byte `region`. */
export function writeScoring(s: Scoring, i32: Int32Array, t: number, region: number): void {
  const hw = (h: number, v: number): void => {
    i32[(t >> 2) + h] = v;
  };
  hw(H_STRATEGY, s.strategy);
  const w = s.weights;
  hw(H_W_RES, w.resources);
  hw(H_W_BAL, w.balancedAllocation);
  hw(H_W_AFF, w.nodeAffinity);
  hw(H_W_TAINT, w.taintToleration);
  hw(H_W_SPREAD, w.topologySpread);
  hw(H_W_IMAGE, w.imageLocality);
  hw(H_RW_CPU, s.resourceWeights.cpu);
  hw(H_RW_MEM, s.resourceWeights.memory);
  hw(H_RW_EPH, s.resourceWeights.ephemeralStorage);
  hw(H_RTC_POINTS, s.shape.length);
  hw(H_RTC_SHAPE, region);
  s.shape.forEach((p, k) => {
    i32[(region >> 2) + 2 * k] = p.utilization;
    i32[(region >> 2) + 2 * k + 1] = p.score;
  });
}

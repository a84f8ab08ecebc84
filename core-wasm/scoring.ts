// The scoring settings of an engine (EngineOptions, checked once) and where the kernels find
// them: header words for the strategy and the plugin weights.
import { H_STRATEGY, H_W_AFF, H_W_BAL, H_W_IMAGE, H_W_RES, H_W_SPREAD, H_W_TAINT } from './reference/layout.js';
import type { ScoreWeights } from './types.js';

/** Checked scoring settings, as the kernels read them. */
export interface Scoring {
  /** 0 LeastAllocated, 1 MostAllocated (layout.ts H_STRATEGY). */
  strategy: number;
  weights: ScoreWeights;
  /** Bytes of kernel memory the settings need beside the header. */
  bytes: number;
}

/** Writes the settings into the header at byte `t` (and the region at byte `region`, `bytes` long). */
export function writeScoring(s: Scoring, i32: Int32Array, t: number, _region: number): void {
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
}

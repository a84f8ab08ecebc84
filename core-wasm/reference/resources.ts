// NodeResourcesFit and NodeResourcesBalancedAllocation: the per-resource formulas of
// kube-scheduler's noderesources plugins, on the integer 0–100 scale, for one node (the resource
// pass in scores.ts runs them over every node; the wasm twin in f64x2 lanes with the same operations).
// Division of non-negative integers is Math.floor(a / b), Go's int64 division for every a < 2^53.
import { ld, ldf } from './memory.js';
import {
  H_ALLOC, H_CAP, H_REQ, H_RTC_POINTS, H_RTC_SHAPE, H_RW_CPU, H_RW_EPH, H_RW_MEM, H_SREQ, H_STRATEGY,
  P_CPU, P_EPH, P_MEM, P_SCPU, P_SMEM, ST_MOST_ALLOCATED, ST_REQUESTED_TO_CAPACITY,
} from './layout.js';
import { hdr } from './filters.js';

/** noderesources/least_allocated.go leastRequestedScore: ((capacity - requested) * 100) / capacity. */
export function leastRequested(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  if (requested > capacity) return 0;
  return Math.floor(((capacity - requested) * 100) / capacity);
}

/** noderesources/most_allocated.go mostRequestedScore: (min(requested, capacity) * 100) / capacity. */
export function mostRequested(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  if (requested > capacity) requested = capacity;
  return Math.floor((requested * 100) / capacity);
}

/**
 * noderesources/balanced_allocation.go balancedResourceScorer for cpu and memory:
 * fraction = min(requested / allocatable, 1); std = |fcpu - fmem| / 2; int64((1 - std) * 100).
 * A resource with allocatable 0 is skipped, and one fraction alone gives std = 0.
 */
export function balancedAllocation(cpuReq: number, cpuCap: number, memReq: number, memCap: number): number {
  if (cpuCap === 0 || memCap === 0) return 100;
  let fc = cpuReq / cpuCap;
  if (fc > 1) fc = 1;
  let fm = memReq / memCap;
  if (fm > 1) fm = 1;
  const std = Math.abs((fc - fm) / 2);
  return Math.floor((1 - std) * 100);
}

/**
 * helper/shape_score.go BuildBrokenLinearFunction over the RequestedToCapacityRatio shape, at
 * utilization p (0–100): the first point's score up to its utilization, linear between points
 * (Go's int64 division truncates toward zero, hence Math.trunc), the last point's score after it.
 * Scores are stored × 10 (MaxNodeScore / MaxCustomPriorityScore).
 */
export function shapeScore(t: number, p: number): number {
  const points = hdr(t, H_RTC_POINTS);
  const shape = hdr(t, H_RTC_SHAPE);
  for (let k = 0; k < points; k++) {
    const u = ld(shape + k * 8);
    if (p > u) continue;
    const s = ld(shape + k * 8 + 4);
    if (k === 0) return s;
    const pu = ld(shape + (k - 1) * 8);
    const ps = ld(shape + (k - 1) * 8 + 4);
    return ps + Math.trunc(((s - ps) * (p - pu)) / (u - pu));
  }
  return ld(shape + (points - 1) * 8 + 4);
}

/** requested_to_capacity_ratio.go resourceScoringFunction: the shape at requested × 100 / capacity, or at 100 when over capacity or capacity is 0. */
export function requestedToCapacity(t: number, requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return shapeScore(t, 100);
  return shapeScore(t, Math.floor((requested * 100) / capacity));
}

/** One resource's NodeResourcesFit score under strategy ST_*. */
export function strategyScore(t: number, strategy: number, requested: number, capacity: number): number {
  if (strategy === ST_MOST_ALLOCATED) return mostRequested(requested, capacity);
  if (strategy === ST_REQUESTED_TO_CAPACITY) return requestedToCapacity(t, requested, capacity);
  return leastRequested(requested, capacity);
}

/**
 * NodeResourcesFit score (resource_allocation.go with least_allocated.go, most_allocated.go or
 * requested_to_capacity_ratio.go): Σ weight × score / Σ weight over the resources that have a
 * weight and allocatable ≠ 0 — cpu and memory on the non-zero requests (a pod without requests
 * counts as 100m / 200 MiB), ephemeral storage on the actual ones. Integer division, except
 * RequestedToCapacityRatio: it counts only scores > 0 and rounds to nearest, math.Round(ns / ws),
 * which for non-negative integers is floor((2 ns + ws) / (2 ws)).
 */
export function resourceScore(t: number, pod: number, i: number): number {
  const n = hdr(t, H_CAP);
  const alloc = hdr(t, H_ALLOC);
  const sreq = hdr(t, H_SREQ);
  const strategy = hdr(t, H_STRATEGY);
  const rtc = strategy === ST_REQUESTED_TO_CAPACITY;
  let ns = 0;
  let ws = 0;
  const cpuCap = ldf(alloc + i * 8);
  const wCpu = hdr(t, H_RW_CPU);
  if (wCpu > 0 && cpuCap !== 0) {
    const s = strategyScore(t, strategy, ldf(sreq + i * 8) + ldf(pod + P_SCPU * 4), cpuCap);
    if (!rtc || s > 0) { ns += wCpu * s; ws += wCpu; }
  }
  const memCap = ldf(alloc + (n + i) * 8);
  const wMem = hdr(t, H_RW_MEM);
  if (wMem > 0 && memCap !== 0) {
    const s = strategyScore(t, strategy, ldf(sreq + (n + i) * 8) + ldf(pod + P_SMEM * 4), memCap);
    if (!rtc || s > 0) { ns += wMem * s; ws += wMem; }
  }
  const ephCap = ldf(alloc + (2 * n + i) * 8);
  const wEph = hdr(t, H_RW_EPH);
  if (wEph > 0 && ephCap !== 0) {
    const s = strategyScore(t, strategy, ldf(hdr(t, H_REQ) + (2 * n + i) * 8) + ldf(pod + P_EPH * 4), ephCap);
    if (!rtc || s > 0) { ns += wEph * s; ws += wEph; }
  }
  if (ws === 0) return 0;
  return rtc ? Math.floor((2 * ns + ws) / (2 * ws)) : Math.floor(ns / ws);
}

/** NodeResourcesBalancedAllocation on the actual requests (useRequested: true). */
export function balancedScore(t: number, pod: number, i: number): number {
  const n = hdr(t, H_CAP);
  const alloc = hdr(t, H_ALLOC);
  const req = hdr(t, H_REQ);
  return balancedAllocation(
    ldf(req + i * 8) + ldf(pod + P_CPU * 4),
    ldf(alloc + i * 8),
    ldf(req + (n + i) * 8) + ldf(pod + P_MEM * 4),
    ldf(alloc + (n + i) * 8),
  );
}


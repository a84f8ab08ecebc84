// Filters: does node i accept the pod? One function per filter, and `firstFailure` runs them in
// the fixed order of kube-scheduler's default plugins (NodeUnschedulable, [Skiff runtime],
// TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread, InterPodAffinity):
// a rejected node is reported with the first filter it failed.
import { ld, ldf, st } from './memory';
import {
  H_CAP, H_COUNT, H_KEY_DOMAINS, H_S_OK, H_DOMAIN_CAP, S_TABLE, H_DOMAINS, H_LABELS, H_PORTS, H_REQ, H_ALLOC,
  H_S_DSUM, H_S_MIN, H_S_STATIC, H_TAINT_WORDS, H_TAINTS, H_TOTALS, OP_ANY, P_ANTI, P_CPU, P_EPH, P_MEM,
  P_PORTS, P_REQUIRED, P_SPREAD, P_TAINTS, R_ANTI, R_CPU, R_EPHEMERAL, R_MEMORY, R_PODS, R_PORTS, R_SPREAD,
  SPREAD_WORDS,
} from './layout';

/** The header word h of table t (a column pointer or a size). */
export function hdr(t: i32, h: i32): i32 {
  return ld(t + h * 4);
}

/** Byte address of a pod record section (P_REQUIRED, P_PORTS, ...). */
export function section(pod: i32, field: i32): i32 {
  return pod + ld(pod + field * 4) * 4;
}

/** One requirement at p: [op, nPairs, (word, mask)*]: In/Exists hit some label bit, NotIn/DoesNotExist none. */
export function matchRequirement(t: i32, p: i32, i: i32): bool {
  const n = hdr(t, H_CAP);
  const labels = hdr(t, H_LABELS);
  const pairs = ld(p + 4);
  let hit: bool = false;
  for (let k = 0; k < pairs; k++) {
    const w = ld(p + 8 + k * 8);
    if ((ld(labels + (w * n + i) * 4) & ld(p + 12 + k * 8)) != 0) {
      hit = true;
      break;
    }
  }
  return ld(p) == OP_ANY ? hit : !hit;
}

/** Words taken by the requirement at p. */
export function requirementWords(p: i32): i32 {
  return 2 + 2 * ld(p + 4);
}

/** A node selector term at p: [nReqs, req*], the AND of its requirements. */
export function matchTerm(t: i32, p: i32, i: i32): bool {
  const n = ld(p);
  let q = p + 4;
  for (let k = 0; k < n; k++) {
    if (!matchRequirement(t, q, i)) return false;
    q += requirementWords(q) * 4;
  }
  return true;
}

/** Words taken by the term at p. */
export function termWords(p: i32): i32 {
  const n = ld(p);
  let w = 1;
  for (let k = 0; k < n; k++) w += requirementWords(p + w * 4);
  return w;
}

/** nodeSelector AND required node affinity (already merged by the host): OR of terms; -1 terms = none. */
export function matchRequired(t: i32, pod: i32, i: i32): bool {
  const p = section(pod, P_REQUIRED);
  const n = ld(p);
  if (n < 0) return true;
  let q = p + 4;
  for (let k = 0; k < n; k++) {
    if (matchTerm(t, q, i)) return true;
    q += termWords(q) * 4;
  }
  return false;
}

/** The node has a NoSchedule/NoExecute taint the pod does not tolerate (taint_toleration.go Filter). */
export function untoleratedTaint(t: i32, pod: i32, i: i32): bool {
  const n = hdr(t, H_CAP);
  const words = hdr(t, H_TAINT_WORDS);
  const taints = hdr(t, H_TAINTS);
  const mask = section(pod, P_TAINTS);
  for (let w = 0; w < words; w++) {
    if ((ld(taints + (w * n + i) * 4) & ld(mask + w * 4)) != 0) return true;
  }
  return false;
}

/** A host port (port, protocol) the pod wants is already bound on the node (node_ports.go). */
export function portConflict(t: i32, pod: i32, i: i32): bool {
  const n = hdr(t, H_CAP);
  const ports = hdr(t, H_PORTS);
  const p = section(pod, P_PORTS);
  const pairs = ld(p);
  for (let k = 0; k < pairs; k++) {
    if ((ld(ports + (ld(p + 4 + k * 8) * n + i) * 4) & ld(p + 8 + k * 8)) != 0) return true;
  }
  return false;
}

/**
 * Required anti-affinity term k of the pod as one pass over the nodes still in: a domain holding a
 * matching pod is out. Keys with at most 16 domains use a byte table, four nodes per step.
 */
export function antiPass(t: i32, pod: i32, k: i32): void {
  const n = hdr(t, H_CAP);
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const a = section(pod, P_ANTI) + 4 + k * 8;
  const domains = hdr(t, H_DOMAINS) + ld(a + 4) * n * 4;
  const totals = hdr(t, H_TOTALS) + ld(a) * hdr(t, H_DOMAIN_CAP) * 4;
  const used = ld(hdr(t, H_KEY_DOMAINS) + ld(a + 4) * 4);
  if (used <= 16) {
    const table = hdr(t, H_S_MIN) + S_TABLE * 4;
    v128.store(table, i32x4.splat(0));
    for (let d = 0; d < used; d++) store<u8>(table + d, ld(totals + d * 4) > 0 ? 1 : 0);
    const bytes = v128.load(table);
    const low = i32x4.splat(0xff);
    // Lanes without the key (-1) index past the table: swizzle gives 0 (not rejected).
    for (let i = 0; i < count; i += 4) {
      const bad = v128.and(i8x16.swizzle(bytes, v128.load(domains + i * 4)), low);
      v128.store(ok + i * 4, v128.andnot(v128.load(ok + i * 4), bad));
    }
    return;
  }
  for (let i = 0; i < count; i++) {
    if (ld(ok + i * 4) == 0) continue;
    const dom = ld(domains + i * 4);
    if (dom >= 0 && ld(totals + dom * 4) > 0) st(ok + i * 4, 0);
  }
}

/** NodeResourcesFit (fit.go fitsRequest): pods count first, then cpu, memory, ephemeral; 0 when it fits. */
export function fitReason(t: i32, pod: i32, i: i32): i32 {
  const n = hdr(t, H_CAP);
  const alloc = hdr(t, H_ALLOC);
  const req = hdr(t, H_REQ);
  if (ldf(req + (3 * n + i) * 8) + 1 > ldf(alloc + (3 * n + i) * 8)) return R_PODS;
  // A zero request always fits, even on an overcommitted node ("podRequest.MilliCPU > 0 && ...").
  const cpu = ldf(pod + P_CPU * 4);
  if (cpu > 0 && cpu > ldf(alloc + i * 8) - ldf(req + i * 8)) return R_CPU;
  const memory = ldf(pod + P_MEM * 4);
  if (memory > 0 && memory > ldf(alloc + (n + i) * 8) - ldf(req + (n + i) * 8)) return R_MEMORY;
  const eph = ldf(pod + P_EPH * 4);
  if (eph > 0 && eph > ldf(alloc + (2 * n + i) * 8) - ldf(req + (2 * n + i) * 8)) return R_EPHEMERAL;
  return 0;
}

/** The node carries the topology key of every spread constraint of the group (hard = 1, soft = 0). */
export function hasSpreadKeys(t: i32, pod: i32, i: i32, hard: i32): bool {
  const n = hdr(t, H_CAP);
  const domains = hdr(t, H_DOMAINS);
  const s = section(pod, P_SPREAD);
  const count = ld(s);
  for (let j = 0; j < count; j++) {
    const c = s + 4 + j * SPREAD_WORDS * 4;
    if (ld(c + 12) == hard && ld(domains + (ld(c + 4) * n + i) * 4) < 0) return false;
  }
  return true;
}

/** PodTopologySpread DoNotSchedule (filtering.go): matchNum + selfMatch - minMatch > maxSkew, or no key. */
export function spreadViolated(t: i32, pod: i32, i: i32): bool {
  const n = hdr(t, H_CAP);
  const d = hdr(t, H_DOMAIN_CAP);
  const domains = hdr(t, H_DOMAINS);
  const dsum = hdr(t, H_S_DSUM);
  const mins = hdr(t, H_S_MIN);
  const s = section(pod, P_SPREAD);
  const count = ld(s);
  for (let j = 0; j < count; j++) {
    const c = s + 4 + j * SPREAD_WORDS * 4;
    if (ld(c + 12) == 0) continue;
    const dom = ld(domains + (ld(c + 4) * n + i) * 4);
    if (dom < 0) return true;
    let match = ld(dsum + (j * d + dom) * 4);
    if (match < 0) match = 0;
    if (match + ld(c + 16) - ld(mins + j * 4) > ld(c + 8)) return true;
  }
  return false;
}

/** Required pod anti-affinity, the pod's own terms and existing pods' terms that match it (interpod_affinity filtering.go). */
export function antiAffinityViolated(t: i32, pod: i32, i: i32): bool {
  const n = hdr(t, H_CAP);
  const d = hdr(t, H_DOMAIN_CAP);
  const domains = hdr(t, H_DOMAINS);
  const totals = hdr(t, H_TOTALS);
  const a = section(pod, P_ANTI);
  const count = ld(a);
  for (let k = 0; k < count; k++) {
    const dom = ld(domains + (ld(a + 8 + k * 8) * n + i) * 4);
    if (dom >= 0 && ld(totals + (ld(a + 4 + k * 8) * d + dom) * 4) > 0) return true;
  }
  return false;
}

/** The first filter node i fails for the pod (a reason code), 0 when it passes all, -1 for an empty slot. Needs prepareStatic. */
export function firstFailure(t: i32, pod: i32, i: i32): i32 {
  // Unschedulable, runtime, taints and affinity: static, from S_STATIC (static.ts prepareStatic).
  const s = ld(hdr(t, H_S_STATIC) + i * 4);
  if (s != 0) return s;
  if (portConflict(t, pod, i)) return R_PORTS;
  const fit = fitReason(t, pod, i);
  if (fit != 0) return fit;
  if (spreadViolated(t, pod, i)) return R_SPREAD;
  if (antiAffinityViolated(t, pod, i)) return R_ANTI;
  return 0;
}

// Pod records: a pod's requests, selectors, tolerations, ports, images, spread and anti-affinity
// turned into the integer record the kernels read (assembly/layout.ts P_*), against the table's
// dictionaries. Interning (ports, topology keys, counters) happens first for a whole batch.
import { selectorMatches } from './dictionary.js';
import { tolerated } from './toleration.js';
import {
  IMG_MAX_KIB, MAX_SPREAD, OP_ANY, OP_NONE, P_ANTI, P_CPU, P_EPH, P_FIXED, P_FLAGS, P_IMAGE_MAX, P_IMAGES, P_INC,
  P_LEN, P_MEM, P_PORTS, P_PREFERRED, P_REQUIRED, P_RUNTIME, P_SCPU, P_SMEM, P_SPREAD, P_TAINTS,
  PF_TOLERATES_UNSCHEDULABLE,
} from './reference/layout.js';
import type { NodeTable } from './table.js';
import type { EngineLabelSelector, EngineNodeRequirement, EnginePod } from './types.js';

/** kube-scheduler's non-zero defaults for pods without requests (util/pod_resources.go). */
export const DEFAULT_MILLI_CPU = 100;
export const DEFAULT_MEMORY = 200 * 1024 * 1024;
/** Image size assumed for ImageLocality: EngineNode lists image names without sizes. */
export const NOMINAL_IMAGE_KIB = 250 * 1024;
/** The taint a cordoned node implies (NodeUnschedulable tolerates pods that tolerate it). */
const UNSCHEDULABLE_TAINT = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' as const };

/** Interns what a pod brings that nodes do not: host ports, topology keys, counters. */
export function internPod(table: NodeTable, pod: EnginePod): void {
  for (const hp of pod.hostPorts ?? []) table.ports.intern(`${hp.protocol}/${hp.port}`);
  for (const c of pod.topologySpread ?? []) table.internCounter('sel', pod.namespace, c.selector, c.topologyKey);
  for (const a of pod.antiAffinity ?? []) {
    table.internCounter('sel', pod.namespace, a.selector, a.topologyKey);
    table.internCounter('anti', pod.namespace, a.selector, a.topologyKey);
  }
}

/** (word, mask) pairs for a set of bit ids, merged per word and sorted. */
function pairs(ids: number[]): number[] {
  const words = new Map<number, number>();
  for (const id of ids) if (id >= 0) words.set(id >> 5, (words.get(id >> 5) ?? 0) | (1 << (id & 31)));
  const out: number[] = [];
  for (const w of [...words.keys()].sort((a, b) => a - b)) out.push(w, words.get(w)!);
  return out;
}

/** One node selector requirement as [op, nPairs, pairs]; Gt/Lt become In over the known values. */
function requirement(table: NodeTable, r: EngineNodeRequirement): number[] {
  const pair = (v: string): number => table.labels.get(`${r.key}\0${v}`);
  let op = OP_ANY;
  let ids: number[];
  switch (r.operator) {
    case 'In':
    case 'NotIn':
      op = r.operator === 'In' ? OP_ANY : OP_NONE;
      ids = (r.values ?? []).map(pair);
      break;
    case 'Exists':
    case 'DoesNotExist':
      op = r.operator === 'Exists' ? OP_ANY : OP_NONE;
      ids = [table.labels.get(r.key)];
      break;
    case 'Gt':
    case 'Lt': {
      // core/v1: the single value and the node's label must both parse as integers.
      const limit = r.values?.length === 1 && /^-?\d+$/.test(r.values[0]) ? Number(r.values[0]) : NaN;
      ids = [];
      if (!Number.isNaN(limit)) {
        for (const v of table.valuesOfLabel.get(r.key) ?? []) {
          if (!/^-?\d+$/.test(v)) continue;
          if (r.operator === 'Gt' ? Number(v) > limit : Number(v) < limit) ids.push(pair(v));
        }
      }
      break;
    }
  }
  const p = pairs(ids);
  return [op, p.length / 2, ...p];
}

/** A term (AND of requirements); an empty term matches no node (core/v1 NodeSelectorTerm). */
function term(table: NodeTable, reqs: EngineNodeRequirement[]): number[] {
  if (reqs.length === 0) return [1, OP_ANY, 0];
  const out = [reqs.length];
  for (const r of reqs) out.push(...requirement(table, r));
  return out;
}

/** nodeSelector AND required terms: the selector's pairs are added to every term. */
function required(table: NodeTable, pod: EnginePod): number[] {
  const sel: EngineNodeRequirement[] = Object.entries(pod.nodeSelector ?? {}).map(([key, v]) => ({ key, operator: 'In', values: [v] }));
  const terms = pod.requiredNodeTerms?.length ? pod.requiredNodeTerms : undefined;
  if (!terms && sel.length === 0) return [-1];
  if (!terms) return [1, ...term(table, sel)];
  const out = [terms.length];
  for (const t of terms) out.push(...(t.length === 0 ? term(table, []) : term(table, [...sel, ...t])));
  return out;
}

/** The record of a pod (i32 words; f64 fields left 0) and its f64 fields. */
export interface PodRecord {
  words: number[];
  f64: [cpu: number, mem: number, eph: number, scpu: number, smem: number];
}

/**
 * Encodes a pod against the table's current dictionaries. Replicas of one template encode to the
 * same words, so the words are memoised by the pod's spec (everything but key and requests) until
 * a node or dictionary changes (NodeTable.memo).
 */
export function encodePod(table: NodeTable, pod: EnginePod): PodRecord {
  const r = pod.requests;
  const f64: PodRecord['f64'] = [r.cpuMilli, r.memoryBytes, r.ephemeralBytes, r.cpuMilli || DEFAULT_MILLI_CPU, r.memoryBytes || DEFAULT_MEMORY];
  const spec = JSON.stringify([
    pod.namespace, pod.labels, pod.runtime, pod.nodeSelector, pod.requiredNodeTerms, pod.preferredNodeTerms,
    pod.tolerations, pod.hostPorts, pod.antiAffinity, pod.topologySpread, pod.images,
  ]);
  const memo = table.memo();
  let words = memo.get(spec);
  if (!words) memo.set(spec, (words = encodeWords(table, pod)));
  return { words, f64 };
}

/** The i32 words of a pod's record (the f64 request words left 0). */
function encodeWords(table: NodeTable, pod: EnginePod): number[] {
  const w: number[] = new Array(P_FIXED).fill(0);
  const tolerations = pod.tolerations;
  w[P_FLAGS] = tolerated(tolerations, UNSCHEDULABLE_TAINT) ? PF_TOLERATES_UNSCHEDULABLE : 0;
  const rt = table.runtimes.get(pod.runtime);
  w[P_RUNTIME] = rt < 0 ? 0 : 1 << rt;
  const section = (field: number, words: number[]): void => {
    w[field] = w.length;
    for (const x of words) w.push(x);
  };
  // Untolerated taints: NoSchedule/NoExecute (filter), then PreferNoSchedule (score).
  const tw = table.columns.capacity.taintWords;
  const masks = new Array(2 * tw).fill(0);
  table.taintsById.forEach((taint, id) => {
    if (tolerated(tolerations, taint)) return;
    masks[(taint.effect === 'PreferNoSchedule' ? tw : 0) + (id >> 5)] |= 1 << (id & 31);
  });
  section(P_TAINTS, masks);
  section(P_REQUIRED, required(table, pod));
  const pref: number[] = [pod.preferredNodeTerms?.length ?? 0];
  for (const p of pod.preferredNodeTerms ?? []) pref.push(p.weight, ...term(table, p.requirements));
  section(P_PREFERRED, pref);
  const images: number[] = [];
  const total = table.nodeCount;
  for (const img of pod.images ?? []) {
    const id = table.images.get(img);
    if (id < 0 || total === 0) continue;
    // image_locality.go scaledImageScore: size × (nodes with the image / all nodes).
    images.push(id >> 5, 1 << (id & 31), Math.trunc(NOMINAL_IMAGE_KIB * (table.nodesWithImage(id) / total)));
  }
  section(P_IMAGES, [images.length / 3, ...images]);
  w[P_IMAGE_MAX] = IMG_MAX_KIB * Math.max(1, pod.images?.length ?? 0);
  const spread: number[] = [pod.topologySpread?.length ?? 0];
  for (const c of pod.topologySpread ?? []) {
    const id = table.internCounter('sel', pod.namespace, c.selector, c.topologyKey);
    const self = selectorMatches(c.selector, pod.labels) ? 1 : 0;
    spread.push(id, table.counterInfo[id].key, c.maxSkew, c.whenUnsatisfiable === 'DoNotSchedule' ? 1 : 0, self);
  }
  section(P_SPREAD, spread);
  // Everything above depends only on the pod's spec and the node table (the kernels cache on it).
  const ports = pairs((pod.hostPorts ?? []).map((hp) => table.ports.get(`${hp.protocol}/${hp.port}`)));
  section(P_PORTS, [ports.length / 2, ...ports]);
  const anti: number[] = [];
  for (const a of pod.antiAffinity ?? []) {
    const id = table.internCounter('sel', pod.namespace, a.selector, a.topologyKey);
    anti.push(id, table.counterInfo[id].key);
  }
  const inc: number[] = [];
  const terms = table.podTerms(pod);
  for (let c = 0; c < table.counters.size; c++) {
    const info = table.counterInfo[c];
    if (info.namespace !== pod.namespace) continue;
    // Existing pods' anti-affinity terms that select this pod keep it out of their domains.
    if (info.kind === 'anti' && selectorMatches(info.selector, pod.labels)) anti.push(c, info.key);
    if (table.counterMatches(c, pod, terms)) inc.push(c);
  }
  section(P_ANTI, [anti.length / 2, ...anti]);
  section(P_INC, [inc.length, ...inc]);
  if (w.length % 2) w.push(0);
  w[P_LEN] = w.length;
  return w;
}

/** Writes a record at byte address p (8-aligned); returns the address after it. */
export function writeRecord(table: NodeTable, p: number, rec: PodRecord): number {
  table.columns.i32.set(rec.words, p >> 2);
  const f = table.columns.f64;
  const base = p >> 3;
  f[base + (P_CPU >> 1)] = rec.f64[0];
  f[base + (P_MEM >> 1)] = rec.f64[1];
  f[base + (P_EPH >> 1)] = rec.f64[2];
  f[base + (P_SCPU >> 1)] = rec.f64[3];
  f[base + (P_SMEM >> 1)] = rec.f64[4];
  return p + rec.words.length * 4;
}

/** Checks a pod before anything changes; throws naming the field and the rule. */
export function validatePod(pod: EnginePod): void {
  const where = `EnginePod/${pod?.key}`;
  if (!pod || typeof pod.key !== 'string' || !pod.key) throw new Error(`EnginePod: key: must be a non-empty string`);
  const count = (v: unknown, field: string): void => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`${where}: ${field}: must be an integer ≥ 0, got ${JSON.stringify(v)}`);
  };
  count(pod.requests?.cpuMilli, 'requests.cpuMilli');
  count(pod.requests?.memoryBytes, 'requests.memoryBytes');
  count(pod.requests?.ephemeralBytes, 'requests.ephemeralBytes');
  if (typeof pod.runtime !== 'string') throw new Error(`${where}: runtime: must be a string`);
  (pod.preferredNodeTerms ?? []).forEach((p, i) => {
    if (!Number.isInteger(p.weight) || p.weight < 1 || p.weight > 100) throw new Error(`${where}: preferredNodeTerms[${i}].weight: must be an integer in 1..100, got ${p.weight}`);
  });
  (pod.hostPorts ?? []).forEach((hp, i) => {
    if (!Number.isInteger(hp.port) || hp.port < 1 || hp.port > 65535) throw new Error(`${where}: hostPorts[${i}].port: must be an integer in 1..65535, got ${hp.port}`);
  });
  const spread = pod.topologySpread ?? [];
  if (spread.length > MAX_SPREAD) throw new Error(`${where}: topologySpread: at most ${MAX_SPREAD} constraints, got ${spread.length}`);
  spread.forEach((c, i) => {
    if (!Number.isInteger(c.maxSkew) || c.maxSkew < 1) throw new Error(`${where}: topologySpread[${i}].maxSkew: must be an integer ≥ 1, got ${c.maxSkew}`);
  });
}

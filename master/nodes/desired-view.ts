/**
 * A pod as its node's agent sees it in the desired set (metadata and spec, without resourceVersion and
 * generation), and what the set derives from it (the ConfigMaps, Secrets and claims it references), each built
 * once per pod version the agent can tell apart — not once per stored version.
 *
 * Why: a rollout writes each pod three or four times after it is bound (the agent's reports), and each write is a
 * new cache object. Built per cache object, every report rebuilt the view, its JSON digest (desired-delta.ts) and
 * its references, and rebuilt the node's set for nothing — four tenths of the desired flushes' cost in a rollout
 * (issue 16; `npm run bench:pod-pipeline`). A new version whose spec generation and metadata are the old one's carries the old view over
 * (`carryView`), so the digest and the references come with it; `objects.ts` and `apply.ts` bump the generation on
 * every spec change (Kubernetes' rule), so an unchanged generation means an unchanged spec.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Pod } from '../../protocol/index.js';
import { parseModuleImage } from '../../protocol/wasi-image.js';
import { claimsOf } from '../controllers/volumes/match.js';
import { isFinished, isTerminating } from '../controllers/pods.js';
import { rememberDigest } from './desired-delta.js';

/** The ConfigMaps, Secrets and PersistentVolumeClaims a pod references, by name in its namespace. */
export interface References {
  configMaps: string[];
  secrets: string[];
  claims: string[];
}

/** What forAgent made of each cached pod (cache objects are immutable: a change is a new object). */
const views = new WeakMap<Pod, Pod>();
/** references() of each view's spec (a view's spec is its pod's: immutable too). */
const refs = new WeakMap<Pod['spec'], References>();

/** Views made so far: each new one's digest is a new number, never its text's hash (see rememberDigest). */
let made = 0;

/**
 * The parts of a pod an agent needs: one object per agent-visible version. Its digest (desired-delta.ts) is the
 * view's own number: a new view is a version the agent has not seen, so no text needs hashing (a SHA-1 of every
 * bound pod's JSON was a fifth of the flush). A view made again for the same text (a relisted cache) only sends the
 * pod once more.
 */
export function forAgent(p: Pod): Pod {
  let v = views.get(p);
  if (!v) {
    const { resourceVersion: _rv, generation: _g, ...metadata } = p.metadata;
    v = { apiVersion: 'v1', kind: 'Pod', metadata, spec: p.spec };
    views.set(p, v);
    rememberDigest(v, `view-${++made}`);
  }
  return v;
}

/** Metadata equal apart from resourceVersion and generation (what forAgent leaves out). */
function sameMetadata(a: Pod['metadata'], b: Pod['metadata']): boolean {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  const visible = (o: Record<string, unknown>) => Object.keys(o).filter((k) => k !== 'resourceVersion' && k !== 'generation' && o[k] !== undefined);
  const keys = visible(x);
  return keys.length === visible(y).length && keys.every((k) => isDeepStrictEqual(x[k], y[k]));
}

/**
 * When `p` (a new version of `old`) looks the same to its node's agent — same uid, node, spec generation and
 * metadata — gives it `old`'s view and returns true; a status-only write then changes no desired set, unless it
 * finished the pod (its logs are kept, it leaves the set). False: `p` gets its own view when one is needed.
 */
export function carryView(p: Pod, old: Pod): boolean {
  if (p.metadata.uid !== old.metadata.uid || p.spec.nodeName !== old.spec.nodeName) return false;
  if (p.metadata.generation === undefined || p.metadata.generation !== old.metadata.generation) return false;
  if (isFinished(p) !== isFinished(old) || isTerminating(p) !== isTerminating(old)) return false;
  if (!sameMetadata(p.metadata, old.metadata)) return false;
  views.set(p, forAgent(old));
  return true;
}

/**
 * The ConfigMaps and Secrets a pod reads, by name in its namespace — env valueFrom, envFrom, volumes (of every
 * container, init containers too), imagePullSecrets and a WASI module's configmap:// image — and the
 * PersistentVolumeClaims its volumes name (the node gets the directory of each claim's bound volume). This is the
 * Node authorizer's graph: a node is sent these objects of the pods bound to it and nothing else (no other path
 * gives a node any object: it has no API access, and its topics carry only its own desired set). Remembered per
 * spec object: callers must not change what they get.
 */
export function references(p: Pod): References {
  const known = refs.get(p.spec);
  if (known) return known;
  const cms = new Set<string>();
  const secrets = new Set<string>();
  for (const c of [...(p.spec.initContainers ?? []), ...p.spec.containers]) {
    const module = p.spec.runtimeClassName === 'wasi' && c.image ? parseModuleImage(c.image) : undefined;
    if (module && 'kind' in module && module.kind === 'configmap') cms.add(module.name);
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef) cms.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef) secrets.add(e.valueFrom.secretKeyRef.name);
    }
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef) cms.add(e.configMapRef.name);
      if (e.secretRef) secrets.add(e.secretRef.name);
    }
  }
  for (const v of p.spec.volumes ?? []) {
    if (v.configMap) cms.add(v.configMap.name);
    if (v.secret) secrets.add(v.secret.secretName);
  }
  for (const s of p.spec.imagePullSecrets ?? []) if (s?.name) secrets.add(s.name);
  const out = { configMaps: [...cms], secrets: [...secrets], claims: claimsOf(p) };
  refs.set(p.spec, out);
  return out;
}

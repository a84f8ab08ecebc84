/**
 * Manifests: Kubernetes-compatible YAML or JSON, several documents per file (`---`), `kind: List`
 * expanded. `parseManifests` turns text into objects or throws SKIFF_ERR_PARSE; `normalizeObject`
 * checks one object against its kind's rules and fills defaults, or throws SKIFF_ERR_VALIDATION /
 * SKIFF_ERR_UNKNOWN_KIND naming the object, field and rule.
 */
import { parseAllDocuments } from 'yaml';
import { Checker, isObject } from './check.js';
import { SkiffError } from './errors.js';
import { applyDefaults, findKind, kinds } from './kinds.js';
import { checkPodCounts, maxExpandedBytes, payloadTooLarge, replicasCeiling, showBytes } from './limits.js';
import { expandedSize } from './yaml-size.js';
import { checkMetadata } from './resources/metadata.js';
import type { KObject } from './types.js';

/**
 * Parses YAML or JSON text with one or more documents into objects (not yet validated). Text over
 * maxRequestBytes is refused before the parser sees it, and a stream whose aliases would expand past
 * maxExpandedBytes before it is expanded.
 */
export function parseManifests(text: string, source = 'manifest'): unknown[] {
  const tooLarge = payloadTooLarge(source, Buffer.byteLength(text, 'utf8'));
  if (tooLarge) throw new SkiffError('SKIFF_ERR_PARSE', tooLarge);
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const out: unknown[] = [];
  let expanded = 0;
  // parseAllDocuments returns an EmptyStream (no documents) for blank text.
  for (const doc of Array.isArray(docs) ? docs : []) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const where = e.linePos?.[0] ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '';
      throw new SkiffError('SKIFF_ERR_PARSE', `${source}${where}: ${e.message.split('\n')[0]}`);
    }
    try {
      expanded += expandedSize(doc, maxExpandedBytes - expanded);
    } catch (err) {
      throw new SkiffError('SKIFF_ERR_PARSE', `${source}: ${(err as Error).message}`);
    }
    if (expanded > maxExpandedBytes)
      throw new SkiffError('SKIFF_ERR_PARSE', `${source}: the YAML aliases expand to more than ${showBytes(maxExpandedBytes)} (anchors and aliases may not amplify a manifest past the request limit)`);
    const v = doc.toJS({ maxAliasCount: 100 });
    if (v === null || v === undefined) continue;
    if (isObject(v) && v.kind === 'List' && Array.isArray(v.items)) out.push(...v.items);
    else out.push(v);
  }
  if (out.length === 0) throw new SkiffError('SKIFF_ERR_PARSE', `${source}: no documents found`);
  return out;
}

/** The `Kind/name` label of a raw document, for error messages, even when it is malformed. */
export function subjectOf(o: unknown): string {
  if (!isObject(o)) return 'document';
  const kind = typeof o.kind === 'string' ? o.kind : 'document';
  const name = isObject(o.metadata) && typeof o.metadata.name === 'string' ? o.metadata.name : '?';
  return `${kind}/${name}`;
}

/**
 * Checks one raw object and returns a normalised copy: apiVersion and kind canonical, namespace filled
 * (`defaultNamespace` for namespaced kinds) and defaults applied. Server-owned metadata (uid,
 * resourceVersion, ...) is left for the master to overwrite. Pod counts are bounded by `maxReplicas`
 * (the master passes its --max-replicas; int32 otherwise, as Kubernetes).
 */
export function normalizeObject(raw: unknown, defaultNamespace = 'default', maxReplicas = replicasCeiling): KObject {
  const subject = subjectOf(raw);
  const c = new Checker(subject);
  // A Secret's values never appear in a message, even where they break a rule.
  if (isObject(raw) && typeof raw.kind === 'string' && findKind(raw.kind)?.kind === 'Secret') c.hideValues();
  if (!isObject(raw)) {
    c.fail('document', 'must be a map with apiVersion, kind and metadata', raw);
    c.throwIfAny();
  }
  const o = structuredClone(raw) as Record<string, any>;
  if (typeof o.kind !== 'string') {
    c.fail('kind', 'is required and must be a string', o.kind);
    c.throwIfAny();
  }
  const info = findKind(o.kind);
  if (!info || info.kind !== o.kind)
    throw new SkiffError('SKIFF_ERR_UNKNOWN_KIND', `${subject}: kind: unknown kind "${o.kind}"; Skiff serves ${Object.keys(kinds).join(', ')}`, [
      { field: 'kind', rule: `must be one of ${Object.keys(kinds).join(', ')}` },
    ]);
  if (o.apiVersion !== info.apiVersion) c.fail('apiVersion', `must be ${info.apiVersion} for ${info.kind}`, o.apiVersion);
  checkMetadata(c, o.metadata, { namespaced: info.namespaced, labelName: info.labelName });
  info.check(c, o);
  checkPodCounts(c, info.podCounts, o, maxReplicas);
  c.throwIfAny();
  if (info.namespaced) o.metadata.namespace = o.metadata.namespace || defaultNamespace;
  else delete o.metadata.namespace;
  return applyDefaults(o as KObject);
}


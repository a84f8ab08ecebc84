/**
 * The desired set: its shape check (anything else is dropped with one log line) and its on-disk cache
 * (DATA/desired.msgpack), so a rebooted board restarts its pods before the master is reachable.
 */
import { decodeObject, encode } from '../protocol/codec.js';
import type { DesiredMessage } from '../protocol/messages.js';
import { defaultPodSpec } from '../protocol/resources/podspec.js';
import { writeIfChanged, readIfExists } from './fsutil.js';

const isMap = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What is wrong with one container's shape (`.field: rule`), or undefined; names must be unique DNS labels across the pod. */
function containerProblem(c: unknown, names: Set<string>): string | undefined {
  if (!isMap(c) || typeof c.name !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(c.name) || c.name.length > 63) return '.name: must be a DNS label';
  if (names.has(c.name)) return `.name: ${c.name} is not unique in the pod`;
  names.add(c.name);
  for (const k of ['command', 'args'] as const)
    if (c[k] !== undefined && (!Array.isArray(c[k]) || c[k].some((a: unknown) => typeof a !== 'string'))) return `.${k}: must be a list of strings`;
  for (const k of ['env', 'envFrom', 'ports', 'volumeMounts'] as const) if (c[k] !== undefined && (!Array.isArray(c[k]) || c[k].some((e: unknown) => !isMap(e)))) return `.${k}: must be a list of maps`;
  return undefined;
}

/** Checks a decoded payload is a DesiredMessage the agent can act on and fills its pods' defaults; returns the first problem, or the message. */
export function checkDesired(v: unknown): { ok: true; desired: DesiredMessage } | { ok: false; error: string } {
  const bad = (error: string) => ({ ok: false as const, error });
  if (!isMap(v)) return bad('not a map');
  if (!Number.isSafeInteger(v.generation) || v.generation < 0) return bad(`generation: must be an integer ≥ 0, got ${JSON.stringify(v.generation)}`);
  if (!Array.isArray(v.pods)) return bad('pods: must be a list');
  const uids = new Set<string>();
  for (const [i, p] of (v.pods as unknown[]).entries()) {
    const f = `pods[${i}]`;
    if (!isMap(p) || !isMap(p.metadata) || !isMap(p.spec)) return bad(`${f}: must be a pod with metadata and spec`);
    if (typeof p.metadata.name !== 'string' || !p.metadata.name) return bad(`${f}.metadata.name: required`);
    if (typeof p.metadata.uid !== 'string' || !p.metadata.uid || /[/\\]|^\.\.?$/.test(p.metadata.uid)) return bad(`${f}.metadata.uid: must be a uid without slashes`);
    if (uids.has(p.metadata.uid)) return bad(`${f}.metadata.uid: duplicate ${p.metadata.uid}`);
    uids.add(p.metadata.uid);
    if (p.metadata.namespace !== undefined && typeof p.metadata.namespace !== 'string') return bad(`${f}.metadata.namespace: must be a string`);
    if (!Array.isArray(p.spec.containers) || p.spec.containers.length === 0) return bad(`${f}.spec.containers: must be a non-empty list`);
    if (p.spec.initContainers !== undefined && !Array.isArray(p.spec.initContainers)) return bad(`${f}.spec.initContainers: must be a list`);
    const names = new Set<string>();
    for (const list of ['initContainers', 'containers'] as const)
      for (const [j, c] of ((p.spec[list] ?? []) as unknown[]).entries()) {
        const problem = containerProblem(c, names);
        if (problem) return bad(`${f}.spec.${list}[${j}]${problem}`);
      }
    const g = p.spec.terminationGracePeriodSeconds;
    if (g !== undefined && (typeof g !== 'number' || !(g >= 0))) return bad(`${f}.spec.terminationGracePeriodSeconds: must be a number ≥ 0`);
    if (p.spec.restartPolicy !== undefined && !['Always', 'OnFailure', 'Never'].includes(p.spec.restartPolicy)) return bad(`${f}.spec.restartPolicy: must be Always, OnFailure or Never`);
  }
  for (const k of ['configMaps', 'secrets', 'services'] as const) if (v[k] !== undefined && !isMap(v[k])) return bad(`${k}: must be a map`);
  if (v.volumes !== undefined) {
    if (!isMap(v.volumes)) return bad('volumes: must be a map');
    for (const [k, cv] of Object.entries(v.volumes))
      if (!isMap(cv) || typeof cv.volume !== 'string' || typeof cv.path !== 'string' || !cv.path.startsWith('/') || !['DirectoryOrCreate', 'Directory'].includes(cv.type))
        return bad(`volumes[${k}]: must be {volume, path (absolute), type DirectoryOrCreate|Directory}`);
  }
  for (const k of ['keepLogs', 'terminating'] as const)
    if (v[k] !== undefined && (!Array.isArray(v[k]) || v[k].some((u: unknown) => typeof u !== 'string' || /[/\\]|^\.\.?$/.test(u))))
      return bad(`${k}: must be a list of uids without slashes`);
  // The Pod kind's defaults (restartPolicy, grace period, port protocol), once here: a set from an older
  // master, or this agent's cache written before a default existed, runs as if defaulted.
  for (const p of v.pods as DesiredMessage['pods']) defaultPodSpec(p.spec);
  return { ok: true, desired: v as DesiredMessage };
}

/** Writes the cache atomically (tmp + fsync + rename), unless it holds this very set already (a retained replay). */
export async function saveDesired(file: string, d: DesiredMessage): Promise<void> {
  await writeIfChanged(file, encode(d), 0o600);
}

/** Loads the cache; undefined when there is none, throws with the reason when it is unreadable. */
export async function loadDesired(file: string): Promise<DesiredMessage | undefined> {
  const buf = await readIfExists(file);
  if (!buf) return undefined;
  const checked = checkDesired(decodeObject(buf).value);
  if (!checked.ok) throw new Error(`${file}: ${checked.error}`);
  return checked.desired;
}

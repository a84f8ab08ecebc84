/**
 * The files of a configMap or secret volume (core/v1 ConfigMapVolumeSource, SecretVolumeSource): every key
 * as a file named after it, or only the listed `items` (key → path). ConfigMap files are 0644; Secret files
 * are decoded from base64 and 0600, since process pods share the host and its other users.
 */
import { SkiffError } from '../../protocol/errors.js';
import type { DesiredMessage } from '../../protocol/messages.js';
import type { KObject, Volume } from '../../protocol/types.js';
import type { ProjectedFile } from './atomic.js';

/** File modes: ConfigMap like Kubernetes' defaultMode 0644; Secret tighter than Kubernetes' 0644 (host-shared). */
export const configMapMode = 0o644;
export const secretMode = 0o600;

/** Every key of a ConfigMap or Secret as bytes. */
function keysOf(kind: 'configmap' | 'secret', obj: KObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const data = (obj.data as Record<string, string> | undefined) ?? {};
  if (kind === 'configmap') {
    for (const [k, v] of Object.entries(data)) out.set(k, Buffer.from(String(v), 'utf8'));
    for (const [k, v] of Object.entries((obj.binaryData as Record<string, string>) ?? {})) out.set(k, Buffer.from(String(v), 'base64'));
  } else {
    for (const [k, v] of Object.entries(data)) out.set(k, Buffer.from(String(v), 'base64'));
    for (const [k, v] of Object.entries((obj.stringData as Record<string, string>) ?? {})) out.set(k, Buffer.from(String(v), 'utf8'));
  }
  return out;
}

/**
 * The files of a configMap/secret volume from the desired message, or undefined for other volume types.
 * A missing object (or a missing item key) throws SKIFF_ERR_NOT_FOUND unless the source is optional, in
 * which case it projects what there is (Kubernetes: an optional missing source is an empty volume).
 */
export function projectedFiles(v: Volume, namespace: string, desired: Pick<DesiredMessage, 'configMaps' | 'secrets'>): ProjectedFile[] | undefined {
  const src = v.configMap ?? v.secret;
  if (!src) return undefined;
  const kind = v.configMap ? 'configmap' : 'secret';
  const name = v.configMap ? v.configMap.name : v.secret!.secretName;
  const obj = (kind === 'configmap' ? desired.configMaps : desired.secrets)?.[`${namespace}/${name}`];
  const mode = kind === 'configmap' ? configMapMode : secretMode;
  if (!obj) {
    if (src.optional) return [];
    throw new SkiffError('SKIFF_ERR_NOT_FOUND', `volume "${v.name}": ${kind} "${name}" not found`);
  }
  const keys = keysOf(kind, obj);
  if (!src.items?.length) return [...keys].map(([k, data]) => ({ path: k, data, mode }));
  const out: ProjectedFile[] = [];
  for (const item of src.items) {
    const data = keys.get(item.key);
    if (data) out.push({ path: item.path, data, mode });
    else if (!src.optional) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `volume "${v.name}": key "${item.key}" not found in ${kind} "${name}"`);
  }
  return out;
}

/** A stable fingerprint of projected files, to skip rewriting a volume whose content did not change. */
export function fingerprint(files: ProjectedFile[]): string {
  return JSON.stringify(files.map((f) => [f.path, f.mode, f.data.toString('base64')]).sort());
}

/**
 * Images before a container starts, as the kubelet's image manager: the pull policy decides (Never: the image
 * must be there; IfNotPresent: pull when missing; Always: pull every time), a pull reports progress and ends
 * in the kubelet's events — `Pulling`, `Pulled` (with the time taken and the image size), `Failed` — and a
 * failure is a PullError `ErrImagePull` (or `ErrImageNeverPull`), which the pod's pull step (pods/pull.ts) turns
 * into `ImagePullBackOff` with Kubernetes' back-off (10 s doubling to 300 s). Credentials come from the pod's
 * `kubernetes.io/dockerconfigjson` imagePullSecrets (pods/oci.ts registryAuths), matched by registry host.
 */
import { parseImageRef, registryOf, type PullPolicy } from '../../../protocol/image.js';
import { PullError, type EventFn } from '../types.js';
import { engineMessage, hasImage, type Engine } from './engine.js';
import type { RegistryAuths } from './types.js';

/** The reference as pulled: a tag is added when there is neither tag nor digest (else the engine pulls every tag). */
export function pullRef(image: string): string {
  const r = parseImageRef(image);
  if (!r) return image;
  if (r.digest) return `${r.repository}${r.tag && r.tag !== 'latest' ? `:${r.tag}` : ''}@${r.digest}`;
  return `${r.repository}:${r.tag}`;
}

/** The credentials for an image's registry, in the engine's X-Registry-Auth shape; undefined without any. */
export function authFor(image: string, auths: RegistryAuths): Record<string, string> | undefined {
  const registry = registryOf(image);
  for (const [key, a] of Object.entries(auths)) {
    if (normalizeRegistry(key) !== registry || !a) continue;
    let { username, password } = a;
    if ((!username || !password) && a.auth) {
      const plain = Buffer.from(a.auth, 'base64').toString('utf8');
      const i = plain.indexOf(':');
      if (i > 0) [username, password] = [plain.slice(0, i), plain.slice(i + 1)];
    }
    if (a.identitytoken) return { identitytoken: a.identitytoken, serveraddress: registry };
    if (username && password) return { username, password, serveraddress: registry };
  }
  return undefined;
}

/** `https://index.docker.io/v1/` → `docker.io`; `registry.local:5000` as is (dockerconfigjson keys vary). */
export function normalizeRegistry(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, '').split('/')[0];
  return ['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'].includes(host) ? 'docker.io' : host;
}

/** Pull progress: `12.3 MB / 45.0 MB` over the layers that reported sizes. */
function progressText(layers: Map<string, { current: number; total: number }>): string {
  let current = 0;
  let total = 0;
  for (const l of layers.values()) {
    current += l.current;
    total += l.total;
  }
  return total > 0 ? `${(current / 1e6).toFixed(1)} MB / ${(total / 1e6).toFixed(1)} MB` : '';
}

/** Pulls one image, following the engine's progress stream; rejects with the engine's message. */
async function pull(e: Engine, ref: string, auth: Record<string, string> | undefined, progress: (text: string) => void): Promise<void> {
  const stream = await e.docker.createImage(auth ?? {}, { fromImage: ref });
  const layers = new Map<string, { current: number; total: number }>();
  await new Promise<void>((resolve, reject) => {
    e.docker.modem.followProgress(
      stream,
      (err: Error | null, out: { error?: string }[]) => {
        const failed = err?.message ?? out?.find((o) => o?.error)?.error;
        if (failed) reject(new Error(failed));
        else resolve();
      },
      (ev: { id?: string; progressDetail?: { current?: number; total?: number } }) => {
        const d = ev?.progressDetail;
        if (ev?.id && d && typeof d.total === 'number' && d.total > 0) {
          layers.set(ev.id, { current: d.current ?? 0, total: d.total });
          progress(progressText(layers));
        }
      },
    );
  });
}

/** What one pull needs: the image, its pull policy, the registry credentials, where events and progress go. */
export interface ImageRequest {
  image: string;
  policy: PullPolicy;
  auths: RegistryAuths;
  event: EventFn;
  progress?: (text: string) => void;
}

/**
 * Makes sure `r.image` is there by its pull policy and returns the reference the engine knows it by; throws a
 * PullError: ErrImageNeverPull (Never, and it is missing) or ErrImagePull with the engine's reason.
 */
export async function ensureImage(e: Engine, r: ImageRequest): Promise<string> {
  const ref = pullRef(r.image);
  const present = await hasImage(e, ref).catch(() => false);
  if (r.policy === 'Never') {
    if (present) return ref;
    const message = `Container image "${r.image}" is not present with pull policy of Never`;
    r.event('Warning', 'ErrImageNeverPull', message);
    throw new PullError('ErrImageNeverPull', message);
  }
  if (r.policy === 'IfNotPresent' && present) {
    r.event('Normal', 'Pulled', `Container image "${r.image}" already present on machine`);
    return ref;
  }
  r.event('Normal', 'Pulling', `Pulling image "${r.image}"`);
  const t0 = Date.now();
  try {
    await pull(e, ref, authFor(r.image, r.auths), r.progress ?? (() => {}));
  } catch (err) {
    const message = `Failed to pull image "${r.image}": ${engineMessage(err)}`;
    r.event('Warning', 'Failed', message);
    throw new PullError('ErrImagePull', message);
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(3);
  const size = await e.docker.getImage(ref).inspect().then((i) => i.Size, () => undefined);
  r.event('Normal', 'Pulled', `Successfully pulled image "${r.image}" in ${secs}s (${secs}s including waiting)${size !== undefined ? `. Image size: ${size} bytes.` : ''}`);
  return ref;
}

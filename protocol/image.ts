/**
 * OCI image references as Kubernetes reads them (`[registry/]repository[:tag][@digest]`), and the
 * `imagePullPolicy` default it derives from them (core/v1 SetDefaults_Container): `Always` when the tag is
 * `latest` — which is also what a reference without tag and digest means — otherwise `IfNotPresent`.
 */

/** The pull policies a container may name. */
export const pullPolicies = ['Always', 'IfNotPresent', 'Never'] as const;

/** One of pullPolicies. */
export type PullPolicy = (typeof pullPolicies)[number];

/** The parts of an image reference. */
export interface ImageRef {
  /** Everything before the tag and digest: `registry:5000/team/app`, `busybox`. */
  repository: string;
  /** The tag; `latest` when the reference has neither tag nor digest (Docker's and Kubernetes' reading). */
  tag?: string;
  /** `sha256:<hex>` when the reference pins a digest. */
  digest?: string;
}

/** A reference of at most 4096 characters, no whitespace or control characters (what engines accept at all). */
const plausible = /^[^\s\u0000-\u001f\u007f]{1,4096}$/;

/** Splits an image reference; undefined when it cannot be one (empty, whitespace, a bad digest or tag). */
export function parseImageRef(ref: string): ImageRef | undefined {
  if (typeof ref !== 'string' || !plausible.test(ref)) return undefined;
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/.test(digest)) return undefined;
  }
  // A colon after the last slash starts the tag; one before it is a registry port (`host:5000/app`).
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  let tag: string | undefined;
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) return undefined;
  }
  if (!rest || rest.startsWith('/') || rest.endsWith('/') || rest.includes('//')) return undefined;
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { repository: rest, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** Kubernetes' default imagePullPolicy for an image: Always for `:latest` (or no tag and no digest), else IfNotPresent. */
export function defaultPullPolicy(image: string): PullPolicy {
  return parseImageRef(image)?.tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** The registry host of a reference, as Docker resolves it: the first component when it looks like a host, else docker.io. */
export function registryOf(image: string): string {
  const repo = parseImageRef(image)?.repository ?? image;
  const first = repo.split('/')[0];
  const isHost = repo.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return isHost ? first : 'docker.io';
}

/** Image references and pull policies (protocol/image.ts), pod defaults and checks, registry credentials. */
import { describe, expect, it } from 'vitest';
import { applyDefaults, defaultPullPolicy, normalizeObject, parseImageRef, registryOf, type Pod } from '../../protocol/index.js';
import { authFor, normalizeRegistry, pullRef } from '../../edge-agent/drivers/container/images.js';
import { registryAuths } from '../../edge-agent/pods/oci.js';

describe('image references', () => {
  it.each([
    ['busybox', { repository: 'busybox', tag: 'latest' }],
    ['busybox:1.36', { repository: 'busybox', tag: '1.36' }],
    ['registry.local:5000/team/app', { repository: 'registry.local:5000/team/app', tag: 'latest' }],
    ['registry.local:5000/team/app:v2', { repository: 'registry.local:5000/team/app', tag: 'v2' }],
    [`app@sha256:${'a'.repeat(64)}`, { repository: 'app', digest: `sha256:${'a'.repeat(64)}` }],
    [`app:v1@sha256:${'b'.repeat(64)}`, { repository: 'app', tag: 'v1', digest: `sha256:${'b'.repeat(64)}` }],
  ])('%s', (ref, want) => {
    expect(parseImageRef(ref)).toEqual(want);
  });

  it.each(['', ' busybox', 'bus box', 'app@sha256:short', 'app:', '/app', 'a//b', 'app:bad tag'])('refuses %j', (ref) => {
    expect(parseImageRef(ref)).toBeUndefined();
  });

  it.each([
    ['busybox', 'Always'],
    ['busybox:latest', 'Always'],
    ['host:5000/busybox', 'Always'],
    ['busybox:1.36', 'IfNotPresent'],
    [`busybox@sha256:${'c'.repeat(64)}`, 'IfNotPresent'],
  ])('default pull policy of %s: %s (Kubernetes SetDefaults_Container)', (image, want) => {
    expect(defaultPullPolicy(image)).toBe(want);
  });

  it.each([
    ['busybox', 'docker.io'],
    ['library/busybox', 'docker.io'],
    ['localhost/busybox:test', 'localhost'],
    ['registry.local:5000/app', 'registry.local:5000'],
    ['ghcr.io/org/app:1', 'ghcr.io'],
  ])('registry of %s: %s', (image, want) => {
    expect(registryOf(image)).toBe(want);
  });

  it('pulls by tag: a reference without one gets :latest (an engine would pull every tag)', () => {
    expect(pullRef('busybox')).toBe('busybox:latest');
    expect(pullRef('busybox:1')).toBe('busybox:1');
    expect(pullRef(`a@sha256:${'d'.repeat(64)}`)).toBe(`a@sha256:${'d'.repeat(64)}`);
  });
});

describe('pod defaults and checks for containers', () => {
  const pod = (containers: unknown[], extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers, ...extra } });

  it('defaults imagePullPolicy from the image for container pods, not for process or wasi pods', () => {
    const p = normalizeObject(pod([{ name: 'a', image: 'nginx' }, { name: 'b', image: 'nginx:1.27' }, { name: 'c', image: 'x', imagePullPolicy: 'Never' }])) as Pod;
    expect(p.spec.containers.map((c) => c.imagePullPolicy)).toEqual(['Always', 'IfNotPresent', 'Never']);
    const w = normalizeObject(pod([{ name: 'a', image: 'file:///m.wasm' }], { runtimeClassName: 'wasi' })) as Pod;
    expect(w.spec.containers[0].imagePullPolicy).toBeUndefined();
    // Defaulting is idempotent (applied again on every read).
    expect(applyDefaults(p).spec.containers[0].imagePullPolicy).toBe('Always');
  });

  it('refuses a bad pull policy and a bad image reference, naming the field', () => {
    expect(() => normalizeObject(pod([{ name: 'a', image: 'nginx', imagePullPolicy: 'Sometimes' }]))).toThrow(/Pod\/p: spec\.containers\[0\]\.imagePullPolicy: must be one of Always, IfNotPresent, Never/);
    expect(() => normalizeObject(pod([{ name: 'a', image: 'ng inx' }]))).toThrow(/spec\.containers\[0\]\.image: must be an image reference/);
  });
});

describe('registry credentials from imagePullSecrets', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const secret = (name: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type: 'kubernetes.io/dockerconfigjson', data });
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [], imagePullSecrets: [{ name: 'regcred' }, { name: 'missing' }, { name: 'broken' }] } } as unknown as Pod;

  it('reads dockerconfigjson auths; a missing or malformed secret gives none', () => {
    const cfg = { auths: { 'https://index.docker.io/v1/': { auth: b64('me:pw') }, 'registry.local:5000': { username: 'u', password: 'p' } } };
    const auths = registryAuths(pod, { 'default/regcred': secret('regcred', { '.dockerconfigjson': b64(JSON.stringify(cfg)) }), 'default/broken': secret('broken', { '.dockerconfigjson': b64('{not json') }) });
    expect(Object.keys(auths).sort()).toEqual(['https://index.docker.io/v1/', 'registry.local:5000']);
    expect(authFor('nginx:1', auths)).toEqual({ username: 'me', password: 'pw', serveraddress: 'docker.io' });
    expect(authFor('registry.local:5000/app:1', auths)).toEqual({ username: 'u', password: 'p', serveraddress: 'registry.local:5000' });
    expect(authFor('ghcr.io/x/y:1', auths)).toBeUndefined();
  });

  it.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['http://registry.local:5000/v2/', 'registry.local:5000'],
  ])('registry key %s is %s', (key, want) => {
    expect(normalizeRegistry(key)).toBe(want);
  });
});

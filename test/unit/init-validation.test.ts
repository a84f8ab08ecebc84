/** initContainers and WASI module images at apply time, and what a pod with init containers asks of a node. */
import { describe, expect, it } from 'vitest';
import { podRequests } from '../../master/scheduler/convert.js';
import { SkiffError, normalizeObject, type Pod } from '../../protocol/index.js';
import { parseModuleImage } from '../../protocol/wasi-image.js';
import { errorOf } from '../helpers/validation.js';

const pod = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'app', command: ['x'] }], ...spec } });
const HEX = 'a'.repeat(64);

describe('initContainers validation names the field and rule', () => {
  it.each([
    ['a name shared with an app container', pod({ initContainers: [{ name: 'app', command: ['y'] }] }), 'spec.containers[0].name', 'must be unique within the pod (init and app containers together)'],
    ['two init containers of one name', pod({ initContainers: [{ name: 'i', command: ['y'] }, { name: 'i', command: ['z'] }] }), 'spec.initContainers[1].name', 'must be unique'],
    ['a process init container without command', pod({ initContainers: [{ name: 'i' }] }), 'spec.initContainers[0].command', 'is required for a process container'],
    ['a probe on a regular init container', pod({ initContainers: [{ name: 'i', command: ['y'], readinessProbe: { exec: { command: ['true'] } } }] }), 'spec.initContainers[0].readinessProbe', 'may not be set on an init container without restartPolicy: Always'],
    ['restartPolicy on an app container', pod({ containers: [{ name: 'app', command: ['x'], restartPolicy: 'Always' }] }), 'spec.containers[0].restartPolicy', 'may only be set on an init container'],
    ['restartPolicy other than Always', pod({ initContainers: [{ name: 'i', command: ['y'], restartPolicy: 'OnFailure' }] }), 'spec.initContainers[0].restartPolicy', 'must be one of Always'],
    ['a bad init container name', pod({ initContainers: [{ name: 'Init_1', command: ['y'] }] }), 'spec.initContainers[0].name', 'must be a DNS label'],
    ['initContainers not a list', pod({ initContainers: { name: 'i' } }), 'spec.initContainers', 'must be a list'],
    ['a module URL without its digest', pod({ runtimeClassName: 'wasi', containers: [{ name: 'app', image: 'https://example.com/m.wasm' }] }), 'spec.containers[0].image', 'must end with its digest, #sha256='],
    ['a relative file module', pod({ runtimeClassName: 'wasi', containers: [{ name: 'app', image: 'file://m.wasm' }] }), 'spec.containers[0].image', 'absolute path'],
    ['a configmap module without key', pod({ runtimeClassName: 'wasi', containers: [{ name: 'app', image: 'configmap://mods' }] }), 'spec.containers[0].image', 'configmap://NAME/KEY'],
    ['an OCI image name for wasi', pod({ runtimeClassName: 'wasi', containers: [{ name: 'app', image: 'nginx:1.25' }] }), 'spec.containers[0].image', 'file:///path.wasm, https://'],
  ])('%s', (_what, raw, field, text) => {
    const err = errorOf(raw);
    expect(err).toBeInstanceOf(SkiffError);
    expect(err.details?.map((d) => d.field)).toContain(field);
    expect(err.message).toContain(text);
  });

  it('a sidecar may have probes and ports; regular init containers and sidecars are accepted', () => {
    const ok = normalizeObject(pod({ initContainers: [{ name: 'setup', command: ['y'] }, { name: 'proxy', command: ['z'], restartPolicy: 'Always', readinessProbe: { tcpSocket: { port: 80 } }, ports: [{ containerPort: 80 }] }] })) as Pod;
    expect(ok.spec.initContainers?.map((c) => c.name)).toEqual(['setup', 'proxy']);
    expect(ok.spec.initContainers?.[1].ports?.[0].protocol).toBe('TCP'); // defaulted like an app container's
  });
});

describe('WASI module images', () => {
  it.each([
    ['file:///opt/m.wasm', { kind: 'file', path: '/opt/m.wasm' }],
    [`https://host.example/m.wasm#sha256=${HEX}`, { kind: 'url', url: 'https://host.example/m.wasm', sha256: HEX }],
    [`http://127.0.0.1:8080/x/m.wasm#sha256=${HEX}`, { kind: 'url', url: 'http://127.0.0.1:8080/x/m.wasm', sha256: HEX }],
    ['configmap://mods/hello.wasm', { kind: 'configmap', name: 'mods', key: 'hello.wasm' }],
  ])('%s', (image, want) => expect(parseModuleImage(image)).toEqual(want));

  it.each([`https://h/m.wasm#sha256=${HEX.toUpperCase()}`, `https://h/m.wasm#sha256=${HEX.slice(1)}`, 'file:///a/../etc/passwd', 'configmap://Mods/k', 'configmap://mods/a/b', 'configmap://mods/..'])('refuses %s', (image) => {
    expect(parseModuleImage(image)).toHaveProperty('error');
  });
});

describe('what a pod with init containers asks of a node (PodRequests)', () => {
  const ct = (name: string, cpu: number, mem: number, sidecar = false) => ({ name, command: ['x'], resources: { requests: { cpu: `${cpu}m`, memory: `${mem}Mi` } }, ...(sidecar ? { restartPolicy: 'Always' as const } : {}) });
  const p = (containers: ReturnType<typeof ct>[], initContainers: ReturnType<typeof ct>[] = []) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers, initContainers } }) as unknown as Pod;
  const Mi = 2 ** 20;
  it.each([
    ['app containers only: their sum', p([ct('a', 100, 10), ct('b', 200, 20)]), [300, 30 * Mi]],
    ['a big init container: its own need wins', p([ct('a', 100, 10)], [ct('i', 1000, 5)]), [1000, 10 * Mi]],
    ['a sidecar adds to the app containers', p([ct('a', 100, 10)], [ct('s', 50, 40, true)]), [150, 50 * Mi]],
    ['an init container after a sidecar runs beside it', p([ct('a', 100, 10)], [ct('s', 50, 40, true), ct('i', 500, 5)]), [550, 50 * Mi]],
    ['an init container before the sidecar runs alone', p([ct('a', 100, 10)], [ct('i', 500, 5), ct('s', 50, 40, true)]), [500, 50 * Mi]],
  ])('%s', (_what, pod, [cpu, mem]) => {
    const [c, m] = podRequests(pod);
    expect([c, m]).toEqual([cpu, mem]);
  });
});

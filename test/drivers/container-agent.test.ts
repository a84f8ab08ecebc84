/**
 * Container pods through an in-process master and agent (the agent's engine: a private Podman in its own
 * network namespace, pods in their own network namespaces there; no skiff0 here — test/e2e/containers.test.ts
 * runs the agent inside the namespace for that): statuses as kubectl shows them, image pull policy and
 * ImagePullBackOff with its events, logs (the engine's copied into the pod's log files) and exec through the API,
 * OOMKilled, the runtime in the node status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../edge-agent/index.js';
import type { Node, Pod } from '../../protocol/index.js';
import { PassThrough } from 'node:stream';
import { podStatus } from '../../cli/format/pod-status.js';
import { main as cliMain } from '../../cli/main.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { startPodman, type Podman } from '../helpers/podman.js';
import { eventually } from '../helpers/wait.js';

let pm: Podman;
let c: TestCluster;
let agent: Agent;

const pod = (name: string, spec: Record<string, unknown>) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { terminationGracePeriodSeconds: 2, ...spec } });
const get = async (name: string) => (await c.pods()).find((p) => p.metadata.name === name);
const statusOf = async (name: string) => {
  const p = await get(name);
  return p ? podStatus(p) : undefined;
};

beforeAll(async () => {
  pm = await startPodman();
  c = await startCluster([]);
  agent = await c.addAgent('cpod', undefined, { containerEndpoint: pm.endpoint, podNetwork: 'bridge', podServices: false, imagePullBackoff: { initialMs: 1000, maxMs: 2000 } });
}, 90_000);

afterAll(async () => {
  await c?.stop();
  await pm?.stop();
}, 60_000);

describe('container pods in a cluster', () => {
  it('the node advertises the container runtime and its engine version', async () => {
    const n = (await c.nodes()).find((x) => x.metadata.name === 'cpod') as Node;
    expect(n.status?.nodeInfo?.runtimes).toEqual(['process', 'wasi', 'container']);
    expect(n.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^podman:\/\/4\.\d+\.\d+$/);
  });

  it('a pod runs its image, with the default pull policy, logs and exec through the API', async () => {
    await c.apply(pod('hello', { containers: [{ name: 'main', image: pm.images.busybox, command: ['sh', '-c', 'echo started as $(hostname); exec sleep 300'] }] }));
    await eventually(async () => (await get('hello'))?.status?.phase === 'Running', 'hello Running', 30_000);
    const p = (await get('hello')) as Pod;
    expect(p.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(p.status?.podIP).toMatch(/^10\.88\./);
    await eventually(async () => (await c.api.request<string>('logs', { name: 'hello' })) === 'started as hello\n', 'the log line');
    const chunks: string[] = [];
    let res: unknown;
    await c.api.stream('exec', { name: 'hello', command: ['sh', '-c', 'echo in the container: $(cat /etc/hostname)'] }, (m) => (m.chunk ? chunks.push(m.chunk) : m.result && (res = m.result)));
    expect(chunks.join('')).toBe('in the container: hello\n');
    expect(res).toMatchObject({ exitCode: 0 });
    const describe = await c.api.request<{ events: { reason: string; message: string }[] }>('describe', { kind: 'Pod', name: 'hello' });
    expect(describe.events.map((e) => `${e.reason}: ${e.message}`)).toContain(`Pulled: Container image "${pm.images.busybox}" already present on machine`);
  });

  it('exec -it: a shell in the container with a terminal of the client\'s size, keys in, bytes out, its exit code', async () => {
    const input = new PassThrough();
    const out: Buffer[] = [];
    let raw = false;
    const terminal = (inp: PassThrough, isTTY: boolean, onOut: (b: Uint8Array) => void, onErr: (b: Uint8Array) => void) => ({
      input: inp,
      isTTY,
      setRawMode: (on: boolean) => void (raw = on),
      size: () => ({ rows: 33, cols: 101 }),
      onResize: () => () => {},
      write: (b: Uint8Array, done: () => void) => (onOut(b), done()),
      writeErr: (b: Uint8Array) => onErr(b),
    });
    const io = {
      stdout: (t: string) => out.push(Buffer.from(t)),
      stderr: (t: string) => out.push(Buffer.from(t)),
      readStdin: async () => '',
      env: {},
      terminal: terminal(input, true, (b) => out.push(Buffer.from(b)), (b) => out.push(Buffer.from(b))),
    };
    input.write('stty size; echo marker-$((6*7)); exit 5\n');
    const code = await cliMain(['--server', c.master.url, '--token', c.master.adminToken, 'exec', '-it', 'hello', '--', 'sh'], io);
    const text = Buffer.concat(out).toString();
    expect(code).toBe(5);
    expect(text).toContain('33 101\r\n');
    expect(text).toContain('marker-42\r\n');
    expect(raw).toBe(false); // restored
    // -i without a terminal: stdin piped in, output as it comes, stderr apart.
    const piped = new PassThrough();
    const lines: string[] = [];
    const io2 = { ...io, terminal: terminal(piped, false, (b) => lines.push(`out:${Buffer.from(b)}`), (b) => lines.push(`err:${Buffer.from(b)}`)) };
    piped.end('first\nsecond\n');
    const code2 = await cliMain(['--server', c.master.url, '--token', c.master.adminToken, 'exec', '-i', 'hello', '--', 'sh', '-c', 'cat; echo oops >&2'], io2);
    expect(code2, lines.join('')).toBe(0);
    expect(lines.filter((l) => l.startsWith('out:')).map((l) => l.slice(4)).join('')).toBe('first\nsecond\n');
    expect(lines).toContain('err:oops\n');
  });

  it('an image that cannot be pulled: ErrImagePull, then ImagePullBackOff, with the events kubectl shows', async () => {
    await c.apply(pod('nopull', { containers: [{ name: 'main', image: '127.0.0.1:9/skiff/nothing:1.0' }] }));
    await eventually(async () => (await statusOf('nopull')) === 'ErrImagePull', 'ErrImagePull', 20_000);
    await eventually(async () => (await statusOf('nopull')) === 'ImagePullBackOff', 'ImagePullBackOff', 20_000);
    const p = (await get('nopull')) as Pod;
    expect(p.status?.phase).toBe('Pending');
    // Events travel in their own batches (edge-agent/events.ts): they may land a moment after the status.
    const describe = await eventually(async () => {
      const d = await c.api.request<{ events: { reason: string; message: string }[] }>('describe', { kind: 'Pod', name: 'nopull' });
      const reasons = new Set(d.events.map((e) => e.reason));
      return ['Pulling', 'Failed', 'BackOff'].every((r) => reasons.has(r)) && d;
    }, 'Pulling, Failed and BackOff events', 10_000);
    // kubelet's two Failed events: the pull's reason, then the error the container waits with.
    const failed = describe.events.filter((e) => e.reason === 'Failed').map((e) => e.message);
    expect(failed).toContainEqual(expect.stringMatching(/^Failed to pull image "127\.0\.0\.1:9\/skiff\/nothing:1\.0": .*(refused|connect)/));
  });

  it('Never with an image that is not there: ErrImageNeverPull', async () => {
    await c.apply(pod('never', { containers: [{ name: 'main', image: 'localhost/not-here:1', imagePullPolicy: 'Never' }] }));
    await eventually(async () => (await statusOf('never')) === 'ErrImageNeverPull', 'ErrImageNeverPull', 20_000);
  });

  it('a container over its 32Mi memory limit ends OOMKilled (exit code 137)', async () => {
    await c.apply(pod('hog', { restartPolicy: 'Never', containers: [{ name: 'main', image: pm.images.busybox, command: ['sh', '-c', 'sleep 0.3; exec dd if=/dev/zero of=/dev/null bs=64M count=1'], resources: { limits: { memory: '32Mi' } } }] }));
    await eventually(async () => (await get('hog'))?.status?.phase === 'Failed', 'hog Failed', 30_000);
    const p = (await get('hog')) as Pod;
    expect(p.status?.containerStatuses?.[0].state.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    expect(podStatus(p)).toBe('OOMKilled');
  });

  it('logs -f of a running container streams its lines as they come from the engine, and ends when it does', async () => {
    await c.apply(pod('ticker', { restartPolicy: 'Never', containers: [{ name: 'main', image: pm.images.busybox, command: ['sh', '-c', 'echo a; sleep 1; echo b; sleep 1; echo c'] }] }));
    await eventually(async () => (await get('ticker'))?.status?.phase === 'Running', 'ticker Running', 30_000);
    const chunks: string[] = [];
    let done = false;
    await c.api.stream('logs', { name: 'ticker', follow: true, timestamps: true }, (m) => {
      if (m.chunk) chunks.push(m.chunk);
      if (m.done) done = true;
    });
    expect(done).toBe(true);
    const lines = chunks.join('').split('\n').filter(Boolean);
    expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual(['a', 'b', 'c']);
    // Dated by the engine, so b is a second after a, to the millisecond (not to the keeper's one-second samples).
    const [ta, tb] = lines.map((l) => Date.parse(l.split(' ')[0]));
    expect(tb - ta).toBeGreaterThanOrEqual(950);
    expect(tb - ta).toBeLessThan(1500);
  });

  it('an ended attempt is copied in the pod log dir: --previous, and the log of a finished pod, read like a process pod\'s', async () => {
    await c.apply(pod('crash', { containers: [{ name: 'main', image: pm.images.busybox, command: ['sh', '-c', 'echo run $(cat /proc/uptime | cut -d" " -f1); exit 1'] }] }));
    await eventually(async () => ((await get('crash'))?.status?.containerStatuses?.[0].restartCount ?? 0) >= 1, 'crash restarted', 30_000);
    const prev = await c.api.request<string>('logs', { name: 'crash', previous: true });
    expect(prev).toMatch(/^run \d+\.\d+\n$/);
    const stamped = await c.api.request<string>('logs', { name: 'crash', previous: true, timestamps: true });
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z run /);
    await c.apply(pod('once', { restartPolicy: 'Never', containers: [{ name: 'main', image: pm.images.busybox, command: ['sh', '-c', 'echo bye'] }] }));
    await eventually(async () => (await get('once'))?.status?.phase === 'Succeeded', 'once Succeeded', 30_000);
    await eventually(async () => (await c.api.request<string>('logs', { name: 'once' })) === 'bye\n', 'the finished pod\'s log', 10_000);
    await c.api.request('delete', { kind: 'Pod', name: 'crash' });
  });

  it('a deleted pod takes its containers and sandbox with it', async () => {
    const uid = (await get('hello'))?.metadata.uid;
    await c.api.request('delete', { kind: 'Pod', name: 'hello' });
    await eventually(async () => !(await get('hello')), 'hello gone', 20_000);
    await eventually(async () => (await pm.cli('ps', '-a', '--filter', `label=io.skiff.pod.uid=${uid}`, '-q')).trim() === '', 'no container of hello left');
    expect(agent.podReports().some((r) => r.uid === uid)).toBe(false);
  });
});

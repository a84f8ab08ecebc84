/**
 * `skiff port-forward` carries TCP over MQTT: the CLI's local port → the master → the agent of another
 * node → the pod. HTTP requests to a pod on the second agent, several at once, large bodies both ways
 * (the credit windows of protocol/flow.ts at work), a Service's port mapped to its targetPort, and a
 * refused connection reported without ending the forward.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxStreamsPerClient } from '../../master/api/handlers/channel.js';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';
import { cliFor, type CliOptions, type CliRun } from './cluster-cli.js';

const server = `
const http = require('node:http');
const crypto = require('node:crypto');
const big = Buffer.alloc(4 << 20, 7);
http.createServer((req, res) => {
  if (req.url === '/big') return res.end(big);
  if (req.method === 'POST') {
    const h = crypto.createHash('sha256');
    let n = 0;
    req.on('data', (d) => { h.update(d); n += d.length; });
    return req.on('end', () => res.end(n + ' ' + h.digest('hex')));
  }
  res.end('hello from ' + process.env.HOSTNAME + ' on ' + process.env.NODE_NAME + ' ' + req.url);
}).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

const manifest = `apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  nodeSelector: {kubernetes.io/hostname: pi-2}
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      command: [node, -e, ${JSON.stringify(server)}]
      env: [{name: NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]
      ports: [{name: http, containerPort: 0}]
      readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
`;

function request(port: number, path: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: body ? 'POST' : 'GET', agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('skiff port-forward over MQTT', () => {
  let c: TestCluster;
  let cli: (args: string[], opts?: CliOptions) => Promise<CliRun>;

  /** Starts a port-forward in the background; resolves with the local port once it listens. */
  async function forward(args: string[]): Promise<{ port: number; stop(): Promise<CliRun> }> {
    const abort = new AbortController();
    let seen = '';
    const done = cli(['port-forward', ...args], { signal: abort.signal, onStdout: (all) => (seen = all) });
    const port = await eventually(() => Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(seen)?.[1] ?? 0), 'forwarding', 15_000);
    return { port, stop: () => (abort.abort(), done) };
  }

  beforeAll(async () => {
    c = await startCluster(['pi-1', 'pi-2']);
    cli = cliFor(c.master);
    await c.apply(manifest);
    await eventually(async () => (await c.pods('app=web')).find((p) => p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')), 'web Ready on pi-2');
  });
  afterAll(async () => c?.stop());

  it('carries HTTP requests to a pod on another agent: one, several at once, large bodies both ways', async () => {
    const f = await forward(['pod/web', '0:http']);
    const one = await request(f.port, '/first');
    expect(one.body.toString()).toBe('hello from web on pi-2 /first');
    const many = await Promise.all(Array.from({ length: 8 }, (_, i) => request(f.port, `/n${i}`)));
    expect(many.map((r) => r.body.toString())).toEqual(Array.from({ length: 8 }, (_, i) => `hello from web on pi-2 /n${i}`));
    const big = await request(f.port, '/big');
    expect(big.body.length).toBe(4 << 20);
    expect(big.body.every((b) => b === 7)).toBe(true);
    const upload = randomBytes(3 << 20);
    const echoed = await request(f.port, '/upload', upload);
    expect(echoed.body.toString()).toBe(`${upload.length} ${createHash('sha256').update(upload).digest('hex')}`);
    const out = await f.stop();
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^Forwarding from 127\.0\.0\.1:\d+ -> http\n(Handling connection for \d+\n)+$/);
  });

  it('svc/NAME: a running pod of the service, its port mapped to the targetPort', async () => {
    const f = await forward(['svc/web', '0:80']);
    expect((await request(f.port, '/via-service')).body.toString()).toBe('hello from web on pi-2 /via-service');
    expect((await f.stop()).stdout).toMatch(/^Forwarding from 127\.0\.0\.1:\d+ -> 80\n/);
  });

  it('a client may hold at most 64 open streams; closing one makes room', async () => {
    const stop = new AbortController();
    const opened: Promise<void>[] = [];
    let ready = 0;
    for (let i = 0; i < maxStreamsPerClient; i++)
      opened.push(c.api.stream('portforward', { name: 'web', namespace: 'default', port: 'http' }, (res) => res.ack === 0 && ready++, stop.signal).catch(() => undefined));
    await eventually(() => ready === maxStreamsPerClient, 'every stream open');
    await expect(c.api.request('portforward', { name: 'web', namespace: 'default', port: 'http' })).rejects.toThrow('too many open port-forward and cp streams (64 per client)');
    stop.abort();
    await Promise.all(opened);
    const again = new AbortController();
    let up = false;
    const one = c.api.stream('portforward', { name: 'web', namespace: 'default', port: 'http' }, (res) => void (up ||= res.ack === 0), again.signal);
    await eventually(() => up, 'a new stream once the others closed');
    again.abort();
    await one;
  });

  it('a refused connection is reported and the forward goes on; bad arguments exit 1', async () => {
    const f = await forward(['pod/web', '0:1']);
    await expect(request(f.port, '/')).rejects.toThrow();
    const out = await f.stop();
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('error forwarding port 1 to pod default/web: connection refused');
    expect(await cli(['port-forward', 'pod/web'])).toMatchObject({ code: 1, stderr: expect.stringContaining('at least one [LOCAL_PORT:]REMOTE_PORT') });
    expect(await cli(['port-forward', 'pod/web', '8080:99999'])).toMatchObject({ code: 1, stderr: expect.stringContaining('invalid port mapping "8080:99999"') });
    expect(await cli(['port-forward', 'pod/nope', '0:80'])).toMatchObject({ code: 1, stderr: 'error: pods "nope" not found in namespace "default"\n' });
  });
});

/** The three probe handlers against real sockets and processes on loopback: exec, httpGet (named ports), tcpSocket. */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFor } from '../../edge-agent/probes/handlers.js';
import type { ProbeTarget } from '../../edge-agent/probes/types.js';
import { checkWithTimeout } from '../../edge-agent/probes/worker.js';
import type { Probe } from '../../protocol/types.js';
import { alive, readText, tempDir, until } from './helpers.js';

describe('probe handlers', () => {
  let server: http.Server;
  let port: number;
  let closed: number;
  const seen: http.IncomingHttpHeaders[] = [];
  const target = (): ProbeTarget => ({
    containerName: 'main',
    host: '127.0.0.1',
    ports: [
      { containerName: 'main', name: 'http', port, protocol: 'TCP' },
      { containerName: 'other', name: 'admin', port, protocol: 'TCP' },
    ],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GREETING: 'hello' },
  });
  const run = (p: Probe, timeoutMs = 2000) => checkWithTimeout(checkFor(p, target()), timeoutMs);

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      const code = Number(req.url?.slice(1)) || 200;
      if (req.url === '/slow') return; // never answers
      res.writeHead(code, code === 302 ? { location: '/elsewhere' } : {}).end('body');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as net.AddressInfo).port;
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    closed = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it.each([
    ['200 by number', { httpGet: { port: 0, path: '/200' } }, true, undefined],
    ['302 counts as success', { httpGet: { port: 0, path: '/302' } }, true, undefined],
    ['399 is the last success', { httpGet: { port: 0, path: '/399' } }, true, undefined],
    ['500 fails with the status code', { httpGet: { port: 0, path: '/500' } }, false, 'HTTP probe failed with statuscode: 500'],
    ['404 fails', { httpGet: { port: 0, path: '/404' } }, false, 'statuscode: 404'],
    ['named port resolves to the allocated port', { httpGet: { port: 'http', path: '/204' } }, true, undefined],
    ['a port named by another container does not resolve', { httpGet: { port: 'admin', path: '/' } }, false, 'port "admin" is not a named TCP port of container "main"'],
    ['connection refused fails', { httpGet: { port: -1, path: '/' } }, false, 'ECONNREFUSED'],
    ['no answer fails at the timeout', { httpGet: { port: 0, path: '/slow' } }, false, 'probe timed out after 0.3s'],
  ] as [string, Probe, boolean, string | undefined][])('httpGet: %s', async (_name, p, ok, msg) => {
    const g = p.httpGet!;
    const probe = { httpGet: { ...g, port: g.port === 0 ? port : g.port === -1 ? closed : g.port } };
    const o = await run(probe, 300);
    expect(o.ok).toBe(ok);
    if (msg) expect(o.message).toContain(msg);
  });

  it('httpGet sends kube-probe User-Agent and the probe headers, over a fresh connection', async () => {
    seen.length = 0;
    await run({ httpGet: { port, path: 'headers', httpHeaders: [{ name: 'X-Custom', value: 'yes' }] } });
    expect(seen[0]).toMatchObject({ 'user-agent': 'kube-probe/skiff', 'x-custom': 'yes', connection: 'close' });
  });

  it.each([
    ['open port', () => port, true],
    ['closed port', () => closed, false],
    ['named port', () => 'http', true],
  ] as [string, () => number | string, boolean][])('tcpSocket: %s', async (_n, p, ok) => {
    expect((await run({ tcpSocket: { port: p() } })).ok).toBe(ok);
  });

  it.each([
    ['exit 0 passes, with the container env', ['/bin/sh', '-c', 'test "$GREETING" = hello'], true, undefined],
    ['exit 3 fails with the output', ['/bin/sh', '-c', 'echo not yet; exit 3'], false, 'exited with 3: not yet'],
    ['a missing command fails', ['/no/such/binary'], false, 'cannot run "/no/such/binary"'],
  ] as [string, string[], boolean, string | undefined][])('exec: %s', async (_n, command, ok, msg) => {
    const o = await run({ exec: { command } });
    expect(o.ok).toBe(ok);
    if (msg) expect(o.message).toContain(msg);
  });

  it('exec: a command past the timeout fails and is killed with what it forked', async () => {
    const dir = tempDir('skiff-probe-');
    const pidFile = path.join(dir, 'pid');
    const o = await run({ exec: { command: ['/bin/sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`] } }, 400);
    expect(o).toEqual({ ok: false, message: 'probe timed out after 0.4s' });
    const child = Number(await until(() => readText(pidFile), 'the sleep pid'));
    await until(() => !alive(child), 'the forked sleep killed', 3000);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

/**
 * The small rules behind the dashboard, the metrics and the CLI's progress: the progress helper on a
 * terminal and off one, the Event columns of `skiff get events`, the dashboard link, the file server's
 * caching/compression/CSP, topic classes, and the node history ring.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardBase, dashboardLink } from '../../cli/commands/dashboard.js';
import { columnsFor } from '../../cli/format/columns.js';
import { Progress } from '../../cli/progress.js';
import type { CliIO } from '../../cli/types.js';
import { contentSecurityPolicy, DashboardFiles } from '../../master/dashboard/server.js';
import { brokerObservers, topicClass } from '../../master/telemetry/broker.js';
import { Telemetry } from '../../master/telemetry/registry.js';
import { NodeHistory, slotMs } from '../../master/telemetry/history.js';
import { lanNames, type KObject } from '../../protocol/index.js';

function io(isTTY: boolean): CliIO & { out: string } {
  const o = { out: '', isTTY, env: {}, stdout: (s: string) => void (o.out += s), stderr() {}, readStdin: async () => '' };
  return o;
}

describe('progress', () => {
  it('off a terminal: each new status once, as plain lines, no control characters', () => {
    const x = io(false);
    const p = new Progress(x);
    p.update('Waiting: 0 of 3 updated');
    p.update('Waiting: 0 of 3 updated');
    p.note('evicting pod default/a');
    p.update('Waiting: 1 of 3 updated');
    p.done('successfully rolled out');
    expect(x.out).toBe('Waiting: 0 of 3 updated\nevicting pod default/a\nWaiting: 1 of 3 updated\nsuccessfully rolled out\n');
  });

  it('on a terminal: a live line redrawn in place, settled to the plain line when the status changes', () => {
    const x = io(true);
    const p = new Progress(x);
    p.update('one');
    p.update('two');
    p.done('done');
    expect(x.out).toMatch(/^\r\x1b\[K. one\r\x1b\[Kone\n\r\x1b\[K. two\r\x1b\[Ktwo\ndone\n$/);
    // What a terminal shows at the end, the escapes applied: the plain lines only.
    const screen = x.out.split('\n').map((l) => l.split('\r\x1b[K').at(-1));
    expect(screen).toEqual(['one', 'two', 'done', '']);
  });
});

describe('skiff get events columns', () => {
  const now = Date.parse('2026-12-01T10:10:00Z');
  const ev = {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'web-1.17f3', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{web}' }, type: 'Warning', reason: 'BackOff',
    message: 'Back-off restarting failed container web', count: 3, firstTimestamp: '2026-12-01T10:00:00Z', lastTimestamp: '2026-12-01T10:05:00Z',
    source: { component: 'skiff-agent', host: 'pi-1' },
  } as unknown as KObject;

  it('LAST SEEN TYPE REASON OBJECT MESSAGE, repeats as "(xN over AGE)"', () => {
    const c = columnsFor('Event');
    expect(c.headers).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(c.row(ev, now)).toEqual(['5m (x3 over 10m)', 'Warning', 'BackOff', 'pod/web-1', 'Back-off restarting failed container web']);
  });

  it('-A and -o wide', () => {
    const c = columnsFor('Event', { withNamespace: true, wide: true });
    expect(c.headers).toEqual(['NAMESPACE', 'LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE', 'SUBOBJECT', 'SOURCE', 'FIRST SEEN', 'COUNT', 'NAME']);
    expect(c.row({ ...ev, count: 1 } as KObject, now).slice(-5)).toEqual(['spec.containers{web}', 'skiff-agent, pi-1', '10m', '1', 'web-1.17f3']);
  });
});

describe('skiff dashboard link', () => {
  it.each([
    [undefined, undefined, 'mqtts://pi.local:8883', 'https://pi.local:8080/'],
    [undefined, 'http://127.0.0.1:9090/', 'mqtt://x:1', 'http://127.0.0.1:9090/'],
    ['https://edge.example:8443/', 'http://a:1/', 'mqtt://x:1', 'https://edge.example:8443/'],
  ])('--url %s, config %s, server %s → %s', (url, configured, server, want) => {
    expect(dashboardBase(url, configured, server)).toBe(want);
  });

  it('puts user and token in the fragment only', () => {
    const link = new URL(dashboardLink('http://pi.local:8080/', 'admin', 'a+b/c='));
    expect(link.search).toBe('');
    expect(new URLSearchParams(link.hash.slice(1)).get('token')).toBe('a+b/c=');
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => dashboardBase('ftp://x/', undefined, 'mqtt://x:1')).toThrow(/--url: must be an http\(s\) URL/);
  });
});

describe('the dashboard file server', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-dash-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Skiff</title>' + ' '.repeat(600));
    writeFileSync(join(dir, 'assets', 'app-ABCDEF12.js'), 'console.log(1);'.repeat(100));
    const files = new DashboardFiles(dir);
    server = createServer((req, res) => {
      if (!files.serve(req, res, (req.url ?? '/').split('?')[0])) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('serves hashed assets gzipped and cached for a year, index.html revalidated, both with a strict CSP', async () => {
    const get = (path: string, gzip = true) => new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
      import('node:http').then(({ get: g }) => g(`${base}${path}`, { headers: gzip ? { 'accept-encoding': 'gzip' } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject), reject);
    });
    const asset = await get('/assets/app-ABCDEF12.js');
    expect(asset.headers['content-encoding']).toBe('gzip');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(gunzipSync(asset.body).toString()).toBe('console.log(1);'.repeat(100));
    const plain = await get('/assets/app-ABCDEF12.js', false);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const index = await get('/');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self';.*connect-src 'self' ws:\/\/127\.0\.0\.1:\d+ wss:\/\/127\.0\.0\.1:\d+;.*frame-ancestors 'none'/);
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect((await get('/../../etc/passwd')).status).toBe(404);
  });

  it('puts only a plain host into the CSP', () => {
    expect(contentSecurityPolicy('evil" ; script-src *')).toContain("connect-src 'self';");
    expect(contentSecurityPolicy('[::1]:8080')).toContain('ws://[::1]:8080');
  });
});

describe('metrics helpers', () => {
  it.each([
    ['skiff/v1/nodes/pi-1/status', 'nodeStatus'],
    ['skiff/v1/api/dash-x/res', 'apiRes'],
    ['skiff/v1/services/default/web', 'service'],
    ['$SYS/broker/uptime', 'sys'],
    ['elsewhere/pi-1', 'other'],
  ])('topic class of %s is %s', (topic, cls) => {
    expect(topicClass(topic)).toBe(cls);
  });

  it('the broker counts by topic class in plain tallies, folded into the counters whenever they are read', async () => {
    const t = new Telemetry();
    const o = brokerObservers(t);
    for (let i = 0; i < 3; i++) o.onReceive('skiff/v1/nodes/pi-1/lease', 20);
    o.onDeliver('skiff/v1/nodes/pi-1/desired', 500);
    let text = await t.scrape();
    expect(text).toContain('skiff_broker_messages_received_total{topic_class="nodeLease"} 3');
    expect(text).toContain('skiff_broker_received_bytes_total{topic_class="nodeLease"} 60');
    expect(text).toContain('skiff_broker_messages_sent_total{topic_class="nodeDesired"} 1');
    expect(text).toContain('skiff_broker_sent_bytes_total{topic_class="nodeDesired"} 500');
    o.onReceive('skiff/v1/nodes/pi-2/lease', 22);
    o.onReceive('elsewhere/x', 5);
    // A metric read alone (not a whole scrape) sees the tallies too; counts add up across reads, never twice.
    const values = (await t.brokerReceived.get()).values.map((v) => [v.labels.topic_class, v.value]);
    expect(values).toEqual(expect.arrayContaining([['nodeLease', 4], ['other', 1]]));
    text = await t.scrape();
    expect(text).toContain('skiff_broker_received_bytes_total{topic_class="nodeLease"} 82');
    expect(text).toContain('skiff_broker_messages_sent_total{topic_class="nodeDesired"} 1');
  });

  it('keeps one hour of 15 s slots per node, the latest sample of a slot winning', () => {
    const h = new NodeHistory();
    const t = 1_700_000_000_000 - (1_700_000_000_000 % slotMs);
    h.record('pi', t, 100, 1);
    h.record('pi', t + 1000, 200, 2);
    for (let i = 1; i <= 300; i++) h.record('pi', t + i * slotMs, i, i);
    const s = h.series('pi', t + 300 * slotMs);
    expect(s).toHaveLength(240);
    expect(s[0].cpuMilli).toBe(61);
    expect(s.at(-1)).toEqual({ t: t + 300 * slotMs, cpuMilli: 300, memoryBytes: 300 });
    expect(h.series('other')).toEqual([]);
  });

  it('LAN names of a Service follow the announcer rules', () => {
    const ports = [{ name: 'http', port: 80, nodePort: 30080 }];
    expect(lanNames({ namespace: 'shop', name: 'web', type: 'NodePort', ports })).toEqual(['web.shop._skiff._tcp.local', 'web.shop._http._tcp.local']);
    expect(lanNames({ namespace: 'shop', name: 'web', type: 'ClusterIP', ports })).toEqual([]);
    expect(lanNames({ namespace: 'shop', name: 'web', type: 'NodePort', annotations: { 'skiff.io/mdns': 'false' }, ports })).toEqual([]);
  });
});

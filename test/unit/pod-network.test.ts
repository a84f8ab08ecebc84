/**
 * The pod network's pieces without interfaces: service address mirrors, the cluster zone's answers, the DNS
 * server over real UDP and TCP sockets on loopback (forwarding other names to a fake upstream).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import * as dns from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNames } from '../../edge-agent/net/cluster-dns.js';
import { ClusterDnsServer, upstreamsOf } from '../../edge-agent/net/dns-server.js';
import { clusterDnsIP, mirrorServiceIP } from '../../protocol/service-ips.js';
import { encode, type ServiceMessage } from '../../protocol/index.js';
import { quietLogger } from '../helpers/cluster.js';

const svc = (name: string, clusterIP: string | undefined, endpoints: string[] = []): ServiceMessage => ({
  namespace: 'default', name, type: 'ClusterIP', sessionAffinity: 'None', ...(clusterIP ? { clusterIP } : {}), ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
  endpoints: endpoints.map((address, i) => ({ address, node: 'n', pod: `p${i}`, ready: true, ports: { '': 8080 } })),
});

describe('service addresses for pods', () => {
  it.each([
    ['127.77.13.106', '10.43.0.0', '10.43.13.106'],
    ['127.77.0.1', '10.96.0.0', '10.96.0.1'],
    ['None', '10.43.0.0', undefined],
    [undefined, '10.43.0.0', undefined],
  ])('%s in %s → %s', (ip, range, want) => {
    expect(mirrorServiceIP(ip, range)).toBe(want);
  });
  it('the cluster DNS server is host .0.10 of the range', () => {
    expect(clusterDnsIP('10.43.0.0')).toBe('10.43.0.10');
  });
});

describe('cluster names', () => {
  const names = new ClusterNames('10.43.0.0');
  names.set('default', 'web', svc('web', '127.77.1.2'));
  names.set('default', 'db', svc('db', 'None', ['10.0.0.7', '10.0.0.8', '10.0.0.7']));
  names.handle('shop', 'cart', encode({ ...svc('cart', '127.77.3.4'), namespace: 'shop', name: 'cart' }));
  names.handle('shop', 'bad', encode({ ...svc('bad', '127.77.3.5'), namespace: 'other' })); // does not match its topic: ignored
  it.each([
    ['web.default.svc.cluster.local', 'A', { kind: 'records', addresses: ['10.43.1.2'] }],
    ['WEB.Default.SVC.cluster.local.', 'A', { kind: 'records', addresses: ['10.43.1.2'] }],
    ['web.default.svc.cluster.local', 'AAAA', { kind: 'records', addresses: [] }],
    ['db.default.svc.cluster.local', 'A', { kind: 'records', addresses: ['10.0.0.7', '10.0.0.8'] }],
    ['cart.shop.svc.cluster.local', 'A', { kind: 'records', addresses: ['10.43.3.4'] }],
    ['bad.shop.svc.cluster.local', 'A', { kind: 'nxdomain' }],
    ['web.default.default.svc.cluster.local', 'A', { kind: 'nxdomain' }],
    ['web.svc.cluster.local', 'A', { kind: 'records', addresses: [] }],
    ['nope.default.svc.cluster.local', 'A', { kind: 'nxdomain' }],
    ['example.org', 'A', { kind: 'upstream' }],
    ['cluster.local.example.org', 'A', { kind: 'upstream' }],
  ])('%s %s', (name, type, want) => {
    expect(names.answer(name, type)).toEqual(want);
  });
  it('forgets a deleted service', () => {
    const n = new ClusterNames('10.43.0.0');
    n.set('default', 'web', svc('web', '127.77.1.2'));
    n.handle('default', 'web', Buffer.alloc(0));
    expect(n.answer('web.default.svc.cluster.local', 'A')).toEqual({ kind: 'nxdomain' });
  });
  it('reads nameservers from resolv.conf', () => {
    expect(upstreamsOf('# x\nnameserver 10.0.0.1\nsearch lan\nnameserver ::1\nnameserver bogus\n')).toEqual(['10.0.0.1', '::1']);
  });
});

describe('the cluster DNS server', () => {
  let server: ClusterDnsServer;
  let upstream: dgram.Socket;
  beforeAll(async () => {
    // A fake node resolver: answers every A question with 192.0.2.1.
    upstream = dgram.createSocket('udp4');
    upstream.on('message', (m, r) => {
      const q = dns.decode(m);
      upstream.send(dns.encode({ id: q.id, type: 'response', flags: dns.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: 'A', name: q.questions![0].name, ttl: 60, data: '192.0.2.1' }] }), r.port, r.address);
    });
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
    const names = new ClusterNames('10.43.0.0');
    names.set('default', 'web', svc('web', '127.77.1.2'));
    server = new ClusterDnsServer(names, quietLogger, [{ address: '127.0.0.1', port: upstream.address().port }]);
    await server.listen('127.0.0.1', 0);
  });
  afterAll(async () => {
    await server.close();
    upstream.close();
  });

  const ask = (name: string, type: 'A' | 'AAAA' = 'A') =>
    new Promise<dns.DecodedPacket>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.on('message', (m) => {
        s.close();
        resolve(dns.decode(m));
      });
      s.send(dns.encode({ id: 4242, type: 'query', flags: dns.RECURSION_DESIRED, questions: [{ type, name }] }), server.port!, '127.0.0.1');
    });

  it('answers cluster names authoritatively, NXDOMAIN for unknown ones, forwards the rest', async () => {
    const a = await ask('web.default.svc.cluster.local');
    expect(a.id).toBe(4242);
    expect(a.answers).toMatchObject([{ type: 'A', name: 'web.default.svc.cluster.local', ttl: 5, data: '10.43.1.2' }]);
    expect((a.flags ?? 0) & dns.AUTHORITATIVE_ANSWER).toBeTruthy();
    const nx = await ask('web.default.default.svc.cluster.local');
    expect((nx as { rcode?: string }).rcode).toBe('NXDOMAIN');
    const fwd = await ask('example.org');
    expect(fwd.answers).toMatchObject([{ type: 'A', data: '192.0.2.1' }]);
  });

  it('answers over TCP too (two-byte length prefix)', async () => {
    const q = dns.encode({ id: 7, type: 'query', questions: [{ type: 'A', name: 'web.default.svc.cluster.local' }] });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(q.length);
    const reply = await new Promise<Buffer>((resolve) => {
      const s = net.connect(server.port!, '127.0.0.1', () => s.write(Buffer.concat([len, q])));
      let buf = Buffer.alloc(0);
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          s.destroy();
          resolve(buf.subarray(2));
        }
      });
    });
    expect(dns.decode(reply).answers).toMatchObject([{ data: '10.43.1.2' }]);
  });

  it('ignores garbage without answering or crashing', async () => {
    expect(await server.handle(Buffer.from('not dns'))).toBeUndefined();
    expect((await ask('web.default.svc.cluster.local')).answers?.length).toBe(1);
  });
});

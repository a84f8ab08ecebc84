/**
 * LAN discovery, without multicast: which node announces which DNS-SD instances for a Service message, and
 * how the announcer follows messages (publish, re-publish on change, goodbye on delete/handover/resync/stop).
 * The real mDNS path (avahi-browse in network namespaces) is test/e2e/lan.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { encode } from '../../protocol/codec.js';
import { nodeHostName } from '../../protocol/mdns.js';
import type { ServiceMessage } from '../../protocol/messages.js';
import { ServiceAnnouncer, type PublishFn } from '../../edge-agent/discovery/announcer.js';
import { masterUrlOf } from '../../edge-agent/discovery/master.js';
import { announcementsOf, announcerOf, instanceName } from '../../edge-agent/discovery/records.js';
import { parseArgs } from '../../edge-agent/main.js';
import { announceable } from '../../master/discovery/announce.js';

type Port = ServiceMessage['ports'][number];
const ep = (node: string, ready = true) => ({ address: `10.0.0.${node.length}`, node, pod: `web-${node}`, ready, ports: { http: 8080 } });
const svc = (over: Partial<ServiceMessage> = {}, ports: Port[] = [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }]): ServiceMessage => ({
  namespace: 'default',
  name: 'web',
  type: 'NodePort',
  sessionAffinity: 'None',
  ports,
  endpoints: [ep('pi-b'), ep('pi-a')],
  ...over,
});
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('discovery records', () => {
  it('picks the first node, by name, among ready endpoints', () => {
    expect(announcerOf(svc())).toBe('pi-a');
    expect(announcerOf(svc({ endpoints: [ep('pi-b'), ep('pi-a', false)] }))).toBe('pi-b');
    expect(announcerOf(svc({ endpoints: [] }))).toBeUndefined();
  });

  it.each([
    ['the announcer of a NodePort service', svc(), 'pi-a', ['skiff/web.default:30080', 'http/web.default:30080']],
    ['another node', svc(), 'pi-b', []],
    ['a ClusterIP service (its address is loopback on each node)', svc({ type: 'ClusterIP' }), 'pi-a', []],
    ['a LoadBalancer service', svc({ type: 'LoadBalancer' }), 'pi-a', ['skiff/web.default:30080', 'http/web.default:30080']],
    ['an opted-out service', svc({ annotations: { 'skiff.io/mdns': 'false' } }), 'pi-a', []],
    ['a service without ready endpoints', svc({ endpoints: [ep('pi-a', false)] }), 'pi-a', []],
    ['a port not named http', svc({}, [{ name: 'mqtt', port: 1883, protocol: 'TCP', targetPort: 1883, nodePort: 31883 }]), 'pi-a', ['skiff/web.default:31883']],
    ['a UDP-only service', svc({}, [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53, nodePort: 30053 }]), 'pi-a', []],
    ['a port without a nodePort yet', svc({}, [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }]), 'pi-a', []],
  ])('%s', (_what, msg, node, want) => {
    expect(announcementsOf(msg, node).map((a) => `${a.type}/${a.name}:${a.port}`)).toEqual(want);
  });

  it('carries namespace, name and the service port in TXT, every TCP port of a multi-port service, and path for http', () => {
    const [skiff, http] = announcementsOf(
      svc({}, [
        { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 9090, nodePort: 30090 },
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 },
      ]),
      'pi-a',
    );
    expect(skiff).toEqual({ type: 'skiff', name: 'web.default', port: 30090, txt: { namespace: 'default', name: 'web', port: '9090', ports: 'metrics=9090/30090,http=80/30080' } });
    expect(http).toEqual({ type: 'http', name: 'web.default', port: 30080, txt: { namespace: 'default', name: 'web', port: '80', path: '/' } });
  });

  it('names instances and hosts the way the wire allows', () => {
    expect(instanceName('shop', 'web')).toBe('web.shop');
    expect(nodeHostName('pi-a')).toBe('skiff-pi-a.local');
    expect(nodeHostName('pi.lan')).toBe('skiff-pi-lan.local');
  });
});

describe('ServiceAnnouncer', () => {
  function harness(node: string) {
    const live = new Set<string>();
    const log: string[] = [];
    const fake: PublishFn = (a, host) => {
      const id = `${a.type}/${a.name}@${host.host}:${a.port}`;
      live.add(id);
      log.push(`+${id}`);
      return { announcement: a, announced: Promise.resolve(a.name), stop: async () => void (live.delete(id), log.push(`-${id}`)) };
    };
    const announcer = new ServiceAnnouncer(node, { host: nodeHostName(node) }, quiet, fake);
    return { announcer, live, log, send: (m: ServiceMessage | undefined) => announcer.handle('default', 'web', m ? encode(m) : Buffer.alloc(0)) };
  }

  it('publishes, keeps unchanged instances, re-publishes a changed one and withdraws on delete', async () => {
    const h = harness('pi-a');
    await h.send(svc());
    expect([...h.live].sort()).toEqual(['http/web.default@skiff-pi-a.local:30080', 'skiff/web.default@skiff-pi-a.local:30080']);
    await h.send(svc());
    expect(h.log).toHaveLength(2);
    await h.send(svc({}, [{ name: 'http', port: 81, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }]));
    expect(h.log.filter((l) => l.startsWith('-'))).toHaveLength(2);
    expect(h.live.size).toBe(2);
    await h.send(undefined);
    expect(h.live.size).toBe(0);
    expect(h.announcer.instances()).toEqual([]);
  });

  it('hands over: the old announcer withdraws when its endpoints go, the next node takes over', async () => {
    const a = harness('pi-a');
    const b = harness('pi-b');
    for (const x of [a, b]) await x.send(svc());
    expect(a.live.size).toBe(2);
    expect(b.live.size).toBe(0);
    const moved = svc({ endpoints: [ep('pi-b'), ep('pi-a', false)] });
    for (const x of [a, b]) await x.send(moved);
    expect(a.live.size).toBe(0);
    expect(b.announcer.instances()).toEqual(['http/web.default', 'skiff/web.default']);
  });

  it('withdraws services deleted while disconnected (resync) and everything on close; ignores garbage', async () => {
    const h = harness('pi-a');
    await h.send(svc());
    await h.announcer.handle('default', 'web', Buffer.from('not msgpack at all'));
    expect(h.live.size).toBe(2);
    h.announcer.beginResync();
    await h.announcer.endResync();
    expect(h.live.size).toBe(0);
    await h.send(svc());
    await h.announcer.close();
    expect(h.live.size).toBe(0);
    await h.send(svc());
    expect(h.live.size).toBe(0);
  });
});

describe('joining without --master', () => {
  it('parses join without --master (the agent browses for one), with a discovery timeout', () => {
    const r = parseArgs(['join', '--token', 't', '--discovery-timeout', '3s']);
    expect(r).toEqual({ cmd: 'join', options: { token: 't', discoveryTimeoutMs: 3000 } });
    expect(() => parseArgs(['join', '--discovery-timeout', 'soon'])).toThrow(/--discovery-timeout must be a duration/);
    expect(() => parseArgs(['join', '--master', 'http://x'])).toThrow(/--master must look like mqtt:\/\/HOST:PORT/);
  });

  it('turns a _skiff-master._tcp answer into an MQTT URL', () => {
    expect(masterUrlOf({ addresses: ['fe80::1', '10.1.2.3'], port: 1883, txt: { role: 'master' } })).toBe('mqtt://10.1.2.3:1883');
    expect(masterUrlOf({ addresses: [], port: 8883, referer: { address: '10.9.9.9', family: 'IPv4', port: 5353, size: 1 }, txt: { tls: 'true' } })).toBe('mqtts://10.9.9.9:8883');
    expect(masterUrlOf({ addresses: ['fe80::1'], port: 1883 })).toBeUndefined();
  });

  it('announces the master only when it is reachable from the LAN', () => {
    expect(announceable('0.0.0.0')).toBe(true);
    expect(announceable('10.1.2.3')).toBe(true);
    expect(announceable('127.0.0.1')).toBe(false);
  });
});

describe('dots inside instance labels (RFC 6763 §4.3)', () => {
  it('go on the wire as one label and come back the same', async () => {
    const { createRequire } = await import('node:module');
    const { LABEL_DOT, installLabelDots } = await import('../../edge-agent/discovery/dns-names.js');
    installLabelDots();
    const req = createRequire(createRequire(createRequire(import.meta.url).resolve('bonjour-service')).resolve('multicast-dns'));
    const packet = req('dns-packet');
    const fqdn = `echo${LABEL_DOT}default._skiff._tcp.local`;
    const wire: Buffer = packet.encode({ type: 'response', answers: [{ type: 'PTR', name: '_skiff._tcp.local', data: fqdn }] });
    // The instance is one 12-byte label `echo.default`, followed by `_skiff`.
    const at = wire.indexOf(Buffer.from('echo.default'));
    expect(at).toBeGreaterThan(0);
    expect(wire[at - 1]).toBe(12);
    expect(wire.subarray(at + 12, at + 19).toString('latin1')).toBe('\u0006_skiff');
    const back = packet.decode(wire);
    expect(back.answers[0].data).toBe(fqdn);
    // Plain names are untouched.
    const plain: Buffer = packet.encode({ type: 'query', questions: [{ type: 'PTR', name: '_http._tcp.local' }] });
    expect(packet.decode(plain).questions[0].name).toBe('_http._tcp.local');
  });
});

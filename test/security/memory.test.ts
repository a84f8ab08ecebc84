/**
 * Issue 9, item 8: unauthenticated memory exhaustion. A CONNECT announcing 268,435,455 bytes was buffered before
 * authentication — four sockets took the master to 1.1 GB, never released. Replayed against a real master (in this
 * process, so its RSS is ours to watch): four raw sockets announce the maximum and stream junk; the master closes
 * each after its first bytes and its RSS stays bounded. After authentication a packet is bounded by what the
 * identity may publish; unauthenticated connections are bounded per source.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from '../../cli/types.js';
import type { Master } from '../../master/index.js';
import { FrameGuard } from '../../master/broker/frame-guard.js';
import { PAYLOAD_LIMITS, PRE_AUTH_PACKET_BYTES, maxPacket } from '../../master/broker/limits.js';
import { topics } from '../../protocol/index.js';
import { eventually } from '../helpers/wait.js';
import { connectPacket, rawConnect, remainingLength, masterWithViewer, type ViewerSetup } from './helpers.js';

const MiB = 1024 * 1024;

/** Opens a socket, writes `head`, then streams up to `junkBytes` until the peer closes; resolves with what was written and how long the peer took to close. */
function flood(port: number, head: Buffer, junkBytes: number): Promise<{ written: number; closedAfterMs: number }> {
  const chunk = Buffer.alloc(MiB, 0x61);
  return new Promise((resolve) => {
    const t0 = Date.now();
    let written = 0;
    let closed = false;
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(head);
      const pump = () => {
        while (!closed && written < junkBytes) {
          written += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
      };
      pump();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      closed = true;
      resolve({ written, closedAfterMs: Date.now() - t0 });
    });
  });
}

/** A PUBLISH fixed header announcing `length` bytes, then the start of a topic. */
const publishHead = (length: number, topic: string) => Buffer.concat([Buffer.from([0x30]), remainingLength(length), Buffer.from([topic.length >> 8, topic.length & 0xff]), Buffer.from(topic)]);

/** Resolves once `socket` closes, with whether it did within `ms`. */
const closesWithin = (s: net.Socket, ms: number) => new Promise<boolean>((r) => {
  const t = setTimeout(() => r(false), ms);
  s.once('close', () => (clearTimeout(t), r(true)));
});

describe('packet sizes are bounded before and after authentication (issue 9, item 8)', () => {
  let master: Master;
  let admin: Api;
  let setup: ViewerSetup;
  let viewSecret: string;

  beforeAll(async () => {
    setup = await masterWithViewer();
    ({ master, admin, viewSecret } = setup);
  });
  afterAll(async () => {
    await setup?.stop();
  });

  it('four CONNECTs announcing 268,435,455 bytes are closed at once and the RSS stays bounded', async () => {
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
    const head = Buffer.concat([Buffer.from([0x10]), remainingLength(268_435_455)]);
    const results = await Promise.all([0, 1, 2, 3].map(() => flood(master.mqttPort, head, 64 * MiB)));
    clearInterval(sampler);
    for (const r of results) {
      expect(r.closedAfterMs).toBeLessThan(5000); // aedes alone waits 30 s for a CONNECT that never completes
      expect(r.written).toBeLessThan(64 * MiB); // closed before the flood ended
    }
    // 4 × 64 MiB were offered: before the guard the master buffered all of it.
    expect((peak - before) / MiB).toBeLessThan(96);
    expect((await admin.request<{ version: string }>('version')).version).toMatch(/^v/);
  });

  it('a first packet of another type announcing more than a CONNECT needs is refused too', async () => {
    const r = await flood(master.mqttPort, publishHead(PRE_AUTH_PACKET_BYTES + 1, topics.apply), 4 * MiB);
    expect(r.closedAfterMs).toBeLessThan(5000);
  });

  it('after authentication a packet is bounded by what the identity may publish', async () => {
    const login = (user: string, password: string) =>
      new Promise<net.Socket>((resolve) => {
        const s = net.connect(master.mqttPort, '127.0.0.1', () => s.write(connectPacket({ clientId: `big-${user}`, username: user, password })));
        s.once('data', () => resolve(s)); // CONNACK
        s.on('error', () => undefined);
      });
    const viewer = await login('viewer', viewSecret);
    viewer.write(publishHead(MiB, topics.apiReq('big-viewer')));
    expect(await closesWithin(viewer, 5000)).toBe(true);
    // A whole request over the view limit (within what the guard lets through) is refused by topic class.
    const whole = await login('viewer', viewSecret);
    const topic = topics.apiReq('big-viewer');
    const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), Buffer.from(topic), Buffer.alloc(PAYLOAD_LIMITS.apiRead + 1, 0x20)]);
    whole.write(Buffer.concat([Buffer.from([0x30]), remainingLength(body.length), body]));
    expect(await closesWithin(whole, 5000)).toBe(true);
    const adminSock = await login('admin', master.adminToken);
    adminSock.write(publishHead(100 * MiB, topics.apply));
    expect(await closesWithin(adminSock, 5000)).toBe(true);
    // Within its limit an admin's packet is fine (the socket stays open while the body is awaited).
    const ok = await login('admin', master.adminToken);
    ok.write(publishHead(PAYLOAD_LIMITS.apply, topics.apply));
    expect(await closesWithin(ok, 300)).toBe(false);
    ok.destroy();
  });

  it('unauthenticated connections are bounded per source; the bound frees up as they go', async () => {
    const idle: net.Socket[] = [];
    for (let i = 0; i < 256; i++) {
      const s = net.connect(master.mqttPort, '127.0.0.1');
      s.on('error', () => undefined);
      await new Promise((r) => s.once('connect', r));
      idle.push(s);
    }
    const extra = net.connect(master.mqttPort, '127.0.0.1');
    extra.on('error', () => undefined);
    expect(await closesWithin(extra, 5000)).toBe(true);
    for (const s of idle) s.destroy();
    await eventually(async () => (await rawConnect(master.mqttPort, { clientId: 'after-flood', username: 'viewer', password: viewSecret })) === 0, 'a login once the idle sockets are gone');
  });
});

describe('FrameGuard', () => {
  const guard = () => new FrameGuard((type) => maxPacket(undefined, type));
  it('follows packets across chunk boundaries and refuses by the announced length alone', () => {
    const g = guard();
    const connect = connectPacket({ clientId: 'a', username: 'u', password: 'p' });
    expect(g.feed(connect.subarray(0, 3))).toBeUndefined();
    expect(g.feed(connect.subarray(3))).toBeUndefined();
    expect(g.feed(Buffer.from([0xc0, 0x00]))).toBeUndefined(); // PINGREQ, no body
    expect(g.feed(Buffer.from([0x10, 0xff]))).toBeUndefined(); // length not complete yet
    expect(g.feed(Buffer.from([0xff, 0xff, 0x7f]))).toMatch(/announced 268435455 bytes, more than the 16384 allowed/);
  });
  it('refuses a fifth length byte', () => {
    expect(guard().feed(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x01]))).toBe('malformed remaining length');
  });
});

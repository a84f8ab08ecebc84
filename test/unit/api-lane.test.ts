/**
 * The API lane (master/broker/api-lane.ts) over real loopback sockets, plain and TLS: an API client's bytes are read
 * between the loop's turns and reach the stream's reader in the ticks right after — before the loop's next poll phase,
 * which is where they were read before; what libuv would not read (a stream Node stopped reading, an inactive client,
 * the end of the stream, a stream that is not a socket) is left to libuv. And the loop budget's side
 * (master/loop-budget.ts): a turn that begins after a hook read a request is cut to its minimum, `interrupted()` ends
 * a turn between units, and the SlicedQueue ends its turn when told.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, connect, type Socket } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { PassThrough, type Duplex } from 'node:stream';
import { ApiLane, activeMs, asksSomething, everyMs, readsPerPoll } from '../../master/broker/api-lane.js';
import { LoopBudget, loopBudget, type LoopClock } from '../../master/loop-budget.js';
import { SlicedQueue } from '../../master/broker/sliced-queue.js';
import { encode, silentLogger, topics } from '../../protocol/index.js';
import { connectAsync, type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { Broker } from '../../master/broker/index.js';
import { fastPathCredentials as credentials } from '../helpers/broker-taps.js';
import { loadOrCreateCa } from '../../master/tls/ca.js';
import { issueServerCert, sansOf } from '../../master/tls/certs.js';
import { tempDir } from '../helpers/wait.js';

const laneTest = process.platform === 'win32' ? it.skip : it;

/** A connected pair over loopback: the server's side (what aedes would read) and the client's. */
async function plainPair(): Promise<{ server: Socket; client: Socket; close(): void }> {
  let accepted!: (s: Socket) => void;
  const got = new Promise<Socket>((r) => (accepted = r));
  const srv = createServer((s) => accepted(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const client = connect((srv.address() as { port: number }).port, '127.0.0.1');
  const server = await got;
  await new Promise((r) => (client.connecting ? client.once('connect', r) : r(undefined)));
  return { server, client, close: () => (client.destroy(), server.destroy(), srv.close()) };
}

/** The cluster CA's own server certificate for 127.0.0.1 (made once per file). */
let serverCert: Promise<{ key: string; cert: string; ca: string }> | undefined;
function tlsCert() {
  return (serverCert ??= (async () => {
    const ca = await loadOrCreateCa(await tempDir('skiff-lane-'));
    const { keyPem, certPem } = await issueServerCert(ca, sansOf(['127.0.0.1']), 3_600_000);
    return { key: keyPem, cert: certPem, ca: ca.certPem };
  })());
}

async function tlsPair(): Promise<{ server: TLSSocket; client: TLSSocket; close(): void }> {
  const { key, cert, ca } = await tlsCert();
  let accepted!: (s: TLSSocket) => void;
  const got = new Promise<TLSSocket>((r) => (accepted = r));
  const srv = createTlsServer({ key, cert }, (s) => accepted(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const client = tlsConnect({ port: (srv.address() as { port: number }).port, host: '127.0.0.1', ca });
  await new Promise((r) => client.once('secureConnect', r));
  const server = await got;
  return { server, client, close: () => (client.destroy(), server.destroy(), srv.close()) };
}

/** Reads what arrives on `s` as aedes does (`readable`, then read until null). */
function reader(s: Duplex): string[] {
  const got: string[] = [];
  s.on('readable', () => {
    for (let b = s.read(); b !== null; b = s.read()) got.push(hex(b));
  });
  return got;
}

/** MQTT packets: a request (PUBLISH, QoS 0, topic `a`, payload `x`) and an acknowledgement (PUBACK of id 1). */
const publish = Buffer.from([0x30, 4, 0x00, 0x01, 0x61, 0x78]);
const puback = Buffer.from([0x40, 0x02, 0x00, 0x01]);
const hex = (b: Buffer) => b.toString('hex');

/**
 * Inside one immediate (the check phase: libuv reads no socket until the next poll phase), the client writes `bytes`;
 * then `lane` (if any) is polled until it has read, for up to 2 s. What the server's reader has in the ticks right after
 * (the bytes when the lane read them, nothing when the socket waits for the poll phase), and whether a poll said the
 * bytes ask something.
 */
function inOneTurn(client: Duplex, got: string[], lane: ApiLane | undefined, bytes = publish, spinMs = lane ? 2000 : 50): Promise<{ read: boolean; asks: boolean; seen: string[] }> {
  return new Promise((resolve) =>
    setImmediate(() => {
      client.write(bytes);
      const before = lane?.stats.reads ?? 0;
      let asks = false;
      const until = performance.now() + spinMs;
      while ((lane?.stats.reads ?? 0) === before && performance.now() < until) if (lane?.poll()) asks = true;
      const read = (lane?.stats.reads ?? 0) > before;
      process.nextTick(() => resolve({ read, asks, seen: [...got] })); // queued after the stream's own tick
    }),
  );
}

describe('API lane: an API client is read between the turns', () => {
  const closers: (() => void)[] = [];
  afterEach(() => closers.splice(0).forEach((c) => c()));

  for (const kind of ['plain', 'TLS'] as const) {
    laneTest(`${kind}: a request is read between the turns and reaches its reader before the poll phase; without the lane it waits for it`, async () => {
      const p = kind === 'plain' ? await plainPair() : await tlsPair();
      closers.push(p.close);
      const got = reader(p.server);
      const lane = new ApiLane();
      lane.add(p.server);
      expect(lane.size).toBe(1);
      const withLane = await inOneTurn(p.client, got, lane);
      expect(withLane).toEqual({ read: true, asks: true, seen: [hex(publish)] });
      expect(lane.stats.reads).toBe(1);
      expect(lane.stats.bytes).toBeGreaterThan(0);
      // An acknowledgement is read as early, but asks nothing: no turn is cut for it.
      expect(await inOneTurn(p.client, got, lane, puback)).toEqual({ read: true, asks: false, seen: [hex(publish), hex(puback)] });

      // The same socket out of the lane: the bytes wait for libuv's read in the poll phase, then arrive once, in order.
      const q = kind === 'plain' ? await plainPair() : await tlsPair();
      closers.push(q.close);
      const gotQ = reader(q.server);
      expect(await inOneTurn(q.client, gotQ, undefined)).toEqual({ read: false, asks: false, seen: [] });
      await waitFor(() => gotQ.length === 1);
      expect(gotQ).toEqual([hex(publish)]);

      // Later bytes through libuv follow the lane's in order; the answer goes back as usual.
      p.client.write(Buffer.from('and more'));
      await waitFor(() => got.join('') === hex(publish) + hex(puback) + hex(Buffer.from('and more')));
      const answer = new Promise<string>((r) => p.client.once('data', (b) => r(String(b))));
      p.server.write('answer');
      expect(await answer).toBe('answer');
    });
  }

  laneTest("a connection whose reader would not read it now (aedes: a batch still in hand) is not read until it would", async () => {
    const p = await plainPair();
    closers.push(p.close);
    const got = reader(p.server);
    let ready = false;
    const lane = new ApiLane();
    lane.add(p.server, () => ready);
    expect(await inOneTurn(p.client, got, lane, publish, 50)).toEqual({ read: false, asks: false, seen: [] });
    expect(lane.stats.reads).toBe(0);
    await waitFor(() => got.length === 1); // libuv reads it in the poll phase, as ever
    ready = true;
    expect(await inOneTurn(p.client, got, lane)).toEqual({ read: true, asks: true, seen: [hex(publish), hex(publish)] });
  });

  laneTest('a socket Node stopped reading (its stream full) is not read: backpressure holds', async () => {
    const p = await plainPair();
    closers.push(p.close);
    const lane = new ApiLane();
    lane.add(p.server);
    p.server.pause(); // nobody reads: libuv fills the stream to its high-water mark, then stops the handle
    p.client.write(Buffer.alloc(4 << 20));
    await waitFor(() => (p.server as unknown as { _handle: { reading: boolean } })._handle.reading === false);
    const buffered = p.server.readableLength;
    for (let i = 0; i < 20; i++) {
      expect(lane.poll()).toBe(false);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(lane.stats.reads).toBe(0);
    expect(p.server.readableLength).toBe(buffered);
  });

  laneTest('the end of the stream is left to libuv: the connection leaves the lane and its reader still sees the end', async () => {
    const p = await plainPair();
    closers.push(p.close);
    const lane = new ApiLane();
    lane.add(p.server);
    const ended = new Promise((r) => p.server.once('end', r));
    p.server.resume();
    p.client.end();
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        const until = performance.now() + 2000;
        while (lane.size > 0 && performance.now() < until) lane.poll();
        resolve();
      }),
    );
    expect(lane.size).toBe(0);
    expect(lane.stats.reads).toBe(0);
    await ended;
  });

  laneTest(`a client that asked nothing for ${activeMs / 1000} s is not read (a watch's stream costs nothing); asking puts it back`, async () => {
    const p = await plainPair();
    closers.push(p.close);
    const got = reader(p.server);
    let t = 0;
    const lane = new ApiLane(() => t);
    lane.add(p.server);
    t += activeMs + 1;
    expect(await inOneTurn(p.client, got, lane, publish, 50)).toEqual({ read: false, asks: false, seen: [] });
    await waitFor(() => got.length === 1); // libuv read it in the poll phase
    lane.asked(p.server);
    t += 2; // past the poll interval
    expect((await inOneTurn(p.client, got, lane)).read).toBe(true);
  });

  laneTest(`one poll reads at most ${readsPerPoll} connections, and the next polls take the others in turn`, async () => {
    const pairs = await Promise.all(Array.from({ length: readsPerPoll * 2 + 1 }, () => plainPair()));
    for (const p of pairs) closers.push(p.close);
    let t = 0;
    const lane = new ApiLane(() => t);
    for (const p of pairs) lane.add(p.server);
    const perPoll = await new Promise<number[]>((resolve) =>
      setImmediate(() => {
        for (const p of pairs) p.client.write(publish);
        const counts: number[] = [];
        const until = performance.now() + 2000;
        while (lane.stats.reads < pairs.length && performance.now() < until) {
          t += everyMs;
          const before = lane.stats.reads;
          lane.poll();
          counts.push(lane.stats.reads - before);
        }
        resolve(counts);
      }),
    );
    expect(lane.stats.reads).toBe(pairs.length); // every one read, none twice
    expect(Math.max(...perPoll)).toBe(readsPerPoll);
  });

  const packets: { name: string; bytes: number[]; asks: boolean }[] = [
    { name: 'a PUBLISH (a request)', bytes: [...publish], asks: true },
    { name: 'a PUBACK', bytes: [...puback], asks: false },
    { name: 'PUBACKs and a PINGREQ', bytes: [...puback, ...puback, 0xc0, 0x00], asks: false },
    { name: 'PUBACKs, then a PUBLISH', bytes: [...puback, ...puback, ...publish], asks: true },
    { name: 'a SUBSCRIBE', bytes: [0x82, 6, 0, 2, 0, 1, 0x61, 0], asks: true },
    { name: 'an UNSUBSCRIBE', bytes: [0xa2, 5, 0, 3, 0, 1, 0x61], asks: true },
    { name: 'a PUBACK, then the first byte of a PUBLISH', bytes: [...puback, 0x32], asks: true },
    { name: 'a PUBACK whose length runs past the bytes', bytes: [0x40, 0x80], asks: false },
    { name: 'a long length (two bytes) skipped whole', bytes: [0x40, 0x80, 0x01, ...Array(128).fill(0x30)], asks: false },
    { name: 'nothing', bytes: [], asks: false },
  ];
  for (const c of packets) it(`asksSomething: ${c.name} → ${c.asks}`, () => expect(asksSomething(Buffer.from(c.bytes))).toBe(c.asks));

  it('a stream that is not a socket (a WebSocket stream) stays out of the lane; so does every stream where the lane is off', () => {
    const lane = new ApiLane();
    lane.add(new PassThrough());
    expect(lane.size).toBe(0);
    expect(lane.poll()).toBe(false);
    const off = new ApiLane(undefined, false);
    const fake = Object.assign(new PassThrough(), { _handle: { fd: 3, reading: true } });
    off.add(fake);
    expect(off.size).toBe(0);
  });
});

/**
 * Inside one immediate (a worker's turn in the check phase), `write` puts a request's bytes straight onto a client's
 * socket, then the turn spins until the loop budget says a hook read something (or 2 s). What the turn saw, and
 * `after()` in the next immediate — the next check phase.
 */
function inBusyTurn<T>(write: () => void, after: () => T): Promise<{ cut: number; reads: number; after: T }> {
  return new Promise((resolve) =>
    setImmediate(() => {
      write();
      const before = loopBudget.stats.preempted;
      const until = performance.now() + 2000;
      while (performance.now() < until && !loopBudget.interrupted()) {
        // spin: one unit of work after another
      }
      const cut = loopBudget.stats.preempted - before;
      setImmediate(() => resolve({ cut, reads: broker.lane.stats.reads, after: after() }));
    }),
  );
}

let broker: Broker;

describe('API lane in the broker: an administrator\'s request is answered inside a busy check phase', () => {
  const clients: MqttClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
    await broker?.close();
  });
  /** A client of the broker (plain, or TLS with `ca`). */
  const connect = async (username: string, password: string, clientId: string, ca?: string) => {
    const url = ca ? `mqtts://127.0.0.1:${broker.tlsPort}` : `mqtt://127.0.0.1:${broker.port}`;
    const c = await connectAsync(url, { username, password, clientId, protocolVersion: 4, reconnectPeriod: 0, ...(ca ? { ca } : {}) });
    clients.push(c);
    return c;
  };

  laneTest('the request reaches the master between two budgeted turns; a node is never in the lane', async () => {
    const routed: string[] = [];
    broker = await Broker.start({ port: 0, host: '127.0.0.1', credentials, log: silentLogger, onMessage: (m) => void routed.push(m.topic) });
    await connect('n1', 'cred-n1', 'n1');
    const cli = await connect('admin', 'admin-token', 'cli-lane');
    expect(broker.lane.size).toBe(1); // the administrator only
    // mqtt.js would write a publish a tick later: the bytes go straight onto the client's socket.
    const request = mqttPacket.generate({ cmd: 'publish', topic: topics.apiReq('cli-lane'), payload: encode({ id: '1', verb: 'get' }), qos: 0, dup: false, retain: false });
    const seen = await inBusyTurn(() => cli.stream.write(request), () => [...routed]);
    expect(seen.cut).toBe(1); // the spinning turn was told to end
    expect(seen.after).toEqual([topics.apiReq('cli-lane')]); // handed to the master before the next immediate
    expect(seen.reads).toBeGreaterThan(0);
  });

  laneTest("the lane is polled before a node's bytes are parsed (the poll phase), never before a lane member's own", async () => {
    broker = await Broker.start({ port: 0, host: '127.0.0.1', credentials, log: silentLogger, onMessage: () => {} });
    const node = await connect('n1', 'cred-n1', 'n1');
    const cli = await connect('admin', 'admin-token', 'cli-lane');
    const parsed = (c: MqttClient, packet: mqttPacket.Packet) =>
      new Promise<number>((resolve) => {
        const before = broker.lane.stats.polls;
        c.stream.write(mqttPacket.generate(packet));
        c.once('packetreceive', () => resolve(broker.lane.stats.polls - before)); // the answer: parsed by then
      });
    await new Promise((r) => setTimeout(r, 5)); // past the lane's one poll a millisecond
    expect(await parsed(node, { cmd: 'pingreq' })).toBe(1);
    await new Promise((r) => setTimeout(r, 5));
    expect(await parsed(cli, { cmd: 'pingreq' })).toBe(0);
  });

  // Node's TLS socket finishes a write the kernel took at once only in a native immediate, and writes nothing more
  // until then: a PUBACK written before its answer held the answer to the next check phase (fast-api.ts holdAck).
  laneTest('over TLS, its PUBACK and its answer reach the client in the poll phase right after that turn', async () => {
    const { key, cert, ca } = await tlsCert();
    broker = await Broker.start({
      port: -1,
      host: '127.0.0.1',
      tls: { port: 0, host: '127.0.0.1', key, cert, ca },
      credentials,
      log: silentLogger,
      onMessage: (m) => void broker.publishTo(m.clientId, topics.apiRes(m.clientId), encode({ id: '1', ok: true, result: {} })),
    });
    const cli = await connect('admin', 'admin-token', 'cli-tls', ca);
    await cli.subscribeAsync(topics.apiRes('cli-tls'), { qos: 1 });
    const arrived: string[] = [];
    cli.on('packetreceive', (p) => {
      if (p.cmd === 'puback' && p.messageId === 7) arrived.push('puback');
      if (p.cmd === 'publish' && p.topic === topics.apiRes('cli-tls')) arrived.push('answer');
    });
    const request = mqttPacket.generate({ cmd: 'publish', topic: topics.apiReq('cli-tls'), payload: encode({ id: '1', verb: 'get' }), qos: 1, messageId: 7, dup: false, retain: false });
    const seen = await inBusyTurn(() => cli.stream.write(request), () => [...arrived]);
    expect(seen.reads).toBeGreaterThan(0);
    expect(seen.after.sort()).toEqual(['answer', 'puback']);
  });
});

describe('loop budget: a request read by a preempt hook cuts the turn', () => {
  function budgetWith(read: () => boolean) {
    let t = 1000;
    const clock: LoopClock = { now: () => t, nextPhase: () => {} };
    const b = new LoopBudget(10, clock, 2);
    const remove = b.addPreempt(read);
    return { b, remove, advance: (ms: number) => (t += ms) };
  }
  const cases: { name: string; reads: boolean[]; want: number[] }[] = [
    { name: 'no request: turns as before', reads: [false, false], want: [4, 4] },
    { name: 'a request before the first turn: it gets its minimum', reads: [true, false], want: [1, 4] },
    { name: 'a request before the second turn: its minimum, not what was left', reads: [false, true], want: [4, 1] },
  ];
  for (const c of cases)
    it(c.name, () => {
      const reads = [...c.reads];
      const { b, advance } = budgetWith(() => reads.shift() ?? false);
      const first = b.turn('a', 4);
      advance(first); // 'a' used what it was given
      const given = [first, b.turn('b', 4)];
      expect(given).toEqual(c.want);
      expect(b.stats.preempted).toBe(c.reads.filter(Boolean).length);
    });

  it('interrupted() is true only when a hook read something; a removed hook is not asked', () => {
    let next = false;
    let asked = 0;
    const { b, remove } = budgetWith(() => (asked++, next));
    expect(b.interrupted()).toBe(false);
    next = true;
    expect(b.interrupted()).toBe(true);
    remove();
    expect(b.interrupted()).toBe(false);
    expect(asked).toBe(2);
  });

  it('the SlicedQueue ends its turn after the item during which a request was read', async () => {
    let interrupt = false;
    const q = new SlicedQueue(silentLogger, 1000, 100, () => 0, (cap) => cap, () => interrupt);
    const ran: number[] = [];
    for (let i = 0; i < 6; i++) q.push(undefined, () => (ran.push(i), (interrupt = i === 1)));
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual([0, 1]);
    interrupt = false;
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

async function waitFor(ok: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * How many connections one identity may hold open (master/broker/connection-caps.ts). The attack: a view token (or a
 * node credential read off a board, or the join token) opens connections in a loop and keeps them; each costs the
 * master its buffers and a file descriptor, until it can open neither its database files nor the boards'
 * connections. Replayed over raw sockets against a real master with a real agent: past its bound a CONNECT is
 * refused with CONNACK 3, everyone else still connects, the agent stays connected, and a closed connection frees
 * its place.
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqttPacket from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultConnectionLimits } from '../../master/broker/connection-caps.js';
import { connectKey } from '../../protocol/join.js';
import { joinSecret } from '../../protocol/join-token.js';
import type { Node } from '../../protocol/index.js';
import { runCli } from '../cli/helpers.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/wait.js';
import { connectPacket, rawConnect } from './helpers.js';

/** A raw connection kept open: the CONNACK's return code, or 'closed' when the broker closed without one. */
interface Held {
  code: number | 'closed';
  socket: net.Socket;
}

function hold(port: number, o: Parameters<typeof connectPacket>[0]): Promise<Held> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(connectPacket(o)));
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => {
      if (p.cmd === 'connack') resolve({ code: (p as mqttPacket.IConnackPacket).returnCode ?? 0, socket });
    });
    socket.on('data', (b) => parser.parse(b));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ code: 'closed', socket }));
  });
}

describe('connections per identity', () => {
  let c: TestCluster;
  let viewSecret: string;
  let otherSecret: string;
  let credential: string;
  let port: number;
  const held: net.Socket[] = [];

  /** Opens `n` connections one after another (under the master's bound on unauthenticated ones per source); their codes. */
  async function open(n: number, o: (i: number) => Parameters<typeof connectPacket>[0]): Promise<Held[]> {
    const out: Held[] = [];
    for (let i = 0; i < n; i++) {
      const h = await hold(port, o(i));
      held.push(h.socket);
      out.push(h);
    }
    return out;
  }

  beforeAll(async () => {
    c = await startCluster(['n1']);
    port = c.master.mqttPort;
    viewSecret = (await c.api.request<{ token: string }>('token', { action: 'create', name: 'viewer', access: 'view' })).token;
    otherSecret = (await c.api.request<{ token: string }>('token', { action: 'create', name: 'other', access: 'view' })).token;
    credential = readFileSync(join(c.dir, 'n1', 'credential'), 'utf8').trim();
  });
  afterEach(() => {
    for (const s of held.splice(0)) s.destroy();
  });
  afterAll(async () => {
    await c?.stop();
  });

  const readyOf = async () => (await c.api.request<Node>('get', { kind: 'Node', name: 'n1' })).status?.conditions?.find((x) => x.type === 'Ready');

  it('a view token gets its 256 connections and not one more; other users still connect; a closed one frees its place', async () => {
    const limit = defaultConnectionLimits.perUser;
    const codes = (await open(limit, (i) => ({ clientId: `v-${i}`, username: 'viewer', password: viewSecret }))).map((h) => h.code);
    expect(codes.filter((x) => x === 0)).toHaveLength(limit);
    const [over] = await open(1, () => ({ clientId: 'v-over', username: 'viewer', password: viewSecret }));
    expect(over!.code).toBe(3);
    // What the user sees: one line saying why, not a stack or a hang.
    const cli = await runCli(['get', 'pods'], { env: { SKIFF_SERVER: c.master.url, SKIFF_USER: 'viewer', SKIFF_TOKEN: viewSecret } });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^error: the master at \S+ refused the connection as unavailable \(CONNACK 3\): user "viewer" may hold as many connections as it may/);
    expect(await rawConnect(port, { clientId: 'other-1', username: 'other', password: otherSecret })).toBe(0);
    expect(await rawConnect(port, { clientId: 'admin-1', username: 'admin', password: c.master.adminToken })).toBe(0);
    // The refusal is the count, not the credentials: a wrong secret is still told so.
    expect(await rawConnect(port, { clientId: 'v-bad', username: 'viewer', password: 'wrong' })).toBe(4);
    expect(c.agents[0]!.connected).toBe(true);
    held[0]!.destroy();
    await eventually(async () => (await rawConnect(port, { clientId: 'v-again', username: 'viewer', password: viewSecret })) === 0, 'a place freed by a closed connection');
  });

  it("a node credential gets 8 connections with its agent's among them; taking over its own client id is let through", async () => {
    const before = await readyOf();
    let drops = 0;
    c.agents[0]!.on('disconnected', () => drops++);
    const limit = defaultConnectionLimits.perNode;
    // The agent holds one.
    const mine = await open(limit - 1, (i) => ({ clientId: `n1-${i}`, username: 'n1', password: credential }));
    expect(mine.map((h) => h.code)).toEqual(new Array(limit - 1).fill(0));
    const [over] = await open(1, () => ({ clientId: 'n1-over', username: 'n1', password: credential }));
    expect(over!.code).toBe(3);
    // The same identity replacing its own session: let through, and the session it replaces is closed.
    const replaced = mine[0]!.socket;
    const closed = new Promise<void>((r) => (replaced.destroyed ? r() : replaced.once('close', () => r())));
    const [again] = await open(1, () => ({ clientId: 'n1-0', username: 'n1', password: credential }));
    expect(again!.code).toBe(0);
    await closed;
    expect(drops).toBe(0);
    expect(c.agents[0]!.connected).toBe(true);
    expect((await readyOf())?.lastTransitionTime).toBe(before?.lastTransitionTime);
  });

  it('the join token: 1,024 joins at once whatever node names they give, then refused; another token is not counted with it', async () => {
    const limit = defaultConnectionLimits.perJoinToken;
    const key = connectKey(joinSecret(c.master.joinToken));
    const codes = (await open(limit, (i) => ({ clientId: `j-${i}`, username: `board-${i}`, password: key }))).map((h) => h.code);
    expect(codes.filter((x) => x === 0)).toHaveLength(limit);
    const [over] = await open(1, () => ({ clientId: 'j-over', username: 'board-new', password: key }));
    expect(over!.code).toBe(3);
    expect(await rawConnect(port, { clientId: 'view-during', username: 'viewer', password: viewSecret })).toBe(0);
    expect(c.agents[0]!.connected).toBe(true);
  }, 60_000);
});

/**
 * The rule of how many connections an identity may hold open (master/broker/connection-caps.ts), table by table:
 * who counts together, the bound of each role, a takeover of one's own client id, and release.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../master/broker/acl.js';
import { ConnectionCaps, defaultConnectionLimits, sameIdentity } from '../../master/broker/connection-caps.js';
import { Broker } from '../../master/broker/index.js';
import { silentLogger } from '../../protocol/index.js';
import { fastPathCredentials as credentials } from '../helpers/broker-taps.js';
import { connectPacket } from '../security/helpers.js';

const viewer: Identity = { role: 'user', name: 'viewer', access: 'view' };
const editor: Identity = { role: 'user', name: 'editor', access: 'edit' };
const admin: Identity = { role: 'admin', name: 'admin' };
const n1: Identity = { role: 'node', name: 'n1' };
const joinA1: Identity = { role: 'joiner', name: 'a1', token: 'tokA' };
const joinA2: Identity = { role: 'joiner', name: 'a2', token: 'tokA' };
const joinB1: Identity = { role: 'joiner', name: 'a1', token: 'tokB' };

/** Adds `n` connections of `id`; their releases. */
function fill(caps: ConnectionCaps, id: Identity, n: number): (() => void)[] {
  const out: (() => void)[] = [];
  for (let i = 0; i < n; i++) {
    expect(caps.refusal(id, false)).toBeUndefined();
    out.push(caps.add(id));
  }
  return out;
}

describe('connections per identity', () => {
  it('defaults: 256 per user, 8 per node, 1,024 per join token', () => {
    expect(defaultConnectionLimits).toEqual({ perUser: 256, perNode: 8, perJoinToken: 1024 });
  });

  it.each([
    ['a view user', viewer, 3],
    ['the admin', admin, 3],
    ['a node', n1, 2],
    ['a joiner', joinA1, 4],
  ] as const)('%s is refused past its bound, with the count and the bound named', (_, id, limit) => {
    const caps = new ConnectionCaps({ perUser: 3, perNode: 2, perJoinToken: 4 });
    fill(caps, id, limit);
    expect(caps.count(id)).toBe(limit);
    expect(caps.refusal(id, false)).toMatch(new RegExp(`has ${limit} connections open, the most it may \\(${limit}\\)`));
  });

  it('counts each user, node and join token apart; joiners of one token together, whatever node they name', () => {
    const caps = new ConnectionCaps({ perUser: 2, perNode: 2, perJoinToken: 2 });
    fill(caps, viewer, 2);
    expect(caps.refusal(viewer, false)).toBeDefined();
    // Others are untouched by the viewer's connections.
    for (const other of [editor, admin, n1, joinB1]) expect(caps.refusal(other, false)).toBeUndefined();
    caps.add(joinA1);
    caps.add(joinA2); // another node name, the same token
    expect(caps.refusal(joinA1, false)).toMatch(/join token tokA/);
    expect(caps.refusal({ role: 'joiner', name: 'fresh-name', token: 'tokA' }, false)).toBeDefined();
    expect(caps.refusal(joinB1, false)).toBeUndefined();
  });

  it('a takeover of its own connected client id is let through at the bound', () => {
    const caps = new ConnectionCaps({ perUser: 1, perNode: 1, perJoinToken: 1 });
    fill(caps, n1, 1);
    expect(caps.refusal(n1, false)).toBeDefined();
    expect(caps.refusal(n1, true)).toBeUndefined();
  });

  it('a closed connection frees its place once, however often it is told', () => {
    const caps = new ConnectionCaps({ perUser: 2, perNode: 2, perJoinToken: 2 });
    const [first, second] = fill(caps, viewer, 2);
    expect(caps.refusal(viewer, false)).toBeDefined();
    first!();
    first!();
    first!();
    expect(caps.count(viewer)).toBe(1);
    expect(caps.refusal(viewer, false)).toBeUndefined();
    second!();
    expect(caps.count(viewer)).toBe(0);
  });

  it.each([
    [viewer, { ...viewer }, true],
    [viewer, editor, false],
    [n1, { role: 'node', name: 'n2' }, false],
    [n1, { role: 'user', name: 'n1', access: 'view' }, false],
    [joinA1, { ...joinA1 }, true],
    [joinA1, joinB1, false],
    [undefined, viewer, false],
  ] as [Identity | undefined, Identity, boolean][])('sameIdentity(%j, %j) is %s', (a, b, same) => {
    expect(sameIdentity(a, b)).toBe(same);
  });

  it("at the broker: a node's agent session gets in past the bound others of its credential filled", async () => {
    const broker = await Broker.start({ port: 0, host: '127.0.0.1', credentials, log: silentLogger, onMessage: () => undefined, connectionLimits: { perUser: 2, perNode: 2, perJoinToken: 2 } });
    const sockets: net.Socket[] = [];
    /** Connects as node n1 with `clientId`, keeps the connection; the CONNACK's return code. */
    const connack = (clientId: string) =>
      new Promise<number | 'closed'>((resolve) => {
        const s = net.connect(broker.port, '127.0.0.1', () => s.write(connectPacket({ clientId, username: 'n1', password: 'cred-n1' })));
        sockets.push(s);
        s.on('data', (b) => b[0] === 0x20 && resolve(b[3]!)); // CONNACK: type 2, length 2, flags, return code
        s.on('error', () => undefined);
        s.on('close', () => resolve('closed'));
      });
    try {
      expect([await connack('a'), await connack('b'), await connack('c')]).toEqual([0, 0, 3]);
      expect(await connack('skiff-agent-n1')).toBe(0);
      expect(await connack('skiff-agent-n2')).toBe(5); // another node's reserved id is not n1's to use
    } finally {
      for (const s of sockets) s.destroy();
      await broker.close();
    }
  });
});

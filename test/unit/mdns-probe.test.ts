/**
 * Claiming an mDNS instance name (protocol/mdns-probe.ts, RFC 6762 §8–9): the rename rule, the tie-break
 * order, what counts as a conflict, and the probe loop against a scripted network (an in-memory socket
 * whose "other responders" answer or probe). The real thing on a LAN, with avahi: test/e2e/mdns-conflicts.test.ts.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { claimInstanceName, claimsName, compareProposals, instanceFqdn, nthInstanceName, type MdnsPacket, type MdnsSocket } from '../../protocol/mdns-probe.js';

const fast = { intervalMs: 5, deferMs: 30, maxNames: 5 };
const type = '_skiff-master._tcp';
const ours = { port: 1883, target: 'skiff-master-pi.local' };
const srv = (name: string, data: { port: number; target: string }) => ({ name: instanceFqdn(name, type), type: 'SRV', data });

/** A network with scripted neighbours: `onQuery` sees each probe we send and may answer with packets. */
function network(onQuery: (q: { questions: { name: string }[] }, n: number) => { response?: MdnsPacket; query?: MdnsPacket } | void) {
  const sent: { questions: { name: string; type: string }[]; authorities: unknown[] }[] = [];
  const socket = new EventEmitter() as EventEmitter & MdnsSocket;
  socket.query = (packet, cb) => {
    sent.push(packet);
    cb?.();
    const reply = onQuery(packet, sent.length);
    setImmediate(() => {
      if (reply?.response) socket.emit('response', reply.response);
      if (reply?.query) socket.emit('query', reply.query);
    });
  };
  return { socket, sent };
}

describe('instance names after a conflict (RFC 6762 §9)', () => {
  it.each([
    ['Skiff master on pi', 2, 'Skiff master on pi (2)'],
    ['Skiff master on pi', 13, 'Skiff master on pi (13)'],
    ['x'.repeat(63), 2, `${'x'.repeat(59)} (2)`],
    ['é'.repeat(40), 2, `${'é'.repeat(29)} (2)`], // 63 bytes: é is two
    ['web.shop ', 3, 'web.shop (3)'],
  ])('%s, try %i → %s', (base, n, want) => {
    expect(nthInstanceName(base, n)).toBe(want);
    expect(Buffer.byteLength(want)).toBeLessThanOrEqual(63);
  });
});

describe('what conflicts', () => {
  it.each([
    ['the same SRV: our echo or a twin', { port: 1883, target: 'skiff-master-pi.local' }, 0],
    ['the same SRV, target in another case', { port: 1883, target: 'SKIFF-master-pi.local' }, 0],
    ['a later port wins the tie-break', { port: 1884, target: 'skiff-master-pi.local' }, 1],
    ['an earlier port loses it', { port: 1882, target: 'skiff-master-pi.local' }, -1],
    ['the same port, a later host name wins', { port: 1883, target: 'skiff-master-pz.local' }, 1],
  ])('tie-break (§8.2): %s', (_what, theirs, sign) => {
    expect(Math.sign(compareProposals(theirs, ours))).toBe(sign);
  });

  const fq = instanceFqdn('Skiff master on pi', type);
  it.each([
    ['an SRV of the name pointing elsewhere', { answers: [srv('Skiff master on pi', { port: 1999, target: 'other.local' })] }, true],
    ['an SRV of the name in another case', { answers: [{ ...srv('Skiff master on pi', { port: 1999, target: 'x.local' }), name: fq.toUpperCase() }] }, true],
    ['only a TXT of the name', { answers: [{ name: fq, type: 'TXT', data: [] }] }, true],
    ['our own SRV (an echo, or an identical twin)', { answers: [srv('Skiff master on pi', ours), { name: fq, type: 'TXT', data: [] }] }, false],
    ['records of another name', { answers: [srv('Skiff master on pi (2)', { port: 1999, target: 'x.local' })] }, false],
    ['an empty response', {}, false],
  ])('a response with %s claims the name: %s', (_what, packet, want) => {
    expect(claimsName(packet as MdnsPacket, fq, ours)).toBe(want);
  });
});

describe('claimInstanceName', () => {
  it('claims a free name after three probe queries carrying the proposal', async () => {
    const net = network(() => undefined);
    expect(await claimInstanceName(net.socket, { name: 'Skiff master on pi', type, srv: ours }, fast)).toBe('Skiff master on pi');
    expect(net.sent).toHaveLength(3);
    expect(net.sent[0]).toEqual({ questions: [{ name: 'Skiff master on pi._skiff-master._tcp.local', type: 'ANY' }], authorities: [{ ...srv('Skiff master on pi', ours), ttl: 120, data: { ...ours, priority: 0, weight: 0 } }] });
  });

  it('renames on every name someone holds: (2) is taken too, so (3)', async () => {
    const held = new Set(['Skiff master on pi', 'Skiff master on pi (2)'].map((n) => instanceFqdn(n, type).toLowerCase()));
    const net = network((q) => {
      const name = q.questions[0].name;
      if (held.has(name.toLowerCase())) return { response: { answers: [{ name, type: 'SRV', data: { port: 1999, target: 'other-host.local' } }] } };
    });
    expect(await claimInstanceName(net.socket, { name: 'Skiff master on pi', type, srv: ours }, fast)).toBe('Skiff master on pi (3)');
  });

  it('a simultaneous prober with later data wins: defer, then rename once it has announced', async () => {
    let deferredAt = 0;
    const net = network((q, n) => {
      const name = q.questions[0].name;
      if (name !== instanceFqdn('Skiff master on pi', type)) return;
      const theirs = { port: 1884, target: ours.target };
      // First round: the other host probes too (its SRV is later); after our deferral it answers: it won.
      if (!deferredAt) {
        deferredAt = n;
        return { query: { questions: [{ name, type: 'ANY' }], authorities: [srv('Skiff master on pi', theirs)] } };
      }
      return { response: { answers: [srv('Skiff master on pi', theirs)] } };
    });
    const t0 = Date.now();
    expect(await claimInstanceName(net.socket, { name: 'Skiff master on pi', type, srv: ours }, fast)).toBe('Skiff master on pi (2)');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(fast.deferMs);
  });

  it('a simultaneous prober with earlier data loses: the name is ours at once', async () => {
    const net = network((q) => ({ query: { questions: [{ name: q.questions[0].name, type: 'ANY' }], authorities: [{ name: q.questions[0].name, type: 'SRV', data: { port: 1000, target: ours.target } }] } }));
    expect(await claimInstanceName(net.socket, { name: 'Skiff master on pi', type, srv: ours }, fast)).toBe('Skiff master on pi');
  });

  it('gives up after maxNames names, saying so', async () => {
    const net = network((q) => ({ response: { answers: [{ name: q.questions[0].name, type: 'TXT', data: [] }] } }));
    await expect(claimInstanceName(net.socket, { name: 'web', type, srv: ours }, fast)).rejects.toThrow('every name from "web" to "web (6)" is taken on this network');
  });

  it('an abort (the announcer stops) ends the probe at once', async () => {
    const net = network(() => undefined);
    const abort = new AbortController();
    const p = claimInstanceName(net.socket, { name: 'web', type, srv: ours }, { ...fast, intervalMs: 10_000 }, abort.signal);
    abort.abort();
    expect(await p).toBe('web');
    expect(net.socket.listenerCount('response') + net.socket.listenerCount('query')).toBe(0);
  });
});

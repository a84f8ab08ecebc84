/**
 * boundDeliveries (master/broker/slow-subscriber.ts) in memory, over fake aedes clients: a delivery is reported done
 * one immediate later, whatever the socket does; what was handed and not written is counted (a QoS 0 packet through
 * deliverQoS once); past the client's bound it is closed, told once, and nothing more is handed to it; past the
 * identity's bound the identity's client that owes the most is closed, whichever client the packet was for.
 */
import { describe, expect, it } from 'vitest';
import type { Client } from 'aedes';
import { boundDeliveries, SubscriberDebts } from '../../master/broker/slow-subscriber.js';

type Cb = () => void;
type Pkt = { topic: string; payload: Buffer; qos?: number };

/** A client as aedes builds it: deliverQoS hands QoS 0 packets to `this.deliver0`. Writes finish when the test says. */
function fakeClient(name = 'viewer', id = 'c1') {
  const handed: string[] = [];
  const writes: Cb[] = [];
  const c = {
    id,
    skiff: { role: 'user', name },
    closed: false,
    close() {
      this.closed = true;
    },
    deliver0(p: Pkt, cb: Cb) {
      handed.push(`0:${p.topic}`);
      writes.push(cb);
    },
    deliverQoS(p: Pkt, cb: Cb) {
      if (p.qos === 0) return c.deliver0(p, cb);
      handed.push(`1:${p.topic}`);
      writes.push(cb);
    },
  };
  return { c, handed, writes };
}

const pkt = (topic: string, bytes: number, qos = 0): Pkt => ({ topic, payload: Buffer.alloc(bytes), qos });

describe('boundDeliveries', () => {
  it('reports each delivery done one immediate later, before its write finishes', async () => {
    const { c, handed, writes } = fakeClient();
    boundDeliveries(c as unknown as Client, new SubscriberDebts(1000, 4000), () => undefined);
    let done = 0;
    c.deliver0(pkt('a', 10), () => done++);
    c.deliverQoS(pkt('b', 10, 1), () => done++);
    c.deliverQoS(pkt('c', 10, 0), () => done++);
    expect(done).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(3);
    expect(handed).toEqual(['0:a', '1:b', '0:c']);
    expect(writes).toHaveLength(3);
  });

  const cases: { name: string; sizes: number[]; finishFirst: number; closedAt?: number }[] = [
    { name: 'under the bound: all handed', sizes: [300, 300, 300], finishFirst: 0 },
    { name: 'past the bound: closed at the packet that passes it', sizes: [300, 300, 300, 300], finishFirst: 0, closedAt: 3 },
    { name: 'written bytes no longer count', sizes: [300, 300, 300, 300], finishFirst: 2 },
    { name: 'one packet larger than the bound: closed', sizes: [2000], finishFirst: 0, closedAt: 0 },
  ];
  for (const t of cases)
    it(t.name, async () => {
      const { c, handed, writes } = fakeClient();
      const told: string[] = [];
      boundDeliveries(c as unknown as Client, new SubscriberDebts(1000 + 3, 1e9), (_c, why) => told.push(why)); // topic 'x' adds a byte each
      let done = 0;
      t.sizes.forEach((size, i) => {
        if (i === 3 && t.finishFirst) for (const w of writes.splice(0, t.finishFirst)) w();
        c.deliverQoS(pkt('x', size, i % 2), () => done++);
      });
      await new Promise((r) => setImmediate(r));
      expect(done).toBe(t.sizes.length); // the queue never waits for the socket
      if (t.closedAt === undefined) {
        expect(c.closed).toBe(false);
        expect(handed).toHaveLength(t.sizes.length);
        expect(told).toEqual([]);
      } else {
        expect(c.closed).toBe(true);
        expect(handed).toHaveLength(t.closedAt);
        expect(told).toHaveLength(1);
      }
    });

  it('after the client is closed nothing more is handed to it, and it is told once', () => {
    const { c, handed } = fakeClient();
    const told: string[] = [];
    boundDeliveries(c as unknown as Client, new SubscriberDebts(100, 1e9), (_c, why) => told.push(why));
    for (let i = 0; i < 5; i++) c.deliver0(pkt('t', 60), () => undefined);
    expect(handed).toHaveLength(1);
    expect(told).toEqual(['61 bytes unwritten (limit 100)']);
  });

  it("past the identity's bound its client owing the most is closed, whichever the packet is for; other identities go on", () => {
    const debts = new SubscriberDebts(1000, 1500);
    const a = fakeClient('viewer', 'a');
    const b = fakeClient('viewer', 'b');
    const other = fakeClient('ops', 'o');
    const told: string[] = [];
    for (const f of [a, b, other]) boundDeliveries(f.c as unknown as Client, debts, (c, why) => told.push(`${(c as unknown as { id: string }).id}: ${why}`));
    for (let i = 0; i < 9; i++) a.c.deliver0(pkt('t', 99), () => undefined); // a owes 900
    for (let i = 0; i < 5; i++) other.c.deliver0(pkt('t', 99), () => undefined); // another identity's 500 do not count
    for (let i = 0; i < 6; i++) b.c.deliver0(pkt('t', 99), () => undefined); // b reaches 600: 1,500 with a's
    expect(a.c.closed).toBe(false);
    b.c.deliver0(pkt('t', 99), () => undefined); // past 1,500: a owes the most
    expect(a.c.closed).toBe(true);
    expect(b.c.closed).toBe(false);
    expect(b.handed).toHaveLength(7);
    expect(other.c.closed).toBe(false);
    expect(told).toEqual(['a: the clients of user:viewer owe 1500 bytes unwritten (limit 1500)']);
    // While a's writes are still unanswered (its connection closing), what it owes does not close b as well.
    for (let i = 0; i < 3; i++) b.c.deliver0(pkt('t', 99), () => undefined); // b owes 1,000 (its own bound), a still 900
    expect(b.c.closed).toBe(false);
    expect(told).toHaveLength(1);
    // What a client wrote no longer counts: a's writes finish (its connection closed).
    for (const w of a.writes.splice(0)) w();
    expect(debts.owed('user:viewer')).toBe(1000);
  });

  it('the biggest debtor being the client the packet is for: it is closed and the packet not handed', () => {
    const debts = new SubscriberDebts(1000, 500);
    const a = fakeClient('viewer', 'a');
    boundDeliveries(a.c as unknown as Client, debts, () => undefined);
    for (let i = 0; i < 6; i++) a.c.deliver0(pkt('t', 99), () => undefined);
    expect(a.c.closed).toBe(true);
    expect(a.handed).toHaveLength(5);
  });
});

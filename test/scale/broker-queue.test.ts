/**
 * The broker's message queue (master/broker/emitter.ts), in memory: no recursion however long the queue, a node's
 * lease and status never wait behind anything, clients and the master take turns, order kept within a class.
 */
import { describe, expect, it } from 'vitest';
import { BrokerQueue, Fifo, classify } from '../../master/broker/emitter.js';
import { topics } from '../../protocol/index.js';

const liveness = (t: string) => t.endsWith('/lease') || t.endsWith('/status');
type Held = { done: () => void; topic: string };

/** A queue with `slots` slots, and a listener on `held/#` that holds every message until released. */
function saturated(slots: number) {
  const q = new BrokerQueue(slots, liveness);
  const held: Held[] = [];
  q.on('held/#', (p, done) => held.push({ done, topic: p.topic }));
  for (let i = 0; i < slots; i++) q.emit({ topic: `held/${i}` });
  return { q, held };
}

describe('Fifo', () => {
  it('keeps order across compactions', () => {
    const f = new Fifo<number>();
    const out: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      f.push(i);
      if (i % 3 === 0) out.push(f.shift()!);
    }
    for (let x = f.shift(); x !== undefined; x = f.shift()) out.push(x);
    expect(out).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(f.length).toBe(0);
  });
});

describe('BrokerQueue', () => {
  it('drains 200,000 queued messages without a subscriber in one loop (mqemitter recursed once per message: RangeError)', () => {
    const { q, held } = saturated(10);
    let completed = 0;
    for (let i = 0; i < 200_000; i++) q.emit({ topic: `nobody/${i}`, clientId: 'c' }, () => completed++);
    expect(q.length).toBe(200_000);
    expect(() => held.splice(0).forEach((h) => h.done())).not.toThrow();
    expect(completed).toBe(200_000);
    expect(q.length).toBe(0);
  });

  it('delivers a lease and a status at once while every slot is held and thousands wait', () => {
    const { q } = saturated(5);
    for (let i = 0; i < 5000; i++) q.emit({ topic: `master/${i}` });
    const got: string[] = [];
    q.on('skiff/v1/nodes/+/lease', (p, done) => (got.push(p.topic), done()));
    q.on('skiff/v1/nodes/+/status', (p, done) => (got.push(p.topic), done()));
    let acked = 0;
    q.emit({ topic: topics.nodeLease('pi-1'), clientId: 'skiff-agent-pi-1' }, () => acked++);
    q.emit({ topic: topics.nodeStatus('pi-1'), clientId: 'skiff-agent-pi-1' }, () => acked++);
    expect(got).toEqual([topics.nodeLease('pi-1'), topics.nodeStatus('pi-1')]);
    expect(acked).toBe(2);
  });

  it("gives clients' messages and the master's own turns, each class in order", () => {
    const { q, held } = saturated(1);
    const order: string[] = [];
    q.on('+/+', (p, done) => (order.push(p.topic), done()));
    for (let i = 0; i < 3; i++) q.emit({ topic: `master/${i}` });
    for (let i = 0; i < 3; i++) q.emit({ topic: `client/${i}`, clientId: 'c' });
    held[0].done();
    const cls = order.map((t) => t.split('/')[0]);
    expect(cls.every((c, i) => i === 0 || c !== cls[i - 1])).toBe(true); // alternating
    expect(order.filter((t) => t.startsWith('client'))).toEqual(['client/0', 'client/1', 'client/2']);
    expect(order.filter((t) => t.startsWith('master'))).toEqual(['master/0', 'master/1', 'master/2']);
  });

  it('counts a message done once its slowest listener is, and says so to the publisher', () => {
    const q = new BrokerQueue(10);
    const dones: (() => void)[] = [];
    q.on('a/#', (_p, done) => dones.push(done));
    q.on('a/b', (_p, done) => dones.push(done));
    let acked = false;
    q.emit({ topic: 'a/b' }, () => (acked = true));
    dones[0]();
    expect(acked).toBe(false);
    dones[1]();
    expect(acked).toBe(true);
  });

  it('matches as aedes expects: + and # wildcards, empty levels', () => {
    const q = new BrokerQueue(10);
    const got: string[] = [];
    q.on('x/+/z', (p, done) => (got.push(`+ ${p.topic}`), done()));
    q.on('x/#', (p, done) => (got.push(`# ${p.topic}`), done()));
    q.emit({ topic: 'x/y/z' });
    q.emit({ topic: 'x//z' });
    expect(got.sort()).toEqual(['# x//z', '# x/y/z', '+ x//z', '+ x/y/z']);
  });

  it('refuses after close', async () => {
    const q = new BrokerQueue(1);
    await new Promise<void>((r) => q.close(r));
    let err: Error | undefined;
    q.emit({ topic: 'a' }, (e) => (err = e));
    expect(err?.message).toMatch(/closed/);
  });

  it('classifies by who published and what', () => {
    expect(classify({ topic: 'skiff/v1/nodes/a/lease', clientId: 'x' }, liveness)).toBe('liveness');
    expect(classify({ topic: 'skiff/v1/nodes/a/pods', clientId: 'x' }, liveness)).toBe('clients');
    expect(classify({ topic: 'skiff/v1/nodes/a/lease' }, liveness)).toBe('master');
  });
});

/**
 * How many API requests one identity has at once (master/api/request-gate.ts), in memory: the gate's rules table by
 * table, then the API server around it — a request waiting its turn is answered in order, a full waiting line
 * disconnects the asking client (or, with no broker to disconnect it, is refused under the request's id), and an
 * answer left unwritten past the limit disconnects its client.
 */
import { describe, expect, it } from 'vitest';
import { Audit } from '../../master/api/audit.js';
import { ApiServer, streamBacklog } from '../../master/api/server.js';
import { RequestGate, requestLimits, type RequestLimits } from '../../master/api/request-gate.js';
import { wholePayload } from '../../master/broker/fast-api.js';
import { decodeObject, encode, silentLogger, type ApiResponse } from '../../protocol/index.js';
import { eventually } from '../helpers/wait.js';

const limits: RequestLimits = { inFlight: 2, waiting: 3, waitingBytes: 100, writeMs: 1_000 };

/** A request the test finishes by hand. */
function held() {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return { run: () => done, finish };
}

describe('RequestGate: slots and the waiting line, per identity', () => {
  const cases: { name: string; enter: [owner: string, bytes: number][]; started: number; waiting: number; refused: number[] }[] = [
    { name: 'within the slots: all start', enter: [['a', 1], ['a', 1]], started: 2, waiting: 0, refused: [] },
    { name: 'past the slots: the rest wait', enter: [['a', 1], ['a', 1], ['a', 1], ['a', 1]], started: 2, waiting: 2, refused: [] },
    { name: 'past the waiting line: refused', enter: [['a', 1], ['a', 1], ['a', 1], ['a', 1], ['a', 1], ['a', 1]], started: 2, waiting: 3, refused: [5] },
    { name: 'past the waiting bytes: refused, a smaller one still waits', enter: [['a', 1], ['a', 1], ['a', 60], ['a', 60], ['a', 40]], started: 2, waiting: 2, refused: [3] },
    { name: 'identities do not share slots', enter: [['a', 1], ['a', 1], ['b', 1], ['b', 1], ['a', 1]], started: 4, waiting: 1, refused: [] },
  ];
  for (const c of cases)
    it(c.name, () => {
      const gate = new RequestGate(limits);
      let started = 0;
      const refused: number[] = [];
      c.enter.forEach(([owner, bytes], i) => {
        const r = gate.enter(owner, `client-${i}`, bytes, () => (started++, new Promise<void>(() => undefined)));
        if (r === false) refused.push(i);
      });
      expect(started).toBe(c.started);
      expect(gate.load('a').waiting + gate.load('b').waiting).toBe(c.waiting);
      expect(refused).toEqual(c.refused);
    });

  it('a freed slot starts the next waiting request, in order; an idle identity is forgotten', async () => {
    const gate = new RequestGate(limits);
    const order: string[] = [];
    const reqs = ['r0', 'r1', 'r2', 'r3'].map((name) => ({ name, ...held() }));
    const entered = reqs.map((r) => gate.enter('a', 'c', 1, () => (order.push(r.name), r.run())));
    expect(order).toEqual(['r0', 'r1']);
    reqs[1]!.finish();
    await entered[1];
    expect(order).toEqual(['r0', 'r1', 'r2']);
    reqs[0]!.finish();
    await entered[0];
    expect(order).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect(gate.load('a')).toEqual({ inFlight: 2, waiting: 0, waitingBytes: 0 });
    reqs[2]!.finish();
    reqs[3]!.finish();
    await Promise.all(entered);
    expect(gate.size).toBe(0);
  });

  it('a request that throws frees its slot', async () => {
    const gate = new RequestGate(limits);
    await expect(gate.enter('a', 'c', 1, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.enter('a', 'c', 1, () => {
      throw new Error('sync boom');
    })).rejects.toThrow('sync boom');
    expect(gate.size).toBe(0);
  });

  it('a client that goes drops its waiting requests, not the others', async () => {
    const gate = new RequestGate(limits);
    const a = held();
    gate.enter('a', 'gone', 1, a.run);
    gate.enter('a', 'gone', 1, a.run);
    const dropped = gate.enter('a', 'gone', 30, a.run);
    let ranKept = false;
    gate.enter('a', 'kept', 20, () => ((ranKept = true), Promise.resolve()));
    gate.clientGone('gone');
    await dropped; // resolved without running
    expect(gate.load('a')).toEqual({ inFlight: 2, waiting: 1, waitingBytes: 20 });
    a.finish();
    await eventually(() => ranKept, 'the other client\'s request ran');
  });

  it('an answer in writing past writeMs is overdue once; a handler still running never is', () => {
    const gate = new RequestGate(limits);
    const slots: { writingSince?: number; clientId: string }[] = [];
    gate.enter('a', 'writer', 1, (s) => (slots.push(s), new Promise(() => undefined)));
    gate.enter('a', 'thinker', 1, (s) => (slots.push(s), new Promise(() => undefined)));
    slots[0]!.writingSince = 10_000;
    expect(gate.overdue(10_900)).toEqual([]);
    expect(gate.overdue(11_001).map((s) => s.clientId)).toEqual(['writer']);
    expect(gate.overdue(99_999)).toEqual([]);
  });

  it('a released slot starts the next waiting request; its late finish frees nothing twice', async () => {
    const gate = new RequestGate(limits);
    const slots: Parameters<Parameters<RequestGate['enter']>[3]>[0][] = [];
    const stuck = held();
    gate.enter('a', 'c', 1, (s) => (slots.push(s), stuck.run()));
    gate.enter('a', 'c', 1, (s) => (slots.push(s), new Promise(() => undefined)));
    let third = false;
    gate.enter('a', 'c', 1, () => ((third = true), new Promise(() => undefined)));
    expect(third).toBe(false);
    gate.release(slots[0]!);
    expect(third).toBe(true);
    stuck.finish();
    await new Promise((r) => setImmediate(r));
    expect(gate.load('a')).toEqual({ inFlight: 2, waiting: 0, waitingBytes: 0 });
  });

  it('the defaults bound what one identity can make the master hold', () => {
    expect(requestLimits.inFlight).toBeGreaterThan(1);
    expect(requestLimits.waiting * 64 * 1024).toBeGreaterThan(requestLimits.waitingBytes); // bytes bind before count for big requests
    expect(requestLimits.writeMs).toBe(60_000);
  });
});

describe('ApiServer behind the gate', () => {
  const viewer = { role: 'user' as const, name: 'viewer', access: 'view' as const };
  function server(o: { disconnect?: boolean; hold?: boolean } = {}) {
    const disconnected: string[] = [];
    const ctx = { log: silentLogger, audit: new Audit(silentLogger), version: '9.9.9', ...(o.disconnect ? { disconnect: (id: string) => (disconnected.push(id), true) } : {}) };
    const answers: ApiResponse[] = [];
    const pending: (() => void)[] = [];
    // An answer is "written" when the test says so (hold), or at once.
    const publish = (_t: string, payload: Buffer | readonly Buffer[]) => {
      answers.push(decodeObject<ApiResponse>(wholePayload(payload)).value);
      return o.hold ? new Promise<void>((r) => pending.push(r)) : Promise.resolve();
    };
    const api = new ApiServer(ctx as never, publish, streamBacklog, limits);
    return { api, answers, pending, disconnected };
  }
  const ask = (id: string) => encode({ id, verb: 'version' }, 'json');

  it('requests past the slots wait and are answered in order once answers are written', async () => {
    const { api, answers, pending } = server({ disconnect: true, hold: true });
    const all = ['a', 'b', 'c', 'd', 'e'].map((id) => api.onRequest('cli', viewer, ask(id)));
    await eventually(() => answers.length === 2, 'two answers in writing');
    expect(answers.map((a) => a.id)).toEqual(['a', 'b']);
    pending.shift()!();
    await eventually(() => answers.length === 3, 'the first waiting one answered');
    while (answers.length < 5 || pending.length > 0) {
      pending.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    expect(answers.map((a) => [a.id, a.ok])).toEqual(['a', 'b', 'c', 'd', 'e'].map((id) => [id, true]));
    api.close();
  });

  it('a full waiting line disconnects the asking client', async () => {
    const { api, answers, disconnected } = server({ disconnect: true, hold: true });
    for (let i = 0; i < 6; i++) void api.onRequest('flood', viewer, ask(`r${i}`));
    await eventually(() => disconnected.length === 1, 'the flooding client disconnected');
    expect(disconnected).toEqual(['flood']);
    expect(answers.map((a) => a.id)).toEqual(['r0', 'r1']); // nothing answered past the slots
    api.clientGone('flood');
    api.close();
  });

  it('with no broker to disconnect the client (an external broker), the request is refused under its id', async () => {
    const { api, answers } = server({ hold: true });
    for (let i = 0; i < 6; i++) void api.onRequest('flood', viewer, ask(`r${i}`));
    const refusal = await eventually(() => answers.find((a) => a.id === 'r5'), 'the refusal');
    expect(answers.map((a) => a.id).sort()).toEqual(['r0', 'r1', 'r5']);
    expect(refusal).toMatchObject({ id: 'r5', ok: false, error: { code: 'SKIFF_ERR_UNAVAILABLE' } });
    expect(refusal.error!.message).toMatch(/too many requests: more than 3 requests or 100 bytes of them waiting for user:viewer/);
    api.close();
  });

  it('an answer not written within writeMs, with no broker to disconnect its client, gives its slot back', async () => {
    const { api, answers } = server({ hold: true });
    void api.onRequest('cli', viewer, ask('a'));
    void api.onRequest('cli', viewer, ask('b'));
    void api.onRequest('cli', viewer, ask('c'));
    await eventually(() => answers.length === 2, 'two in writing');
    await eventually(() => answers.length === 3, 'the third answered once the overdue slots were given back', 5_000);
    api.close();
  });

  it('an answer not taken within writeMs disconnects its client', async () => {
    const { api, disconnected } = server({ disconnect: true, hold: true });
    void api.onRequest('stuck', viewer, ask('x'));
    await eventually(() => disconnected.includes('stuck'), 'the client that does not read is disconnected', 5_000);
    api.close();
  });
});

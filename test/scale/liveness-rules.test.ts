/**
 * The liveness rules, table by table in memory: a stream whose client falls behind is ended with SKIFF_ERR_GONE
 * (and only that stream), the lease grace is extended by the master's own stalls, and most nodes going silent at
 * once is a disruption (no taints, no evictions).
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, silentLogger, type KObject } from '../../protocol/index.js';
import { Audit } from '../../master/api/audit.js';
import { ApiServer, identityBacklogFactor } from '../../master/api/server.js';
import type { ChangeHandler } from '../../master/informer.js';
import { StallLedger } from '../../master/nodes/status.js';
import { disrupted } from '../../master/controllers/nodelifecycle.js';
import { wholePayload } from '../../master/broker/fast-api.js';

const admin = { role: 'admin', name: 'admin' } as const;
const cm = (i: number): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'default' } });

/** An API server over a fake informer; `slow` clients never get a piece written (their publish never settles). */
function apiWith(limit: { pieces: number; bytes: number; ageMs: number }, slow: (clientId: string) => boolean, disconnect?: (clientId: string) => boolean) {
  const handlers: ChangeHandler[] = [];
  const answers = new Map<string, { id: string; ok: boolean; done?: boolean; error?: { code: string; message: string } }[]>();
  const informers = { on: (_k: string, h: ChangeHandler) => handlers.push(h), off: (_k: string, h: ChangeHandler) => handlers.splice(handlers.indexOf(h), 1) };
  const ctx = { log: silentLogger, audit: new Audit(silentLogger), informers, ...(disconnect ? { disconnect } : {}) };
  const publish = (_topic: string, payload: Buffer | readonly Buffer[], clientId: string) => {
    answers.set(clientId, [...(answers.get(clientId) ?? []), decode<never>(wholePayload(payload)).value]);
    return slow(clientId) ? new Promise<void>(() => {}) : Promise.resolve();
  };
  const api = new ApiServer(ctx as never, publish, limit);
  const fire = (n: number) => {
    for (let i = 0; i < n; i++) for (const h of [...handlers]) h(cm(i), undefined, cm(i));
  };
  return { api, answers, handlers, fire };
}

const watchReq = (id: string) => encode({ id, verb: 'watch', kind: 'ConfigMap', namespace: 'default' });

describe('a stream whose client falls behind', () => {
  it('is ended with SKIFF_ERR_GONE once too many pieces are unsent, and stops listening; a client keeping up is not', async () => {
    const f = apiWith({ pieces: 10, bytes: 1 << 30, ageMs: 60_000 }, (c) => c === 'slow');
    await f.api.onRequest('slow', admin, watchReq('w1'));
    await f.api.onRequest('fast', admin, watchReq('w2'));
    expect(f.handlers).toHaveLength(2);
    // Ten bursts with the event loop turning between them (writes of a client keeping up complete meanwhile).
    for (let i = 0; i < 10; i++) {
      f.fire(10);
      await new Promise((r) => setImmediate(r));
    }
    const slow = f.answers.get('slow')!;
    expect(slow.filter((a) => a.ok)).toHaveLength(10);
    expect(slow.at(-1)).toMatchObject({ id: 'w1', ok: false, done: true, error: { code: 'SKIFF_ERR_GONE' } });
    expect(slow.at(-1)!.error!.message).toMatch(/10 pieces unsent \(limit 10\)/);
    expect(f.handlers).toHaveLength(1); // the slow watch let go of the informer
    expect(f.answers.get('fast')!.filter((a) => a.ok)).toHaveLength(100);
  });

  it('is ended when its oldest unsent piece is older than the age limit, and by bytes', async () => {
    const byAge = apiWith({ pieces: 1_000_000, bytes: 1 << 30, ageMs: 0 }, () => true);
    await byAge.api.onRequest('c', admin, watchReq('w'));
    byAge.fire(1);
    await new Promise((r) => setTimeout(r, 5));
    byAge.fire(1);
    expect(byAge.answers.get('c')!.at(-1)).toMatchObject({ ok: false, error: { code: 'SKIFF_ERR_GONE', message: expect.stringMatching(/oldest unsent piece/) } });
    const byBytes = apiWith({ pieces: 1_000_000, bytes: 500, ageMs: 60_000 }, () => true);
    await byBytes.api.onRequest('c', admin, watchReq('w'));
    byBytes.fire(20);
    expect(byBytes.answers.get('c')!.at(-1)).toMatchObject({ ok: false, error: { code: 'SKIFF_ERR_GONE', message: expect.stringMatching(/bytes unsent/) } });
  });
});

describe("an identity's streams together", () => {
  const limit = { pieces: 10, bytes: 1 << 30, ageMs: 60_000 };
  // Each stuck watch stops at its own bound (10 unsent); five of them owe 50, past the identity's 4 × 10.
  const openStuck = async (api: ApiServer, n: number) => {
    for (let i = 0; i < n; i++) await api.onRequest('stuck', admin, watchReq(`s${i}`));
  };

  it(`past ${identityBacklogFactor} times a stream's bound, the client that owes the most is disconnected; the others go on`, async () => {
    const disconnected: string[] = [];
    const f = apiWith(limit, (c) => c === 'stuck' && !disconnected.includes('stuck'), (c) => (disconnected.push(c), true));
    await f.api.onRequest('fast', admin, watchReq('f'));
    await openStuck(f.api, 5);
    for (let i = 0; i < 12; i++) {
      f.fire(1);
      await new Promise((r) => setImmediate(r));
    }
    expect(disconnected[0]).toBe('stuck');
    expect(f.answers.get('fast')!.filter((a) => a.ok)).toHaveLength(12); // not ended, nothing dropped
    expect(f.answers.get('fast')!.some((a) => !a.ok)).toBe(false);
  });

  it('with no broker to disconnect it, the sending stream is ended with SKIFF_ERR_GONE', async () => {
    const f = apiWith(limit, (c) => c === 'stuck');
    await openStuck(f.api, 5);
    for (let i = 0; i < 12; i++) f.fire(1);
    const ended = f.answers.get('stuck')!.filter((a) => a.error?.code === 'SKIFF_ERR_GONE');
    expect(ended.some((a) => /the streams of admin:admin fell behind/.test(a.error!.message))).toBe(true);
  });

  it('within the bound nobody is disconnected', async () => {
    const disconnected: string[] = [];
    const f = apiWith(limit, (c) => c === 'stuck', (c) => (disconnected.push(c), true));
    await openStuck(f.api, 3);
    for (let i = 0; i < 12; i++) f.fire(1);
    expect(disconnected).toEqual([]);
  });
});

describe('StallLedger: the grace counts only time the master could listen', () => {
  it.each([
    // [checks as [due, ran], since, stalled ms after since]
    [[[1000, 1000], [2000, 2000]], 0, 0],
    [[[1000, 5000]], 0, 4000],
    [[[1000, 5000]], 6000, 0],
    [[[1000, 3000], [4000, 7000]], 2500, 5000],
    [[[1000, 3000], [4000, 7000]], 3500, 3000],
  ] as [[number, number][], number, number][])('checks %j, stalled after %d → %d ms', (checks, since, want) => {
    const l = new StallLedger(60_000);
    for (const [due, ran] of checks) l.record(due, ran);
    expect(l.since(since)).toBe(want);
  });

  it('forgets stalls older than it keeps', () => {
    const l = new StallLedger(10_000);
    l.record(1000, 5000);
    l.record(30_000, 30_000);
    expect(l.since(0)).toBe(0);
  });
});

describe('disruption: most nodes not Ready at once', () => {
  it.each([
    [1, 1, false], // one board down: evict (nothing else would happen anyway)
    [2, 1, false],
    [2, 2, false], // below the minimum of 3
    [3, 3, true],
    [5, 2, false],
    [5, 3, true], // 60 % > 55 %
    [1000, 550, false], // exactly 55 %: not above
    [1000, 551, true],
    [1000, 1000, true],
  ])('%d nodes, %d not Ready → %s', (total, notReady, want) => {
    expect(disrupted(total, notReady)).toBe(want);
  });
});

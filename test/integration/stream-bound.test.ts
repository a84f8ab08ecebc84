/**
 * Open streams are bounded per identity (master/api/server.ts maxStreamsPerIdentity): a client that vanishes
 * without a word — on an external broker the master sees no disconnect — cannot leave watches behind without bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxStreamsPerIdentity } from '../../master/api/server.js';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';

describe('streams per identity', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster([]);
  });
  afterAll(async () => {
    await c?.stop();
  });

  it(`past ${maxStreamsPerIdentity} open watches, the oldest is ended with an error and the newest work`, async () => {
    const aborts: AbortController[] = [];
    const outcomes: (string | undefined)[] = [];
    let opened = 0;
    const watches = Array.from({ length: maxStreamsPerIdentity + 1 }, (_, i) => {
      const a = new AbortController();
      aborts.push(a);
      return c.api
        .stream('watch', { kind: 'Namespace' }, () => undefined, a.signal, () => opened++)
        .then(() => (outcomes[i] = 'ended'))
        .catch((err: Error) => (outcomes[i] = err.message));
    });
    expect(opened).toBe(maxStreamsPerIdentity + 1);
    await eventually(() => outcomes[0] !== undefined, 'the oldest watch ended');
    expect(outcomes[0]).toContain(`more than ${maxStreamsPerIdentity} open streams`);
    // The newest still delivers: a namespace created now reaches it.
    const seen = new Promise<void>((resolve) => {
      const a = new AbortController();
      aborts.push(a);
      void c.api.stream('watch', { kind: 'Namespace' }, (res) => {
        if (JSON.stringify(res).includes('"bounded-ns"')) resolve();
      }, a.signal);
    });
    await c.apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: bounded-ns}\n');
    await seen;
    expect(outcomes.filter((o) => o !== undefined && o !== 'ended')).toHaveLength(2); // the oldest two: one per new watch past the bound
    for (const a of aborts) a.abort();
    await Promise.all(watches);
  });
});

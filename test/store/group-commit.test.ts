/**
 * The group committer on its own, with a fake transaction and fsync: a transaction applies writes for about
 * applyBudgetMs, one per turn, the rest go in later turns with I/O and timers running between them, in the order asked
 * for; nothing is answered before the fsync that covers it, and durable batches are answered in time-bounded turns of
 * their own.
 */
import { describe, expect, it } from 'vitest';
import { applyBudgetMs, gatherMs, gatherWrites, GroupCommitter, turnBudgetMs } from '../../master/store/group-commit.js';
import { eventually } from '../helpers/wait.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

function committer(pressure?: () => Promise<void> | undefined, preparing?: () => boolean) {
  const log: string[] = [];
  let revision = 0;
  let txWrites: number[] = [];
  const txns: number[][] = [];
  const syncs: (() => void)[] = [];
  const times: number[] = [];
  const gc = new GroupCommitter({
    runBatch: (body) => {
      txWrites = [];
      times.push(performance.now());
      body();
      txns.push(txWrites);
      log.push(`commit ${txWrites.length}`);
      return revision;
    },
    sync: () => new Promise<void>((resolve) => syncs.push(resolve)),
    onSynced: (r) => log.push(`synced ${r}`),
    afterDurable: (results, r) => log.push(`durable ${results.length} @${r}`),
    onFatal: () => log.push('fatal'),
    pressure,
    preparing,
  });
  const write = (i: number, ms: number) =>
    gc.submit(() => {
      busy(ms);
      txWrites.push(i);
      return ++revision;
    });
  return { gc, log, txns, syncs, times, write };
}

describe('group commit', () => {
  it('bounds a transaction by time, lets other work run between them, keeps the order, answers after the covering fsync', async () => {
    const c = committer();
    const answered: number[] = [];
    // 60 writes of 1 ms each: ~6 transactions of ~applyBudgetMs.
    const all = Array.from({ length: 60 }, (_, i) => c.write(i, 1).then((r) => answered.push(r)));
    let between = 0;
    const ticker = setInterval(() => between++, 0);
    // Release fsyncs as they come until everything is answered.
    while (answered.length < 60) {
      await new Promise((r) => setImmediate(r));
      c.syncs.shift()?.();
    }
    clearInterval(ticker);
    await Promise.all(all);
    expect(c.txns.flat()).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(c.txns.length).toBeGreaterThanOrEqual(60 / (applyBudgetMs + 2));
    for (const t of c.txns) expect(t.length).toBeLessThanOrEqual(applyBudgetMs + 2);
    expect(between).toBeGreaterThan(0); // timers ran while the backlog was worked off
    expect(answered).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  });

  it("answers a durable batch in time-bounded turns, its writers' continuations included, in order", async () => {
    const c = committer();
    const order: number[] = [];
    let turn = 0;
    const turnsSeen = new Set<number>();
    // 100 instant writes (one transaction), each writer's continuation busy for 0.5 ms: ~50 ms of answering.
    const all = Array.from({ length: 100 }, (_, i) =>
      c.write(i, 0).then(() => {
        busy(0.5);
        order.push(i);
        turnsSeen.add(turn);
      }),
    );
    while (order.length < 100) {
      await new Promise((r) => setImmediate(r));
      turn++;
      c.syncs.shift()?.();
    }
    await Promise.all(all);
    expect(c.txns).toHaveLength(1);
    expect(order).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(turnsSeen.size).toBeGreaterThanOrEqual(3);
  });

  it('commits one transaction per turn of the loop: a backlog goes in later turns, with I/O and timers between them', async () => {
    const c = committer();
    let phase = 0; // counts check phases: an immediate queued during one runs in the next
    let ticker: NodeJS.Immediate;
    const tick = () => {
      phase++;
      ticker = setImmediate(tick);
    };
    ticker = setImmediate(tick);
    const phases: number[] = [];
    const answered: number[] = [];
    const all = Array.from({ length: 40 }, (_, i) =>
      c.gc
        .submit(() => {
          if (phases.length === c.txns.length) phases.push(phase); // the first write of a transaction
          busy(1);
          return i;
        })
        .then((r) => answered.push(r)),
    );
    while (answered.length < 40) {
      await new Promise((r) => setImmediate(r));
      c.syncs.shift()?.();
    }
    clearImmediate(ticker!);
    await Promise.all(all);
    expect(phases.length).toBeGreaterThanOrEqual(40 / (turnBudgetMs + 2));
    expect(new Set(phases).size).toBe(phases.length); // never two transactions in one turn
  });

  it("answers in a task of its own: not in the fsync's callback, which publishes the batch", async () => {
    const c = committer();
    let answered = 0;
    const all = Array.from({ length: 5 }, (_, i) => c.write(i, 0).then(() => answered++));
    await eventually(() => c.syncs.length === 1, 'the fsync starts');
    c.syncs.shift()!();
    for (let i = 0; i < 10; i++) await Promise.resolve(); // the fsync's callback and every microtask after it
    expect(c.log).toContain('durable 5 @5'); // published...
    expect(answered).toBe(0); // ...but nobody answered in that task
    await new Promise((r) => setImmediate(r));
    await Promise.all(all);
    expect(answered).toBe(5);
  });

  it('an SQL error refuses exactly the writes its transaction applied; the queue goes on', async () => {
    let failNext = true;
    let revision = 0;
    let appliedInFailed = 0;
    const syncs: (() => void)[] = [];
    const gc = new GroupCommitter({
      runBatch: (body) => {
        const before = revision;
        body();
        if (failNext) {
          failNext = false;
          appliedInFailed = revision - before;
          revision = before; // rolled back
          throw new Error('SQLITE_FULL: database or disk is full');
        }
        return revision;
      },
      sync: () => new Promise<void>((resolve) => syncs.push(resolve)),
      onSynced: () => {},
      afterDurable: () => {},
      onFatal: () => {},
    });
    // 30 writes of 1 ms: the first transaction takes ~applyBudgetMs of them, fails at COMMIT; the rest commit.
    const results = Array.from({ length: 30 }, () =>
      gc.submit(() => {
        busy(1);
        return ++revision;
      }).then(
        () => 'ok',
        (err: Error) => err.message,
      ),
    );
    const settled: string[] = [];
    void Promise.all(results).then((r) => settled.push(...r));
    while (settled.length === 0) {
      await new Promise((r) => setImmediate(r));
      syncs.shift()?.();
    }
    const failed = settled.filter((r) => r.startsWith('SQLITE_FULL')).length;
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBe(appliedInFailed);
    expect(settled.slice(0, failed).every((r) => r.startsWith('SQLITE_FULL'))).toBe(true);
    expect(settled.slice(failed).every((r) => r === 'ok')).toBe(true);
  });

  it('runs one fsync at a time; a few writes asked for during one wait for it, gatherMs at most, and the next fsync covers them', async () => {
    const c = committer();
    const first = c.write(1, 0);
    await eventually(() => c.syncs.length === 1, 'the first fsync starts');
    const asked = performance.now();
    let secondDone = false;
    const second = c.write(2, 0).then(() => (secondDone = true));
    await eventually(() => c.txns.length === 2, 'the second write is committed while the fsync is held');
    expect(c.times[1]! - asked).toBeGreaterThanOrEqual(gatherMs - 0.5); // it waited for the fsync first
    expect(c.syncs).toHaveLength(1); // one fsync at a time
    c.syncs.shift()!();
    await first;
    expect(secondDone).toBe(false); // committed after the first fsync started: it needs the next one
    await eventually(() => c.syncs.length === 1, 'the second fsync starts');
    c.syncs.shift()!();
    await second;
    expect(c.log.filter((l) => l.startsWith('synced'))).toEqual(['synced 1', 'synced 2']);
  });

  it('a few writes wait for the writes still being prepared (values in the deflate worker), gatherMs at most, and share their transaction', async () => {
    let preparing = true;
    const c = committer(undefined, () => preparing);
    const first = c.write(1, 0);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(c.txns).toHaveLength(0); // waiting for the one being prepared
    const second = c.write(2, 0); // its value is back
    preparing = false;
    await eventually(() => c.txns.length === 1, 'committed once nothing is being prepared');
    expect(c.txns).toEqual([[1, 2]]);
    c.syncs.shift()!();
    await Promise.all([first, second]);
    // Always preparing (a steady stream): a write still goes in after gatherMs.
    preparing = true;
    const asked = performance.now();
    const third = c.write(3, 0);
    await eventually(() => c.txns.length === 2, 'committed after gatherMs');
    expect(c.times[1]! - asked).toBeGreaterThanOrEqual(gatherMs - 0.5);
    c.syncs.shift()!();
    await third;
  });

  it('a backlog is committed while an fsync runs (it does not wait for each fsync)', async () => {
    const c = committer();
    void c.write(0, 0);
    await new Promise((r) => setImmediate(r));
    expect(c.syncs).toHaveLength(1);
    const many = Array.from({ length: gatherWrites }, (_, i) => c.write(i + 1, 0));
    await new Promise((r) => setImmediate(r));
    expect(c.txns.flat()).toHaveLength(gatherWrites + 1); // committed behind the held fsync
    while (c.syncs.length > 0) {
      c.syncs.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(many);
  });

  it('holds every write while the store asks for it (a WAL at its hard limit), and commits them once the hold ends', async () => {
    let release!: () => void;
    let asked = 0;
    let holdNext = true;
    const c = committer(() => {
      asked++;
      if (!holdNext) return undefined;
      holdNext = false;
      return new Promise<void>((resolve) => (release = resolve));
    });
    const answered: number[] = [];
    const all = Array.from({ length: 10 }, (_, i) => c.write(i, 0).then((r) => answered.push(r)));
    await eventually(() => asked === 1, 'the committer asks before its turn');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(c.txns).toEqual([]); // nothing committed while held
    expect(asked).toBe(1); // nor asked again: the hold's end wakes it
    expect(c.gc.stats.holds).toBe(1);
    release();
    while (answered.length < 10) {
      await new Promise((r) => setImmediate(r));
      c.syncs.shift()?.();
    }
    await Promise.all(all);
    expect(c.txns.flat()).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(answered).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });
});


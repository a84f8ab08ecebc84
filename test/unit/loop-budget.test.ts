import { describe, expect, it } from 'vitest';
import { LoopBudget, type LoopClock } from '../../master/loop-budget.js';

/** A clock the test moves, and check phases it starts by hand (the budget's next-phase callbacks run then). */
function fakeLoop() {
  let t = 1000;
  let queued: (() => void)[] = [];
  const clock: LoopClock = { now: () => t, nextPhase: (fn) => void queued.push(fn) };
  return {
    clock,
    advance: (ms: number) => (t += ms),
    phase: () => {
      const due = queued;
      queued = [];
      for (const fn of due) fn();
    },
  };
}

/** A worker with work in every phase: its cap, its minimum, how much of its allowance it uses, the microtasks it wakes. */
interface FakeWorker {
  name: string;
  cap: number;
  min?: number;
  uses?: number;
  /** ms of continuations its turn wakes (run after it, before the next worker's immediate). */
  after?: number;
}

/** Runs `phases` check phases of `workers` in queue order; returns each phase's allowances. */
function simulate(workers: FakeWorker[], phases: number, budgetMs = 7, fairMs = 2): number[][] {
  const loop = fakeLoop();
  const budget = new LoopBudget(budgetMs, loop.clock, fairMs);
  const out: number[][] = [];
  for (let p = 0; p < phases; p++) {
    loop.phase();
    loop.advance(3); // the poll phase between two check phases
    out.push(
      workers.map((w) => {
        const given = budget.turn(w.name, w.cap, w.min);
        loop.advance(Math.min(given, w.uses ?? given) + (w.after ?? 0));
        return given;
      }),
    );
  }
  return out;
}

describe('loop budget: turns of one check phase share one budget', () => {
  const A = { name: 'commit', cap: 4 };
  const B = { name: 'hub', cap: 4 };
  const C = { name: 'inbound', cap: 4 };
  const cases: { name: string; workers: FakeWorker[]; phases: number; want: number[][] }[] = [
    { name: 'a worker alone gets its own cap, phase after phase', workers: [A], phases: 2, want: [[4], [4]] },
    { name: 'the next worker gets what is left of the budget', workers: [A, B], phases: 2, want: [[4, 3], [4, 3]] },
    { name: 'a worker that ends early leaves the rest to the next', workers: [{ ...A, uses: 1 }, B], phases: 1, want: [[4, 4]] },
    {
      name: 'past the budget a worker still gets its minimum, and its fair share in the next phase',
      workers: [A, B, C],
      phases: 4,
      // C squeezed to 1 ms is owed in phase 2: A and B leave it 2 ms (B, squeezed then, is owed in phase 3).
      want: [
        [4, 3, 1],
        [4, 1, 2],
        [4, 3, 1],
        [4, 1, 2],
      ],
    },
    { name: "an earlier worker's continuations count against the budget", workers: [{ ...A, after: 2 }, B], phases: 1, want: [[4, 1]] },
    { name: "a worker's own minimum holds past the budget", workers: [A, { ...B, after: 3 }, { ...C, min: 4, cap: 10 }], phases: 1, want: [[4, 3, 4]] },
    { name: 'a worker whose cap is under the fair share is never owed', workers: [{ ...A, cap: 7 }, { ...B, cap: 1 }], phases: 2, want: [[7, 1], [7, 1]] },
  ];
  for (const c of cases) it(c.name, () => expect(simulate(c.workers, c.phases)).toEqual(c.want));

  it('no worker starves: with five busy workers each gets at least its minimum every phase, and each gets a fair share within two phases', () => {
    const workers = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, cap: 4 }));
    const phases = simulate(workers, 20);
    for (const p of phases) for (const given of p) expect(given).toBeGreaterThanOrEqual(1);
    for (let p = 1; p < phases.length; p++)
      for (let w = 0; w < workers.length; w++) expect(Math.max(phases[p - 1]![w]!, phases[p]![w]!)).toBeGreaterThanOrEqual(2);
  });

  it('bounds the phase: what the turns are given stays within the budget plus the minimum of those past it', () => {
    const workers = ['a', 'b', 'c', 'd'].map((name) => ({ name, cap: 4 }));
    for (const p of simulate(workers, 10)) expect(p.reduce((s, g) => s + g, 0)).toBeLessThanOrEqual(7 + 1 * (workers.length - 1));
  });

  it('the phase clock starts at the first turn of a check phase and is cleared at the start of the next', () => {
    const loop = fakeLoop();
    const budget = new LoopBudget(7, loop.clock);
    expect(budget.elapsed()).toBe(0);
    expect(budget.spent()).toBe(false);
    budget.turn('a', 4);
    loop.advance(5);
    expect(budget.elapsed()).toBe(5);
    budget.enter(); // a second turn in the phase does not move the mark
    loop.advance(2);
    expect(budget.spent()).toBe(true);
    loop.phase();
    expect(budget.elapsed()).toBe(0);
    expect(budget.spent()).toBe(false);
    expect(budget.stats.phases).toBe(1);
  });

  it('an indivisible task (enter) counts for the turns after it', () => {
    const loop = fakeLoop();
    const budget = new LoopBudget(7, loop.clock);
    budget.enter();
    loop.advance(5);
    expect(budget.turn('a', 4)).toBe(2);
  });
});

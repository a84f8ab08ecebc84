/**
 * One time budget for the master's background work per iteration of the event loop (issue 16: API get p99 < 20 ms).
 *
 * Why: an API request is read and answered in the poll phase (broker/fast-api.ts) in well under a millisecond, but it
 * waits for the loop to come back to poll. In a rollout several workers each run a turn of their own from a
 * `setImmediate` — the store's commit and answer turns, the watch hub's delivery, the inbound agent messages, the
 * controllers' slice gate, the scheduler's batch — and Node runs every immediate queued before the check phase began
 * back to back, with the microtasks each one wakes (a writer's continuation) right after it. Each turn was bounded
 * (~4 ms), but together they made 20–30 ms iterations, and a get waited for most of one.
 *
 * How: the first worker to start a turn in a check phase marks the phase's start and queues an immediate that clears
 * the mark at the start of the next check phase (an immediate queued in the check phase runs in the next one, ahead of
 * every immediate queued after it). Node drains the microtasks between two immediates, so a later worker reads on the
 * phase clock everything that ran before it, the earlier workers' continuations included, and is given what is left
 * of `iterationBudgetMs` (capped by its own turn length). What it does not do waits for its next turn (its own
 * setImmediate), so the loop goes back to poll after about the budget.
 *
 * Requests first: at the start of every turn (and of every indivisible task that tells the budget it begins) the budget
 * asks its `preempt` hooks — the broker's API lane (broker/api-lane.ts), which reads the API clients' connections that
 * have bytes waiting — and a turn that begins just after one read something is cut to `minMs`; the workers also ask
 * `interrupted()` between their units of work and end their turn when it says so. The request is then parsed and
 * answered in the ticks right after that turn, not after the whole iteration.
 *
 * No starvation: a worker reached after the budget is spent still gets `minMs` (it makes progress every iteration);
 * and a worker that was squeezed below `fairShareMs` in one phase is owed in the next: the workers that run before it
 * there leave `fairShareMs` of the budget for it, and it gets at least that, so being queued last does not mean getting
 * the crumbs for good. A phase can so run past the budget by the minimums and fair shares of the workers past it.
 */

/**
 * The work all budgeted turns of one check phase may do together (their microtasks included), in ms. With the poll
 * phase's reads, GC and the unbudgeted immediates (aedes' deliveries) an iteration of a 10,000-pod rollout is then
 * ~5–10 ms; 5 ms gave get p99 11.6–15.4 ms against 14.1–24.6 ms with 7 ms, and no fewer pods/s (docs/scale.md).
 */
export const iterationBudgetMs = 5;
/** What a worker gets when the budget is spent, in ms: it still moves on every iteration. */
export const minTurnMs = 1;
/** What a worker squeezed in the last phase is kept free for by those ahead of it in the next one, in ms. */
export const fairShareMs = 2;

/** The clock and the scheduling the budget uses (tests give fakes). */
export interface LoopClock {
  now(): number;
  /** Runs `fn` at the start of the next check phase (setImmediate). */
  nextPhase(fn: () => void): void;
}

const realClock: LoopClock = { now: () => performance.now(), nextPhase: (fn) => void setImmediate(fn) };

/** The shared per-iteration budget; see the module comment. */
export class LoopBudget {
  /** When this check phase's first budgeted turn began; undefined until one begins. */
  private phaseStart: number | undefined;
  /** Workers squeezed in the last phase: the ones ahead of them leave them a fair share. */
  private owed = new Set<string>();
  /** Workers squeezed in this phase (owed in the next). */
  private squeezed = new Set<string>();
  /** Workers that have had their turn in this phase (no longer owed room in it). */
  private served = new Set<string>();
  /** Called when a turn or an indivisible task begins; true when it read a request the loop should get to soon. */
  private readonly preempts = new Set<() => boolean>();
  /** Turns begun, turns cut to the minimum, and turns cut for a request read by a preempt hook (telemetry, tests). */
  readonly stats = { turns: 0, squeezed: 0, phases: 0, preempted: 0 };

  constructor(
    private readonly budgetMs = iterationBudgetMs,
    private readonly clock: LoopClock = realClock,
    private readonly fairMs = fairShareMs,
  ) {}

  /**
   * A worker begins a turn: the ms it may run for now — what is left of the budget (less what owed workers not yet
   * served are kept), at most `capMs`, at least `minMs`. Call it at the start of each immediate that does budgeted work.
   */
  turn(worker: string, capMs: number, minMs = minTurnMs): number {
    const urgent = this.preempted();
    const now = this.clock.now();
    this.mark(now);
    this.stats.turns++;
    this.served.add(worker);
    let kept = 0;
    for (const o of this.owed) if (!this.served.has(o)) kept += this.fairMs;
    const left = this.budgetMs - (now - this.phaseStart!) - kept;
    // An owed worker gets its fair share even when those ahead of it took more than they left (five busy workers).
    const floor = this.owed.has(worker) ? Math.max(minMs, Math.min(capMs, this.fairMs)) : minMs;
    // A request was just read: this turn is its minimum, and the request is answered in the ticks after it.
    const given = urgent ? Math.min(capMs, minMs) : Math.max(floor, Math.min(capMs, left));
    if (urgent) this.stats.preempted++;
    if (given < Math.min(capMs, this.fairMs)) {
      this.squeezed.add(worker);
      this.stats.squeezed++;
    }
    return given;
  }

  /** How long this check phase's budgeted work has run, in ms (0 before the first turn of the phase). */
  elapsed(): number {
    return this.phaseStart === undefined ? 0 : this.clock.now() - this.phaseStart;
  }

  /** True once the work of this check phase has used the budget: work that can wait for the next iteration should. */
  spent(): boolean {
    return this.elapsed() >= this.budgetMs;
  }

  /** A turn that takes no allowance (one indivisible task) begins: the phase's clock counts it for the turns after it. */
  enter(): void {
    this.preempted();
    this.mark(this.clock.now());
  }

  /**
   * Asked by a turn between its units of work: true when a preempt hook just read a request — the turn should end now
   * (its worker goes on from its next setImmediate), and the request is answered in the ticks right after it.
   */
  interrupted(): boolean {
    if (this.preempts.size === 0 || !this.preempted()) return false;
    this.stats.preempted++;
    return true;
  }

  /** Adds a hook asked at the start of every turn (see the module comment); returns its removal. */
  addPreempt(fn: () => boolean): () => void {
    this.preempts.add(fn);
    return () => void this.preempts.delete(fn);
  }

  // Asks every hook (each one, even after one said yes); true when one read something.
  private preempted(): boolean {
    let urgent = false;
    for (const fn of this.preempts) if (fn()) urgent = true;
    return urgent;
  }

  private mark(now: number): void {
    if (this.phaseStart !== undefined) return;
    this.phaseStart = now;
    this.stats.phases++;
    this.clock.nextPhase(() => this.nextPhase());
  }

  // The start of the next check phase: the squeezed become owed, the clock waits for the phase's first turn.
  private nextPhase(): void {
    this.phaseStart = undefined;
    this.owed = this.squeezed;
    this.squeezed = new Set();
    this.served.clear();
  }
}

/** The master's one budget (one event loop, one budget). */
export const loopBudget = new LoopBudget();

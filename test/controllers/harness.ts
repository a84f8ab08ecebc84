/**
 * The in-memory controller harness (Kubernetes tests controllers with a fake clientset and informers;
 * Skiff's are cheap enough to be real): a `:memory:` SQLite store, the real Objects and Informers, an
 * event recorder and a fake clock. Controllers run as in the master, with their queues; `settle()`
 * waits until every write has reached the cache and no controller has work left, and `advance(ms)`
 * moves the clock, settling after each timer it fires. No agents and no scheduler: a test plays
 * their part with `bind`, `setPhase` and `setReady`. Every rule test runs in milliseconds. With `admission`,
 * creates and applies meet the master's admission (Service allocation, storage defaults, LimitRanger,
 * ResourceQuota) and the `local-path` StorageClass exists, as in the master.
 */
import { normalizeObject, silentLogger, type KindMap, type KindName, type KObject, type Logger, type LogFields, type Pod } from '../../protocol/index.js';
import { addAdmission } from '../../master/admission/plugins.js';
import type { Controller, ControllerContext } from '../../master/controllers/types.js';
import { ensureLocalPathClass } from '../../master/controllers/volumes/local-path.js';
import { EventRecorder } from '../../master/events.js';
import { Informers } from '../../master/informer.js';
import { MetricsStore } from '../../master/metrics.js';
import { Objects } from '../../master/objects.js';
import { openSqliteStore } from '../../master/store/sqlite.js';
import type { Store } from '../../master/store/types.js';
import { FakeClock } from './fake-clock.js';

/** Rounds of settling before a test is told its controllers never come to rest (a sync that always writes). */
const maxSettleRounds = 200;

/**
 * A logger that keeps warnings and errors (a sync that threw, a handler that failed): `settle()` fails
 * the test with them, so a controller cannot break quietly behind a passing assertion.
 */
class ProblemLog implements Logger {
  readonly lines: string[] = [];
  debug(): void {}
  info(): void {}
  warn(msg: string, fields?: LogFields): void {
    this.lines.push(`warn: ${msg} ${describe(fields)}`);
  }
  error(msg: string, fields?: LogFields): void {
    this.lines.push(`error: ${msg} ${describe(fields)}`);
  }
}

function describe(fields: LogFields | undefined): string {
  const { err, ...rest } = fields ?? {};
  return `${JSON.stringify(rest)}${err ? ` ${(err as Error).stack ?? err}` : ''}`;
}

/** How a harness is opened. */
export interface HarnessOptions {
  /** The master's admission on every create and apply (quota, LimitRange, storage defaults, Service allocation). */
  admission?: boolean;
  /** Draws generateName suffixes (Objects' nameSuffix): tests make names collide on purpose. */
  nameSuffix?: () => string;
}

/** A controller world in memory. */
export class Harness {
  private readonly controllers: Controller[] = [];

  private constructor(
    readonly log: ProblemLog,
    readonly clock: FakeClock,
    readonly store: Store,
    readonly objects: Objects,
    readonly informers: Informers,
    readonly events: EventRecorder,
    /** Pod samples and external metrics the HPA reads. */
    readonly metrics: MetricsStore,
  ) {}

  /** A fresh world with the `default` namespace (and, with `admission`, the local-path class), as the master creates it. */
  static async open(opts: HarnessOptions = {}): Promise<Harness> {
    const log = new ProblemLog();
    const clock = new FakeClock();
    const store = await openSqliteStore(':memory:');
    // Objects reads from the cache as the master's do (steps.ts openCache).
    const informers = new Informers(store, log);
    const objects = new Objects(store, { clock, cache: informers, ...(opts.nameSuffix ? { nameSuffix: opts.nameSuffix } : {}) });
    if (opts.admission) addAdmission(objects);
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' }, status: { phase: 'Active' } });
    if (opts.admission) await ensureLocalPathClass(objects);
    await informers.start();
    // Events go to the recorder's memory (tests read them there); a Warning event is a result, not a problem.
    return new Harness(log, clock, store, objects, informers, new EventRecorder(silentLogger), new MetricsStore((ns, name) => informers.get('Pod', ns, name)));
  }

  /** What a controller is started with. */
  get ctx(): ControllerContext {
    return { objects: this.objects, informers: this.informers, events: this.events, log: this.log, clock: this.clock };
  }

  /** Starts a controller (from its start function) and settles. */
  async run<C extends Controller>(start: (ctx: ControllerContext) => C): Promise<C> {
    const c = start(this.ctx);
    this.controllers.push(c);
    await this.settle();
    return c;
  }

  /**
   * Waits until the cache has every write and no controller has queued or running work, round after
   * round, until a round writes nothing. Throws when that never happens: a sync that always writes is
   * not idempotent.
   */
  async settle(): Promise<void> {
    for (let i = 0; i < maxSettleRounds; i++) {
      // Let work that a timer or a handler started without a queue (promise chains) reach the store first.
      await new Promise((r) => setImmediate(r));
      const rev = await this.store.revision();
      await this.informers.waitForRevision(rev);
      await Promise.all(this.controllers.map((c) => c.idle()));
      if ((await this.store.revision()) === rev) return this.noProblems();
    }
    throw new Error(`controllers did not settle after ${maxSettleRounds} rounds`);
  }

  private noProblems(): void {
    const lines = this.log.lines.splice(0);
    if (lines.length) throw new Error(`controllers logged problems:\n${lines.join('\n')}`);
  }

  /** Moves the fake clock forward, settling before, after every timer that fires on the way, and at the end. */
  async advance(ms: number): Promise<void> {
    await this.settle();
    await this.clock.advance(ms, () => this.settle());
    await this.settle();
  }

  /** Validates and defaults an object as `skiff apply` does, creates it (status kept), and settles. */
  async create<T extends KObject>(obj: T): Promise<T> {
    const created = await this.objects.create(normalizeObject(obj) as T);
    await this.settle();
    return created;
  }

  /** Read-modify-writes an object and settles; returns the object as written. */
  async update<K extends KindName>(kind: K, namespace: string | undefined, name: string, fn: (o: KindMap[K]) => void): Promise<KindMap[K]> {
    const res = await this.objects.mutate(kind, namespace, name, (o) => (fn(o), o));
    if (!res) throw new Error(`${kind}/${name}: not found`);
    await this.settle();
    return res;
  }

  /** Deletes an object (pods bound to a node only get their deletionTimestamp, as in the master) and settles. */
  async delete(kind: KindName, namespace: string | undefined, name: string): Promise<void> {
    await this.objects.delete(kind, namespace, name);
    await this.settle();
  }

  /** Cached objects of a kind. */
  list<K extends KindName>(kind: K, namespace?: string): KindMap[K][] {
    return this.informers.list(kind, namespace);
  }

  /** A cached object. */
  get<K extends KindName>(kind: K, namespace: string | undefined, name: string): KindMap[K] | undefined {
    return this.informers.get(kind, namespace, name);
  }

  /** Pods in `default` (or `namespace`), optionally only those whose labels include `labels`. */
  pods(labels: Record<string, string> = {}, namespace = 'default'): Pod[] {
    return this.list('Pod', namespace).filter((p) => Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v));
  }

  /** The reasons of the events recorded about an object, oldest first, once per occurrence. */
  reasons(kind: KindName, namespace: string | undefined, name: string): string[] {
    // The recorder folds repeats of one event into its count (Kubernetes' correlator): one reason per occurrence.
    return this.events.of(kind, namespace, name).flatMap((e) => Array<string>(e.count).fill(e.reason));
  }

  /** The events recorded about an object as `Reason: message`, oldest first. */
  messages(kind: KindName, namespace: string | undefined, name: string): string[] {
    return this.events.of(kind, namespace, name).map((e) => `${e.reason}: ${e.message}`);
  }

  /** Plays the scheduler: binds pods to a node. */
  async bind(pods: Pod[], node: string): Promise<void> {
    for (const p of pods) await this.objects.mutate('Pod', p.metadata.namespace, p.metadata.name, (cur) => ((cur.spec.nodeName = node), cur));
    await this.settle();
  }

  /** Plays the agent: sets the pods' phase (and, for a finished pod, its containers' exit and finish time). */
  async setPhase(pods: Pod[], phase: NonNullable<Pod['status']>['phase'], exitCode = phase === 'Failed' ? 1 : 0): Promise<void> {
    const at = new Date(this.clock.now()).toISOString();
    for (const p of pods)
      await this.objects.mutate('Pod', p.metadata.namespace, p.metadata.name, (cur) => {
        const finished = phase === 'Succeeded' || phase === 'Failed';
        cur.status = { ...(cur.status ?? {}), phase };
        if (finished) {
          cur.status.conditions = (cur.status.conditions ?? []).filter((c) => c.type !== 'Ready');
          cur.status.containerStatuses = cur.spec.containers.map((c) => ({ name: c.name, ready: false, restartCount: 0, state: { terminated: { exitCode, finishedAt: at } } }));
        }
        return cur;
      });
    await this.settle();
  }

  /** Plays the agent: Running, and Ready (or not), the transition stamped now. */
  async setReady(pods: Pod[], ready = true): Promise<void> {
    const at = new Date(this.clock.now()).toISOString();
    for (const p of pods)
      await this.objects.mutate('Pod', p.metadata.namespace, p.metadata.name, (cur) => {
        const others = (cur.status?.conditions ?? []).filter((c) => c.type !== 'Ready');
        cur.status = { ...(cur.status ?? {}), phase: 'Running', conditions: [...others, { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: at }] };
        return cur;
      });
    await this.settle();
  }

  /** Plays the agent that confirms a pod stopped: a terminating pod is removed for good. */
  async confirmStopped(pods: Pod[]): Promise<void> {
    for (const p of pods) await this.objects.finishPodDeletion(p.metadata.namespace!, p.metadata.name, p.metadata.uid);
    await this.settle();
  }

  /** Stops the controllers, the cache and the store. */
  async stop(): Promise<void> {
    for (const c of this.controllers) c.stop();
    this.informers.stop();
    await this.store.close();
  }
}

/** A fresh harness; stop it after the test (`afterEach(() => h.stop())`). */
export function harness(opts: HarnessOptions = {}): Promise<Harness> {
  return Harness.open(opts);
}

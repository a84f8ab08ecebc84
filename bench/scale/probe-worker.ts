/**
 * The API probe in worker threads, each with its own MQTT connection — one timing gets, one timing lists: the bench
 * process's main thread runs a thousand simulated agents, and a probe on that thread would time their work along with
 * the master's answer. Started by `ProbeThread`; `stop` ends the timed loops, takes the back-to-back samples and
 * answers with every figure.
 */
import { join } from 'node:path';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { repoRoot } from '../cluster-selfheal.js';
import { adminClient } from './master-proc.js';
import { ApiProbe, writeListParts } from './observe.js';

/** What the worker is started with. */
interface ProbeSetup {
  master: { url: string; ca: string; adminToken: string };
  getParams: Record<string, unknown>;
  getEveryMs: number;
  listEveryMs: number;
  /** Back-to-back samples after the rollout; `plainLists`: lists asked in plain msgpack, timed apart (default none). */
  burst: { gets: number; lists: number; plainLists?: number };
}

/** The figures the worker sends back. */
export interface ProbeFigures {
  getMs: number[];
  /** `list pods` as the CLI asks and decodes it (records). */
  listMs: number[];
  /** The same list asked plain (msgpack maps), after the rollout only. */
  plainListMs: number[];
  errors: number;
  /** The get loop's timer lateness in the rollout (ApiProbe.getLateMs). */
  getLateMs: number[];
}

/** Which requests a probe thread times. */
type Part = 'get' | 'list';

/**
 * The probe: gets and lists each in a thread of its own, with its own connection. A `list` of 10,000 pods is ~10 MB
 * that its client takes ~100 ms to decode; a get sharing that thread (or that connection, behind those bytes) was timed
 * waiting for the decode of the list beside it — the probe's own work, not the master's answer.
 */
export class ProbeThread {
  private readonly workers: Record<Part, Worker>;
  private readonly ready: Promise<unknown>;

  constructor(setup: ProbeSetup) {
    // The built file (as the master itself runs from dist/): under vitest this module is TypeScript, which a worker cannot load.
    const file = join(repoRoot, 'dist', 'bench', 'scale', 'probe-worker.js');
    this.workers = { get: new Worker(file, { workerData: { ...setup, part: 'get' } }), list: new Worker(file, { workerData: { ...setup, part: 'list' } }) };
    this.ready = Promise.all(Object.values(this.workers).map((w) => this.reply(w, 'started')));
  }

  /** Resolves once the probe's loops run. */
  started(): Promise<unknown> {
    return this.ready;
  }

  /** Stops the loops, takes the back-to-back samples (the gets', then the lists'), and returns everything timed. */
  async stop(): Promise<ProbeFigures> {
    await Promise.all(Object.values(this.workers).map((w) => this.ask(w, 'stop')));
    const gets = (await this.ask(this.workers.get, 'burst')) as ProbeFigures;
    const lists = (await this.ask(this.workers.list, 'burst')) as ProbeFigures;
    await this.kill();
    return { getMs: gets.getMs, listMs: lists.listMs, plainListMs: lists.plainListMs, errors: gets.errors + lists.errors, getLateMs: gets.getLateMs };
  }

  /** Ends the workers without figures (a failed trial). */
  async kill(): Promise<void> {
    await Promise.all(Object.values(this.workers).map((w) => w.terminate()));
  }

  private ask(w: Worker, what: 'stop' | 'burst'): Promise<unknown> {
    const answer = this.reply(w);
    w.postMessage(what);
    return answer;
  }

  private reply(w: Worker, expected?: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      w.once('error', onError);
      w.once('message', (m: unknown) => {
        w.off('error', onError);
        if (expected === undefined || m === expected) resolve(m);
        else reject(new Error(String(m)));
      });
    });
  }
}

if (parentPort && workerData) {
  const port = parentPort;
  const s = workerData as ProbeSetup & { part: Part };
  try {
    const api = await adminClient(s.master);
    const probe = new ApiProbe(api, s.getParams);
    probe.start(s.part === 'get' ? s.getEveryMs : 0, s.part === 'list' ? s.listEveryMs : 0);
    port.on('message', async (m: 'stop' | 'burst') => {
      if (m === 'stop') {
        await probe.stop();
        return port.postMessage('stopped');
      }
      await probe.burst(s.part === 'get' ? s.burst.gets : 0, s.part === 'list' ? s.burst.lists : 0, s.part === 'list' ? (s.burst.plainLists ?? 0) : 0);
      await api.close().catch(() => undefined);
      // SKIFF_LIST_TRACE=FILE (with SKIFF_API_TIMING=1 for the master): each list's parts, one JSON line each.
      if (process.env.SKIFF_LIST_TRACE) writeListParts(process.env.SKIFF_LIST_TRACE, probe.listParts);
      // SKIFF_GET_TRACE=FILE (with SKIFF_API_TIMING=1): each get's parts the same way.
      if (process.env.SKIFF_GET_TRACE) writeListParts(process.env.SKIFF_GET_TRACE, probe.getParts);
      port.postMessage({ getMs: probe.getMs, listMs: probe.listMs, plainListMs: probe.plainListMs, errors: probe.errors, getLateMs: probe.getLateMs } satisfies ProbeFigures);
    });
    port.postMessage('started');
  } catch (err) {
    port.postMessage(`the probe could not start: ${(err as Error).message}`);
  }
}

/**
 * The API probe in a worker thread with its own MQTT connection: the bench process's main thread runs a thousand
 * simulated agents, and a probe on that thread would time their work along with the master's answer. Started by
 * `ProbeThread`; `stop` ends the timed loops, takes the back-to-back samples and answers with every figure.
 */
import { join } from 'node:path';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { repoRoot } from '../cluster-selfheal.js';
import { adminClient } from './master-proc.js';
import { ApiProbe } from './observe.js';

/** What the worker is started with. */
interface ProbeSetup {
  master: { url: string; ca: string; adminToken: string };
  getParams: Record<string, unknown>;
  getEveryMs: number;
  listEveryMs: number;
  burst: { gets: number; lists: number };
}

/** The figures the worker sends back. */
export interface ProbeFigures {
  getMs: number[];
  listMs: number[];
  errors: number;
}

/** The probe, run in a worker thread. */
export class ProbeThread {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;

  constructor(setup: ProbeSetup) {
    // The built file (as the master itself runs from dist/): under vitest this module is TypeScript, which a worker cannot load.
    this.worker = new Worker(join(repoRoot, 'dist', 'bench', 'scale', 'probe-worker.js'), { workerData: setup });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', (m: unknown) => (m === 'started' ? resolve() : reject(new Error(String(m)))));
      this.worker.once('error', reject);
    });
  }

  /** Resolves once the probe's loops run. */
  started(): Promise<void> {
    return this.ready;
  }

  /** Stops the loops, takes the back-to-back samples, and returns everything timed. */
  async stop(): Promise<ProbeFigures> {
    const figures = new Promise<ProbeFigures>((resolve, reject) => {
      this.worker.once('message', (m: ProbeFigures) => resolve(m));
      this.worker.once('error', reject);
    });
    this.worker.postMessage('stop');
    const f = await figures;
    await this.worker.terminate();
    return f;
  }

  /** Ends the worker without figures (a failed trial). */
  async kill(): Promise<void> {
    await this.worker.terminate();
  }
}

if (parentPort && workerData) {
  const port = parentPort;
  const s = workerData as ProbeSetup;
  try {
    const api = await adminClient(s.master);
    const probe = new ApiProbe(api, s.getParams);
    probe.start(s.getEveryMs, s.listEveryMs);
    port.once('message', async () => {
      await probe.stop();
      await probe.burst(s.burst.gets, s.burst.lists);
      await api.close().catch(() => undefined);
      port.postMessage({ getMs: probe.getMs, listMs: probe.listMs, errors: probe.errors } satisfies ProbeFigures);
    });
    port.postMessage('started');
  } catch (err) {
    port.postMessage(`the probe could not start: ${(err as Error).message}`);
  }
}

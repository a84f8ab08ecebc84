/**
 * How fast the machine's CPU is while the bench runs. On the shared 2-core box one build's runs differ by 40 % in pods/s
 * and CPU per pod (docs/scale.md), and the hypervisor's steal explains little of it (~5 % of a core in a rollout): the
 * CPU itself is slower at times. A thread of the harness times a fixed piece of work (`burst` SHA-256 digests of 1 KiB)
 * every `everyMs`; a burst the scheduler interrupted takes longer, so each second keeps its fastest burst, and a window's
 * figure is the median of those: µs per digest, comparable between runs and between the idle minute and the rollout.
 */
import { Worker } from 'node:worker_threads';

/** Digests per burst, and how often one is timed. */
const burst = 50;
const everyMs = 100;

const source = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const input = Buffer.alloc(1024, 7);
const { burst, everyMs } = workerData;
setInterval(() => {
  const start = performance.now();
  for (let i = 0; i < burst; i++) createHash('sha256').update(input).digest();
  parentPort.postMessage([Date.now(), ((performance.now() - start) * 1000) / burst]);
}, everyMs);
`;

/** One timed burst: when (ms since epoch) and µs per digest. */
export type SpeedSample = [at: number, usPerDigest: number];

/** The median over the window's seconds of each second's fastest burst, µs per digest; NaN when none fell in it. */
export function windowSpeed(samples: readonly SpeedSample[], fromMs: number, toMs: number): number {
  const fastest = new Map<number, number>();
  for (const [at, us] of samples) {
    if (at < fromMs || at > toMs) continue;
    const s = Math.floor(at / 1000);
    fastest.set(s, Math.min(fastest.get(s) ?? Infinity, us));
  }
  const xs = [...fastest.values()].sort((a, b) => a - b);
  return xs.length === 0 ? NaN : xs[xs.length >> 1]!;
}

/** The timing thread: started with the bench, read by window, stopped at its end. */
export class BoxSpeed {
  readonly samples: SpeedSample[] = [];
  private readonly worker: Worker;

  constructor() {
    this.worker = new Worker(source, { eval: true, workerData: { burst, everyMs } });
    this.worker.on('message', (m: SpeedSample) => void this.samples.push(m));
    this.worker.on('error', () => undefined); // a figure missing is shown as such; the bench goes on
    this.worker.unref();
  }

  /** µs per digest over a window (windowSpeed). */
  between(fromMs: number, toMs: number): number {
    return windowSpeed(this.samples, fromMs, toMs);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * Values deflated off the event loop. encodeValue (sqlite-codec.ts) costs ~15–20 µs per ~1 KB value on the
 * master's thread, mostly fixed (Node sets the 4.7 KB dictionary again on every reset, and zlib hashes it): in a
 * rollout ~10 % of the busy thread. Here the values a turn writes go to one worker thread in one message (their
 * UTF-8 in memory shared with it), which deflates them the same way (a reused raw deflate stream primed with
 * dictionary 1, the same tag byte, the same "keep the text unless smaller" rule) and writes the bytes back in place;
 * the writes are queued
 * for their group commit (group-commit.ts) once their values are back, in the order they were asked for, so the
 * transaction, the change log and the format on disk are as before. A value shorter than `minDeflateBytes` and a
 * delete need no worker; they still wait for the writes asked for before them. One worker serves every store of the
 * process; it holds the process open only while it has values. Should it fail (or not start), the values it held,
 * and every later one, are deflated on the loop as before.
 *
 * The worker's code is a string (evaluated as CommonJS), as the checkpointer's, so it runs the same from the
 * TypeScript sources (tests) and from dist/.
 */
import { Worker } from 'node:worker_threads';
import { deflated1, deflateLevel, dictionary1, encodeValue, minDeflateBytes } from './sqlite-codec.js';

/** A value to store: its JSON text (null: a delete) and, once encoded, the form the change log keeps. */
export interface Encodable {
  text: string | null;
  /** `text` as stored (encodeValue's result); undefined until encoded. */
  stored: string | Buffer | null | undefined;
}

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const zlib = require('node:zlib');
// A lower priority than the master's thread (Linux: a thread's own nice value, set through its id), so that waking it
// for a message does not preempt that thread on a busy box; elsewhere (no /proc) it runs as it is.
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  if (tid > 0) require('node:os').setPriority(tid, workerData.nice);
} catch {}
const dictionary = Buffer.from(workerData.dictionary);
const tag = workerData.tag;
const level = workerData.level;
const outBytes = 64 * 1024;
const out = Buffer.allocUnsafe(outBytes);
let stream;
// As zlib-reuse.ts: one stream reset after each value; the public one-shot function when its internals are missing,
// on an error, or for an output larger than the buffer.
function deflate(input) {
  if (stream === undefined) {
    stream = zlib.createDeflateRaw({ dictionary, level });
    stream.on('error', () => {});
  }
  const handle = stream._handle, state = stream._writeState;
  if (!handle || typeof handle.writeSync !== 'function' || typeof handle.reset !== 'function' || !(state instanceof Uint32Array)) {
    return zlib.deflateRawSync(input, { dictionary, level });
  }
  handle.writeSync(zlib.constants.Z_FINISH, input, 0, input.length, out, 0, outBytes);
  if (stream.destroyed || state[0] === 0 || state[1] !== 0) {
    if (!stream.destroyed) stream.destroy();
    stream = undefined;
    return zlib.deflateRawSync(input, { dictionary, level });
  }
  handle.reset();
  return out.subarray(0, outBytes - state[0]);
}
// Shared with the main thread: 'bytes' (the values' UTF-8 one after another, value i ending at ends[i]) and 'ends'.
// Each message is the number of values written; the stored forms are written back in place (a value is kept deflated
// only when smaller than its text, so what is written never passes what is still to read): value i's stored bytes
// end at ends[i] (they start where the one before ended), -1: keep its text. The answer is the same number.
const bytes = Buffer.from(workerData.bytes);
const ends = new Int32Array(workerData.ends);
parentPort.on('message', (count) => {
  let from = 0, at = 0;
  for (let i = 0; i < count; i++) {
    const input = bytes.subarray(from, ends[i]);
    from = ends[i];
    const d = deflate(input);
    if (d.length + 1 >= input.length) {
      ends[i] = -1;
      continue;
    }
    bytes[at] = tag;
    d.copy(bytes, at + 1);
    at += d.length + 1;
    ends[i] = at;
  }
  parentPort.postMessage(count);
});
`;

/**
 * The memory shared with the worker: the UTF-8 of the values of one message, and where each ends. A message takes
 * values while they fit (a UTF-16 code unit is at most 3 bytes of UTF-8); a value too long for it alone is deflated
 * on the loop.
 */
const sharedBytes = 1024 * 1024;
const sharedValues = 8192;
/**
 * The worker's nice value. At the master's own (0), waking it preempted the master's thread on a busy 2-core box: a
 * postMessage took ~0.3–2 ms of wall time instead of ~6 µs. At 5 it weighs a third of the master's thread, so it still
 * gets ~25 % of a core it shares with that thread (deflating 4,000 values a second takes ~6 %).
 */
const workerNice = 5;

/** The values of one batch (one store's turn); `done` receives the stored form of each, in order, once all are back. */
interface Job {
  texts: string[];
  stored: (string | Buffer)[];
  left: number;
  done: (stored: (string | Buffer)[]) => void;
}

/**
 * The process's deflate worker, started on first use. One message at a time: the values asked for while it runs wait
 * and go in the next one (so a busier loop sends fewer, larger messages). Strings and bytes cross in shared memory,
 * not in the messages: postMessage's structured clone costs ~2.5 µs per 1 KB string on the sending thread, and
 * transferring an ArrayBuffer ~30–70 µs per message; writing the UTF-8 here costs ~0.3 µs a value, copying a result
 * out ~0.2 µs.
 */
class DeflateWorker {
  private worker: Worker | undefined;
  private failed = false;
  private readonly bytes = Buffer.from(new SharedArrayBuffer(sharedBytes));
  private readonly ends = new Int32Array(new SharedArrayBuffer(sharedValues * 4));
  /** Values waiting for a message: a job and the index of its next value not yet sent. */
  private readonly waiting: Job[] = [];
  private next = 0;
  /** The values of the message the worker has: (job, index) pairs. */
  private sent: { job: Job; i: number }[] | undefined;
  /** Messages sent and values deflated in the worker (benches, tests). */
  readonly stats = { messages: 0, values: 0 };

  /** Deflates `texts` in the worker (or here, if it cannot run); `done` gets their stored forms, in order. */
  send(texts: string[], done: (stored: (string | Buffer)[]) => void): void {
    this.waiting.push({ texts, stored: new Array(texts.length), left: texts.length, done });
    if (!this.sent) this.dispatch();
  }

  /** Stops the worker as a crash would (tests): what it holds, and everything later, is deflated on the loop. */
  async terminate(): Promise<void> {
    await this.worker?.terminate();
  }

  // Writes the waiting values that fit into the shared memory and tells the worker how many.
  private dispatch(): void {
    const worker = this.failed ? undefined : (this.worker ??= this.start());
    if (!worker) return this.drainHere();
    const sent: { job: Job; i: number }[] = [];
    let at = 0;
    while (this.waiting.length > 0 && sent.length < sharedValues) {
      const job = this.waiting[0]!;
      const text = job.texts[this.next]!;
      if (text.length * 3 > sharedBytes) this.settle(job, this.next, encodeValue(text) as string | Buffer); // too long: here
      else if (at + text.length * 3 > sharedBytes) break; // the next message takes it
      else {
        at += this.bytes.write(text, at);
        this.ends[sent.length] = at;
        sent.push({ job, i: this.next });
      }
      if (++this.next === job.texts.length) {
        this.waiting.shift();
        this.next = 0;
      }
    }
    if (sent.length === 0) return;
    this.sent = sent;
    this.stats.messages++;
    this.stats.values += sent.length;
    worker.ref(); // values in the worker keep the process up, as a write in flight does
    worker.postMessage(sent.length);
  }

  private settle(job: Job, i: number, stored: string | Buffer): void {
    job.stored[i] = stored;
    if (--job.left === 0) job.done(job.stored);
  }

  private start(): Worker | undefined {
    let worker: Worker;
    try {
      // No inherited flags: a --cpu-prof or a preloaded probe of the master's is not for this thread.
      worker = new Worker(workerSource, {
        eval: true,
        execArgv: [],
        workerData: { dictionary: dictionary1, tag: deflated1, level: deflateLevel, bytes: this.bytes.buffer, ends: this.ends.buffer, nice: workerNice },
      });
    } catch (err) {
      this.fail(err);
      return undefined;
    }
    worker.unref();
    worker.on('message', () => this.received());
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`exited with code ${code}`)));
    return worker;
  }

  // The worker's answer: the stored forms are copied out of the shared memory, which the next message reuses.
  private received(): void {
    const sent = this.sent;
    if (!sent) return;
    this.sent = undefined;
    let at = 0;
    for (let n = 0; n < sent.length; n++) {
      const { job, i } = sent[n]!;
      const end = this.ends[n]!;
      if (end < 0) this.settle(job, i, job.texts[i]!);
      else {
        this.settle(job, i, Buffer.from(this.bytes.subarray(at, end)));
        at = end;
      }
    }
    if (this.waiting.length > 0) this.dispatch();
    if (!this.sent) this.worker?.unref();
  }

  // Every waiting value deflated on the loop (the worker failed or could not start).
  private drainHere(): void {
    while (this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      for (let i = this.next; i < job.texts.length; i++) this.settle(job, i, encodeValue(job.texts[i]!) as string | Buffer);
      this.next = 0;
    }
  }

  // The worker failed or exited: what it held, and everything later, is deflated on the loop.
  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) process.emitWarning(`store: the deflate worker failed (${(err as Error)?.message ?? err}); values are deflated on the main thread`);
    void worker?.terminate();
    const sent = this.sent ?? [];
    this.sent = undefined;
    for (const { job, i } of sent) this.settle(job, i, encodeValue(job.texts[i]!) as string | Buffer);
    this.drainHere();
  }
}

let shared: DeflateWorker | undefined;

/** Stops the process's deflate worker as a crash would (tests): from then on values are deflated on the loop. */
export async function terminateDeflateWorker(): Promise<void> {
  await shared?.terminate();
}

/** The messages sent to the process's deflate worker and the values it deflated so far. */
export function deflateWorkerStats(): { messages: number; values: number } {
  return { messages: shared?.stats.messages ?? 0, values: shared?.stats.values ?? 0 };
}

/** The values asked for in one turn: one message to the worker. `ready` settles after the batch before it. */
interface Batch {
  items: Encodable[];
  ready: Promise<void>;
}

/**
 * One store's encoder: `encode` fills each write's `stored`, in the worker (`offLoop`) or at once on the loop, and
 * says when the writes may be queued for commit — never before those of an earlier call.
 */
export class ValueEncoder {
  /** The batch taking this turn's values (sent at the end of the turn). */
  private open: Batch | undefined;
  /** Settles once every value asked for so far is encoded; undefined when nothing is in flight. */
  private last: Promise<void> | undefined;

  constructor(private readonly offLoop: boolean) {}

  /**
   * Encodes the values of `items`. Undefined: they are encoded now and nothing asked for before them is still in
   * the worker (queue them at once). Else a promise that settles once they and every earlier value are encoded.
   */
  encode(items: Encodable[]): Promise<void> | undefined {
    let deflate = false;
    for (const w of items) {
      if (w.text === null) w.stored = null;
      else if (!this.offLoop) w.stored = encodeValue(w.text);
      else if (w.text.length < minDeflateBytes) w.stored = w.text;
      else {
        w.stored = undefined;
        deflate = true;
      }
    }
    if (!deflate && this.last === undefined) return undefined;
    const batch = (this.open ??= this.startBatch());
    for (const w of items) if (w.stored === undefined) batch.items.push(w);
    return batch.ready;
  }

  /** Settles once every value asked for so far is encoded (undefined: already). */
  idle(): Promise<void> | undefined {
    return this.last;
  }

  private startBatch(): Batch {
    let encoded!: () => void;
    const own = new Promise<void>((resolve) => (encoded = resolve));
    const before = this.last;
    const batch: Batch = { items: [], ready: before ? before.then(() => own) : own };
    this.last = batch.ready;
    void batch.ready.then(() => {
      if (this.last === batch.ready) this.last = undefined;
    });
    // At the end of the turn: every write asked for during it goes in one message.
    setImmediate(() => {
      this.open = undefined;
      const { items } = batch;
      if (items.length === 0) return encoded();
      (shared ??= new DeflateWorker()).send(
        items.map((w) => w.text!),
        (stored) => {
          for (let i = 0; i < items.length; i++) items[i]!.stored = stored[i]!;
          encoded();
        },
      );
    });
    return batch;
  }
}

/**
 * Credit-based flow control for the two-way streams (port-forward, cp) that cross the master: a sender
 * keeps at most `windowBytes` unacknowledged, the receiver acknowledges bytes once it has written them
 * out (its socket or file took them). Every hop — CLI, master relay, agent — then holds at most one
 * window per direction per stream, however fast one end and however slow the other.
 */

/** The most unacknowledged bytes a sender keeps in flight per stream and direction: 256 KiB. */
export const windowBytes = 256 << 10;
/** The largest `data` of one message: 32 KiB. */
export const chunkBytes = 32 << 10;

/** The sender's side: counts bytes in flight and says when to pause and resume the source. */
export class Credit {
  private inFlight = 0;

  constructor(
    /** Called when the window fills: stop reading the source. */
    private readonly pause: () => void,
    /** Called when acknowledgements opened the window again. */
    private readonly resume: () => void,
    private readonly window = windowBytes,
  ) {}

  /** Bytes sent; pauses the source once the window is full. */
  spend(n: number): void {
    const wasOpen = this.inFlight < this.window;
    this.inFlight += n;
    if (wasOpen && this.inFlight >= this.window) this.pause();
  }

  /** Bytes acknowledged; resumes the source once below the window. Ignores more than was sent. */
  refund(n: number): void {
    if (!(n > 0)) return;
    const wasFull = this.inFlight >= this.window;
    this.inFlight = Math.max(0, this.inFlight - n);
    if (wasFull && this.inFlight < this.window) this.resume();
  }

  /** Bytes sent and not yet acknowledged. */
  get pending(): number {
    return this.inFlight;
  }
}

/** Splits bytes into chunks of at most `chunkBytes`. */
export function* chunks(b: Uint8Array, size = chunkBytes): Generator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, Math.min(b.length, i + size));
}

/**
 * The receiver's side: gathers acknowledgements of written bytes into one message per chunk's worth
 * or per `flushMs`, so a stream of small writes does not double the messages.
 */
export class Acker {
  private n = 0;
  private timer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly send: (bytes: number) => void,
    private readonly flushMs = 5,
  ) {}

  /** `bytes` were written out. */
  add(bytes: number): void {
    this.n += bytes;
    if (this.n >= chunkBytes) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** Sends what is gathered now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.n > 0) this.send(this.n);
    this.n = 0;
  }

  /** Drops the timer (the stream ended). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

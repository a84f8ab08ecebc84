/**
 * The API's lane through a busy loop (issue 16: API get p99 < 20 ms while a rollout saturates the master).
 *
 * An API request is answered where it is parsed (fast-api.ts), in well under a millisecond, but its bytes are read only
 * in the event loop's poll phase: during a rollout a request waited for the rest of the iteration it arrived in — the
 * check phase's budgeted turns (the store's commits, the watch hub, the agents' messages, the controllers; 14 ms on
 * average in the iterations of 15 ms or more, docs/scale.md "Session 27"), GC and the agents' reads — p99 30–50 ms.
 * Slicing the iteration finer cost pods/s and did not reach 20 ms (docs/scale.md, sessions 26–27).
 *
 * Here the connections of the API's clients (administrators and users, never nodes or joiners) are also read between
 * the check phase's turns and between the nodes' reads in the poll phase: the loop budget calls `poll` when a budgeted
 * turn begins (../loop-budget.ts), the broker before aedes parses a node's bytes (index.ts `pollBeforeParse`), and a
 * connection with bytes waiting in the kernel is read then, as libuv would read it in the next poll phase — the same
 * `read(2)` on its descriptor, handed to the stream the same way (a plain socket: `push`, as Node's onStreamRead does;
 * a TLS socket: its TLSWrap's `receive`, which decrypts and pushes the clear text, as Node does with bytes a socket had
 * buffered before TLS took it over). The stream tells aedes in a tick (`readable`), which Node runs right after the
 * current immediate, before the next turn. When the bytes ask something (a PUBLISH — a request — a SUBSCRIBE or an
 * UNSUBSCRIBE: `asksSomething`, from the packets' first bytes; for TLS, from the clear text pushed) the loop budget cuts
 * the turn that found them to its minimum, and the workers' turns under way end at their next unit
 * (`loopBudget.interrupted()`), so the request waits for about one unit of work, not for the iteration.
 * Acknowledgements (a watch's PUBACKs) are read as early but cut nothing: cutting turns for them cost pods/s.
 *
 * Only what libuv would read, when its reader would read it: a connection Node stopped reading (backpressure: its
 * handle's `reading` is false), one whose reader has a batch in hand (`add`'s `ready`: aedes counts a 'readable' as a
 * packet done, index.ts `betweenBatches`), a destroyed one, and one whose stream is not a socket (a WebSocket's) are
 * left alone; an end of stream or an error is left to libuv too (an end reads again; after a reset the socket reads as
 * ended), and the connection leaves the lane.
 * Only connections that asked something in the last `activeMs` are read (a watch's open stream that asks nothing costs
 * nothing); a new one counts as asking.
 * A read that finds nothing costs ~5 µs (the EAGAIN error object, made without a stack); a poll runs at most once per
 * `everyMs` and reads at most `readsPerPoll` connections (the next poll takes the next ones). Profiled in a 10,000-pod
 * rollout with two active clients (docs/scale.md "Session 29"): `poll` 3.4 % of the busy thread, inclusive.
 *
 * It uses internals of Node's streams — the handle's `fd` and `reading`, and TLSWrap's `receive` — checked for on
 * every connection: where they are missing (another platform, another Node), the connection is not in the lane and is
 * read in the poll phase as before. Not on Windows (a socket there is not a file descriptor `fs.readSync` can read).
 */
import { readSync } from 'node:fs';
import type { Duplex } from 'node:stream';

/**
 * How long after its last request a client's connection is still read between turns, in ms: a client that asks every
 * few seconds stays in the lane; a watch's stream, which asked once, leaves it (its PUBACKs are read in the poll phase).
 */
export const activeMs = 3_000;
/** The least time between two polls, in ms: a request waits at most about this long plus one turn's minimum. */
export const everyMs = 1;
/**
 * The most connections one poll reads. A read that finds nothing costs ~5 µs idle and 10–15 µs in a rollout (the
 * EAGAIN error object and the garbage it leaves): every active connection at every poll (four in the bench, a watch
 * among them) was ~5 % of the master's thread in a 10,000-pod rollout's profile, one a poll made the gets wait for
 * their connection's turn (p50 5.0 against 2.7 ms). Two bound it whatever the number of clients (with two active
 * clients, polled in the turns and the poll phase, 3.4 % of the thread: docs/scale.md "Session 29"); each poll takes
 * the next active connections in turn (with twenty clients each is read every ~10 ms).
 */
export const readsPerPoll = 2;
/** The most one read takes (libuv reads 64 KiB at a time too). */
const readBytes = 64 * 1024;

/** The parts of a socket's (or TLS socket's) handle the lane uses; absent on other streams. */
interface LaneHandle {
  fd?: number;
  reading?: boolean;
  readStop?: () => unknown;
  receive?: (chunk: Buffer) => unknown;
}

type LaneConn = Duplex & { _handle?: LaneHandle | null; encrypted?: boolean };

interface Entry {
  conn: LaneConn;
  /** False while the stream's reader would not read it (aedes: a batch of packets in hand); it is not read then. */
  ready?: () => boolean;
  /** When it last asked (performance.now()). */
  askedAt: number;
}

/** Counts (telemetry, tests). */
export interface LaneStats {
  polls: number;
  /** Reads that found bytes, and the bytes. */
  reads: number;
  bytes: number;
}

/** The API clients' connections, read between the loop's turns; see the module comment. */
export class ApiLane {
  private readonly entries = new Map<Duplex, Entry>();
  /** The entries in the order polls take them (rebuilt when one comes or goes), and where the next poll starts. */
  private order: Entry[] | undefined;
  private cursor = 0;
  private readonly buf = Buffer.allocUnsafe(readBytes);
  private lastPoll = -Infinity;
  readonly stats: LaneStats = { polls: 0, reads: 0, bytes: 0 };

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly enabled = process.platform !== 'win32',
  ) {}

  /**
   * An API client's connection (the stream aedes reads: the socket, or the TLS socket over it); `ready` says whether
   * its reader would read it now (a connection is read only then).
   */
  add(conn: Duplex, ready?: () => boolean): void {
    if (!this.enabled || this.entries.has(conn) || !laneable(conn as LaneConn)) return;
    this.entries.set(conn, { conn: conn as LaneConn, askedAt: this.now(), ready });
    this.order = undefined;
    conn.once('close', () => this.drop(conn));
  }

  /** The client on `conn` asked something: it stays in the lane for `activeMs` more. */
  asked(conn: Duplex): void {
    const e = this.entries.get(conn);
    if (e) e.askedAt = this.now();
  }

  /** True when `conn` is in the lane. */
  has(conn: Duplex): boolean {
    return this.entries.has(conn);
  }

  /** How many connections are in the lane. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Reads the next `readsPerPoll` active connections (those with bytes waiting give them), at most once per `everyMs`.
   * True when what was read asks something (`asksSomething`: the stream will tell its reader in a tick, and the caller
   * should let the loop get to it soon); acknowledgements alone (a watch's PUBACKs) are read too, but cut no turn.
   */
  poll(): boolean {
    if (this.entries.size === 0) return false;
    const now = this.now();
    if (now - this.lastPoll < everyMs) return false;
    this.lastPoll = now;
    this.stats.polls++;
    const order = (this.order ??= [...this.entries.values()]);
    let asks = false;
    let reads = 0;
    let k = 0;
    for (; k < order.length && reads < readsPerPoll; k++) {
      const e = order[(this.cursor + k) % order.length]!;
      if (now - e.askedAt > activeMs || (e.ready && !e.ready())) continue;
      reads++;
      if (this.read(e.conn)) asks = true;
    }
    this.cursor = (this.cursor + k) % Math.max(1, order.length);
    return asks;
  }

  private drop(conn: Duplex): void {
    if (this.entries.delete(conn)) this.order = undefined;
  }

  // One read(2) of the connection's descriptor, handed to the stream as libuv's read would be; true when it asks something.
  private read(conn: LaneConn): boolean {
    const h = conn._handle;
    if (conn.destroyed || !h || h.reading !== true || typeof h.fd !== 'number' || h.fd < 0) return false;
    let n: number;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // EAGAIN is the common answer: its error needs no stack
    try {
      n = readSync(h.fd, this.buf, 0, readBytes, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') this.drop(conn); // libuv meets it too and closes
      return false;
    } finally {
      Error.stackTraceLimit = limit;
    }
    if (n === 0) {
      this.drop(conn); // the end of the stream: libuv reads it again (an end stays) and ends the stream
      return false;
    }
    const chunk = Buffer.from(this.buf.subarray(0, n));
    this.stats.reads++;
    this.stats.bytes += n;
    try {
      if (conn.encrypted) return this.receive(conn, h, chunk);
      if (!conn.push(chunk)) {
        // As Node's onStreamRead: a full stream stops the handle's reading until it is read.
        h.reading = false;
        h.readStop?.();
      }
      return asksSomething(chunk);
    } catch (err) {
      // Whatever the stream says of its bytes is the connection's end, never the caller's (a worker's turn).
      this.drop(conn);
      conn.destroy(err as Error);
      return false;
    }
  }

  // TLS: the encrypted bytes go to the TLSWrap, which pushes what they decrypt to (the stream's own push, looked at on
  // the way: its first bytes say whether a request came).
  private receive(conn: LaneConn, h: LaneHandle, chunk: Buffer): boolean {
    let asks = false;
    const own = Object.hasOwn(conn, 'push');
    const push = conn.push;
    conn.push = function (this: LaneConn, clear: unknown, encoding?: BufferEncoding) {
      if (!asks && Buffer.isBuffer(clear)) asks = asksSomething(clear);
      return push.call(this, clear, encoding);
    };
    try {
      h.receive!(chunk);
    } finally {
      if (own) conn.push = push;
      else delete (conn as Partial<LaneConn>).push;
    }
    return asks;
  }
}

/** MQTT control packet types that ask the master something: PUBLISH (a request), SUBSCRIBE, UNSUBSCRIBE. */
const asking = new Set([3, 8, 10]);

/**
 * True when `bytes`, read as whole MQTT packets from their start, hold one that asks something (a PUBLISH, a SUBSCRIBE,
 * an UNSUBSCRIBE) — not only acknowledgements and pings. Bytes that begin inside a packet are read as if they began
 * one: a wrong answer costs a turn cut for nothing or a request answered after the turn, never a wrong read.
 */
export function asksSomething(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length) {
    if (asking.has(bytes[i]! >> 4)) return true;
    let length = 0;
    let shift = 0;
    let j = i + 1;
    for (; j < bytes.length && j <= i + 4; j++) {
      length += (bytes[j]! & 0x7f) << shift;
      shift += 7;
      if ((bytes[j]! & 0x80) === 0) break;
    }
    i = j + 1 + length;
  }
  return false;
}

/** A socket (plain, or TLS with TLSWrap's `receive`) whose handle has a descriptor: what the lane can read. */
function laneable(conn: LaneConn): boolean {
  const h = conn._handle;
  if (!h || typeof h.fd !== 'number' || h.fd < 0 || typeof h.reading !== 'boolean') return false;
  return conn.encrypted ? typeof h.receive === 'function' : typeof conn.push === 'function';
}

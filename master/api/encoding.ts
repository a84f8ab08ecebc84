/**
 * Encoding answers that carry cached objects (issue 16: a list of 10,000 pods was encoded whole on every list, ~100
 * ms of the master's only thread). Each cached object's msgpack (JSON, records) bytes are kept beside it, built once per
 * version of the object — the informers replace an object on every change and never mutate one, so its identity is
 * its version — and a list answer is the envelope's bytes with the items' bytes spliced in: a copy, not an encode.
 * The bytes live in a WeakMap: they go when the object leaves the cache, and are built only for objects someone
 * lists. A watch event's object is encoded once for every watcher that gets it, but kept only among the last
 * `recentEvents` (a bounded map), not per object: a lone watcher of a 20,000-pod rollout would otherwise keep every
 * pod's latest bytes, each a slice of Node's 8 KiB buffer pool, and a pod version dying pins the slab its
 * neighbours live in (~76 MB of pool held by 21.5 MB of bytes at 20,000 pods; the master's RSS went over 500 MB). Only answers marked `sharedObjects` by a handler (objects straight from the informer cache) take
 * this path; any other answer is encoded as before. A request that asked for records (protocol/records.ts) gets its
 * result in them, the cached objects' records bytes spliced in the same way.
 */
import { randomBytes } from 'node:crypto';
import { encode, ownBytes, RecordsEncoder, type AnswerEncoding, type Codec, type KObject } from '../../protocol/index.js';
import { loopBudget, type LoopBudget } from '../loop-budget.js';

/** How bytes are made: a request's codec, or msgpack records (protocol/records.ts) for a result asked that way. */
type Format = Codec | 'records';

/** The master's one records table: every records answer carries it, and cached bytes refer to it. */
const records = new RecordsEncoder();

const memo: Record<Format, WeakMap<object, Buffer>> = { msgpack: new WeakMap(), json: new WeakMap(), records: new WeakMap() };

/**
 * How long after the last list answered in a format the bytes kept for lists in it (each object version's, and the
 * joined arrays of lists answered twice) are let go, ms. They are kept with the versions, and after a rollout nothing
 * changes: a master nobody lists any more held them for good — ~30 MB of Buffers at 20,000 pods (docs/scale.md,
 * session 32). The next list makes them again.
 */
export const keptBytesQuietMs = 120_000;
/** When a list was last answered in each format (0: none since its bytes were let go). */
const lastListed: Record<Format, number> = { msgpack: 0, json: 0, records: 0 };
let quietTimer: NodeJS.Timeout | undefined;

/** Notes a list answered in `format`, and looks again when the quietest kept format's time is up. */
function listedNow(format: Format): void {
  lastListed[format] = Date.now();
  quietTimer ??= setTimeout(letQuietGo, keptBytesQuietMs).unref();
}

function letQuietGo(): void {
  quietTimer = undefined;
  const now = Date.now();
  let next = Infinity;
  for (const format of ['msgpack', 'json', 'records'] as const) {
    if (lastListed[format] === 0) continue;
    const quiet = now - lastListed[format];
    // A clock that went back counts as quiet: the bytes are only made again.
    if (quiet >= keptBytesQuietMs || quiet < 0) {
      memo[format] = new WeakMap();
      listedTwice[format] = new WeakMap();
      lastListed[format] = 0;
    } else next = Math.min(next, keptBytesQuietMs - quiet);
  }
  if (next !== Infinity) quietTimer = setTimeout(letQuietGo, next).unref();
}

/** Lists (`{items}`) and watch events (`{object}`) whose objects are the informer cache's own, never mutated. */
const marked = new WeakSet<object>();

/** Bytes of the objects of the latest watch events, by codec: first in, first out. */
const recent: Record<Codec, Map<object, Buffer>> = { msgpack: new Map(), json: new Map() };
/** Watch events whose object bytes are kept for the other watchers of the same event. */
export const recentEvents = 512;

/** The bytes of a watch event's object: a list's cached bytes if there are, else encoded and kept among the recent. */
function eventBytesOf(o: KObject, codec: Codec): Buffer {
  let b = memo[codec].get(o) ?? recent[codec].get(o);
  if (!b) {
    b = encodeIn(o, codec);
    const kept = recent[codec];
    if (kept.size >= recentEvents) kept.delete(kept.keys().next().value!);
    kept.set(o, b);
  }
  return b;
}

/** How many watch events' object bytes are kept (tests: bounded, whatever the events). */
export function eventBytesKept(codec: Codec): number {
  return recent[codec].size;
}

/** Who is told the format a marked list was answered in (list-warm.ts: its kind's changes are then warmed in it). */
const listedTo = new WeakMap<object, (format: Format) => void>();

/**
 * Marks a list result or a watch event as carrying cached objects (see above); returns it. `listed`: told the format
 * the list is answered in, before its bytes are made.
 */
export function sharedObjects<T extends { items: KObject[] } | { object: KObject }>(container: T, listed?: (format: Format) => void): T {
  marked.add(container);
  if (listed) listedTo.set(container, listed);
  return container;
}

/**
 * `value` in `format`, in memory of its own (ownBytes): these bytes are kept with the object, and msgpackr's output is
 * a view into its shared buffer, a small Buffer.from copy a slice of Node's 8 KiB pool — either pinned whole.
 */
function encodeIn(value: unknown, format: Format): Buffer {
  return ownBytes(format === 'records' ? records.encode(value) : encode(value, format));
}

/** Cached objects whose bytes were made for lists so far (an answer's `timing`: server.ts). */
export let objectsEncoded = 0;

/** The bytes of one cached object in `format`, built on first use. */
function bytesOf(o: KObject, format: Format): Buffer {
  let b = memo[format].get(o);
  if (!b) {
    objectsEncoded++;
    b = encodeIn(o, format);
    memo[format].set(o, b);
  }
  return b;
}

/**
 * A list's turns at encoding its objects, ms: at most `listTurnMs` before the loop's other work (a get, a lease) runs,
 * and at least `listMinTurnMs` even when the iteration's budget is spent — each turn waits a whole loop iteration for
 * the next, and 1 ms turns made a rollout's list of ~1,000 changed pods wait hundreds of ms.
 */
export const listTurnMs = 8;
export const listMinTurnMs = 5;
/**
 * From how many items a list's bytes are joined into one buffer in turns (`prepareAnswer`) rather than in the answer's
 * own task: at 20,000 pods the answer's `Buffer.concat` of every object's bytes, with the arrays of pieces spread
 * around it, was a ~12 ms task of its own, and the largest part of the stalls an API get waited behind in a rollout.
 */
export const joinInTurnsFrom = 1_000;
/** How many items a turn takes between looks at the clock. */
const itemsPerLook = 64;

/**
 * Makes the cached bytes of a marked list's objects that have none yet, and for a long list joins them into one
 * buffer (kept with the list's array, as `itemsOf` keeps a list answered twice), in turns of the loop budget (master/
 * loop-budget.ts: `listTurnMs`), so that `encodeAnswer` then copies one piece. During a rollout a 10,000-pod list
 * re-encoded the ~1,000 pods that changed since the last list in one task of 30–50 ms, and a get that arrived
 * meanwhile waited behind it: the gets' p99 in the scale bench was those waits. The list stays what it was when it was
 * taken: its objects are the cache's versions, never mutated, and their bytes are keyed by version.
 */
export function prepareAnswer(res: Record<string, unknown>, codec: Codec, encoding: AnswerEncoding = 'msgpack', budget: LoopBudget = loopBudget): Promise<void> | undefined {
  const result = res.result as { items?: KObject[] } | undefined;
  if (!result || typeof result !== 'object' || !marked.has(result) || !Array.isArray(result.items)) return undefined;
  const format: Format = encoding === 'records' && codec === 'msgpack' && res.ok === true ? 'records' : codec;
  listedTo.get(result)?.(format);
  listedNow(format); // a list being prepared keeps its format's bytes (not let go between its turns)
  const items = result.items;
  if (listedTwice[format].get(items)) return undefined; // joined already: encodeAnswer answers in this task
  const kept = memo[format];
  const join = items.length >= joinInTurnsFrom;
  let i = 0;
  if (!join) {
    while (i < items.length && kept.has(items[i]!)) i++;
    if (i === items.length) return undefined; // every object's bytes are there: encodeAnswer answers in this task
  }
  // Two clients listing the same unchanged kind at once share one join, not two of the list's size.
  const joining = join ? preparing[format].get(items) : undefined;
  if (joining) return joining;
  const prepared = (async () => {
    // One clock for both passes: the join goes on in the turn the making left room in.
    let until = 0;
    const turn = () => void (until = performance.now() + budget.turn('api-list', listTurnMs, listMinTurnMs));
    const over = () => performance.now() >= until || budget.interrupted();
    turn();
    // The bytes of every item in order (a join's pieces), made where missing.
    const pieces: Buffer[] = join ? new Array<Buffer>(items.length) : [];
    let size = 0;
    for (let look = 0; i < items.length; i++) {
      const o = items[i]!;
      const made = objectsEncoded;
      if (join) size += (pieces[i] = bytesOf(o, format)).length;
      else if (!kept.has(o)) bytesOf(o, format);
      // The clock after every object encoded (tens of µs each), else every `itemsPerLook` (a lookup each).
      if ((objectsEncoded !== made || ++look === itemsPerLook) && i + 1 < items.length) {
        look = 0;
        if (over()) {
          await nextTurn();
          turn();
        }
      }
    }
    if (!join) return;
    const n = items.length;
    const json = format === 'json';
    const head = json ? Buffer.from('[') : arrayHeader(n);
    const whole = Buffer.allocUnsafeSlow(head.length + size + (json ? n : 0)); // JSON: n - 1 commas and the ]
    let at = head.copy(whole, 0);
    for (let look = 0, j = 0; j < n; j++) {
      if (json && j > 0) whole[at++] = 0x2c;
      at += pieces[j]!.copy(whole, at);
      if (++look === itemsPerLook && j + 1 < n) {
        look = 0;
        if (over()) {
          await nextTurn();
          turn();
        }
      }
    }
    if (json) whole[at++] = 0x5d;
    listedTwice[format].set(items, whole);
  })();
  if (!join) return prepared;
  preparing[format].set(items, prepared);
  return prepared.finally(() => preparing[format].delete(items));
}

/** Long lists whose join is under way, by format (`prepareAnswer`): kept with the list's array, gone when it ends. */
const preparing: Record<Format, WeakMap<KObject[], Promise<void>>> = { msgpack: new WeakMap(), json: new WeakMap(), records: new WeakMap() };

/** Waits for the loop's next check phase (the other work of this iteration runs first). */
function nextTurn(): Promise<void> {
  return new Promise<void>((r) => setImmediate(r));
}

/**
 * Makes a cached object's bytes in `format` ahead of a list (list-warm.ts), unless they are made; true when made now.
 * Counted apart from the lists' own (`objectsWarmed`).
 */
export function warmBytes(o: KObject, format: Format): boolean {
  const kept = memo[format];
  if (kept.has(o)) return false;
  objectsWarmed++;
  kept.set(o, encodeIn(o, format));
  return true;
}

/** Cached objects whose bytes were made ahead of a list so far (list-warm.ts). */
export let objectsWarmed = 0;

/** Whether a cached object's bytes in `format` are made (tests). */
export function hasCachedBytes(o: KObject, format: Format): boolean {
  return memo[format].has(o);
}

// A string no answer holds, put where the cached bytes go and replaced by them in the encoded envelope.
const marker = 'skiff-splice-' + randomBytes(6).toString('hex');
const markerBytes = Buffer.from(marker);

/**
 * Encodes an API answer. When its `result` is a marked list, or its `event` a marked watch event, the cached
 * objects' bytes are spliced into the envelope's; otherwise it is `encode(res, codec)`. With `encoding: 'records'`
 * (a msgpack request that asked for it) an answer with a `result` is a records answer (protocol/records.ts).
 */
export function encodeAnswer(res: Record<string, unknown>, codec: Codec, encoding: AnswerEncoding = 'msgpack'): Buffer {
  const pieces = answerPieces(res, codec, encoding);
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

/** The most pieces `answerPieces` hands out; more are copied into one (a write per piece costs more than the copy). */
const maxPieces = 8;

/**
 * `encodeAnswer`'s bytes as the pieces to write one after the other: a long list's envelope around its items' joined
 * buffer (`prepareAnswer`) is not copied into one more buffer of its size — at 20,000 pods that copy was a task of
 * its own, and twice the list's size in new memory on every list (V8 counts it toward its next collection).
 */
export function answerPieces(res: Record<string, unknown>, codec: Codec, encoding: AnswerEncoding = 'msgpack'): Buffer[] {
  let pieces: Buffer[];
  const result = res.result as { items?: KObject[] } | undefined;
  const event = res.event as { object?: KObject } | undefined;
  if (encoding === 'records' && codec === 'msgpack' && res.ok === true && 'result' in res) pieces = recordsAnswer(res);
  else if (result && marked.has(result)) pieces = spliced(res, 'result', { ...result, items: marker as never }, itemsOf(result.items!, codec), codec);
  else if (event && marked.has(event)) pieces = [eventAnswer(res, event, codec)];
  else pieces = [encode(res, codec)];
  return pieces.length > maxPieces ? [Buffer.concat(pieces)] : pieces;
}

/**
 * The envelope of a watch event (`{id, ok, event: {type, object}}`) around its object's bytes, by codec, request id
 * and event type: a stream's events differ only in their object and type, so the envelope is encoded once per
 * stream and type, not once per event (a 10,000-pod rollout is 40,000 events to one watcher). Bounded: emptied
 * when full (the envelopes are rebuilt on the next events).
 */
const envelopes = new Map<string, [Buffer, Buffer]>();
const maxEnvelopes = 1024;

function eventAnswer(res: Record<string, unknown>, event: { object?: KObject }, codec: Codec): Buffer {
  const e = event as Record<string, unknown>;
  const plain = typeof res.id === 'string' && res.ok === true && typeof e.type === 'string' && sameKeys(res, ['id', 'ok', 'event']) && sameKeys(e, ['type', 'object']);
  if (!plain) return Buffer.concat(spliced(res, 'event', { ...event, object: marker as never }, [eventBytesOf(event.object!, codec)], codec));
  const key = `${codec}\u0000${e.type}\u0000${res.id}`;
  let around = envelopes.get(key);
  if (!around) {
    const envelope = Buffer.concat(spliced(res, 'event', { ...event, object: marker as never }, [markerBytes], codec));
    const at = envelope.indexOf(markerBytes);
    if (at < 0) return encode(res, codec); // never expected (spliced encoded it whole): correct either way
    around = [Buffer.from(envelope.subarray(0, at)), Buffer.from(envelope.subarray(at + markerBytes.length))];
    if (envelopes.size >= maxEnvelopes) envelopes.clear();
    envelopes.set(key, around);
  }
  return Buffer.concat([around[0], eventBytesOf(event.object!, codec), around[1]]);
}

/** The object's own keys are exactly `keys`, in that order (what decides its envelope's bytes). */
function sameKeys(o: Record<string, unknown>, keys: string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && own.every((k, i) => k === keys[i]);
}

/**
 * A records answer: `{...res, encoding: 'records', structures, strings, result: <bin>}` in plain msgpack, the bin
 * being the result in records — a marked list's objects spliced in from their cached records bytes. The tables are
 * taken after the result is encoded (encoding may have grown them).
 */
function recordsAnswer(res: Record<string, unknown>): Buffer[] {
  const result = res.result as { items?: KObject[] } | undefined;
  const listed = result && typeof result === 'object' && marked.has(result);
  const pieces = (listed && spliceAround(records.encode({ ...result, items: marker }, false), 'records', itemsOf(result.items!, 'records'))) || [records.encode(result)];
  let size = 0;
  for (const b of pieces) size += b.length;
  const tables = { encoding: 'records', structures: records.structuresTable(), strings: records.stringsTable() };
  const envelope = encode({ ...res, ...tables, result: marker });
  return spliceAround(envelope, 'msgpack', [binHeader(size), ...pieces]) ?? [encode({ ...res, ...tables, result: Buffer.concat(pieces) })];
}

/** A msgpack bin header for `n` bytes: bin 8, bin 16, bin 32. */
function binHeader(n: number): Buffer {
  return n < 0x100 ? Buffer.from([0xc4, n]) : n < 0x10000 ? Buffer.from([0xc5, n >> 8, n & 0xff]) : Buffer.from([0xc6, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

/**
 * The items of lists answered twice in a row from the same list (list-index.ts hands out the same array while nothing
 * of the kind changed), by format: the array's bytes in one buffer, so that the next answers copy one piece, not
 * 10,000 kept byte strings scattered over the heap (the splice of a 10,000-pod list took 15 / 30 ms median / max on a
 * busy master). Kept with the array: a list array lives until the kind's next change.
 */
const listedTwice: Record<Format, WeakMap<KObject[], Buffer | null>> = { msgpack: new WeakMap(), json: new WeakMap(), records: new WeakMap() };

/** The pieces of a marked list's array (`arrayOf`), in one buffer when the same array is answered again. */
function itemsOf(items: KObject[], format: Format): Buffer[] {
  listedNow(format);
  const seen = listedTwice[format];
  const whole = seen.get(items);
  if (whole) return [whole];
  if (whole === undefined) {
    seen.set(items, null); // seen once: its pieces as they are
    return arrayOf(items, format);
  }
  const joined = Buffer.concat(arrayOf(items, format));
  seen.set(items, joined);
  return [joined];
}

/** The pieces of an array of cached objects: its header, then each object's bytes (with commas in JSON). */
function arrayOf(items: KObject[], format: Format): Buffer[] {
  if (format === 'json') return [Buffer.from('['), ...items.flatMap((o, i) => (i ? [comma, bytesOf(o, format)] : [bytesOf(o, format)])), Buffer.from(']')];
  return [arrayHeader(items.length), ...items.map((o) => bytesOf(o, format))];
}

/** A msgpack array header for `n` items: fixarray, array 16, array 32. */
function arrayHeader(n: number): Buffer {
  return n < 16 ? Buffer.from([0x90 | n]) : n < 0x10000 ? Buffer.from([0xdc, n >> 8, n & 0xff]) : Buffer.from([0xdd, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}
const comma = Buffer.from(',');

/**
 * `envelope`'s bytes cut where the marker string was encoded, with `pieces` in its place; undefined when the marker
 * is not found as expected (never expected: callers then encode whole, correct either way).
 */
function spliceAround(envelope: Buffer, format: Format, pieces: Buffer[]): Buffer[] | undefined {
  const at = envelope.indexOf(markerBytes);
  // The marker as encoded: msgpack's fixstr header byte before it (it is < 32 bytes), JSON's quotes around it.
  const start = at - 1;
  const end = at + markerBytes.length + (format === 'json' ? 1 : 0);
  const expected = format === 'json' ? 0x22 : 0xa0 | markerBytes.length;
  if (at < 1 || envelope[start] !== expected) return undefined;
  return [envelope.subarray(0, start), ...pieces, envelope.subarray(end)];
}

function spliced(res: Record<string, unknown>, field: string, holder: object, pieces: Buffer[], codec: Codec): Buffer[] {
  return spliceAround(encode({ ...res, [field]: holder }, codec), codec, pieces) ?? [encode(res, codec)];
}

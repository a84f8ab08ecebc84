/**
 * Encoding answers that carry cached objects (issue 16: a list of 10,000 pods was encoded whole on every list, ~100
 * ms of the master's only thread). Each cached object's msgpack (or JSON) bytes are kept beside it, built once per
 * version of the object — the informers replace an object on every change and never mutate one, so its identity is
 * its version — and a list answer is the envelope's bytes with the items' bytes spliced in: a copy, not an encode.
 * The bytes live in a WeakMap: they go when the object leaves the cache, and are built only for objects someone
 * lists or watches. Only answers marked `sharedObjects` by a handler (objects straight from the informer cache) take
 * this path; any other answer is encoded as before.
 */
import { randomBytes } from 'node:crypto';
import { encode, type Codec, type KObject } from '../../protocol/index.js';

const memo: Record<Codec, WeakMap<object, Buffer>> = { msgpack: new WeakMap(), json: new WeakMap() };
/** Lists (`{items}`) and watch events (`{object}`) whose objects are the informer cache's own, never mutated. */
const marked = new WeakSet<object>();

/** Marks a list result or a watch event as carrying cached objects (see above); returns it. */
export function sharedObjects<T extends { items: KObject[] } | { object: KObject }>(container: T): T {
  marked.add(container);
  return container;
}

/** The bytes of one cached object in `codec`, built on first use. */
function bytesOf(o: KObject, codec: Codec): Buffer {
  let b = memo[codec].get(o);
  if (!b) {
    // A copy: msgpackr's output is a view into its shared buffer, which must not be pinned per object.
    b = Buffer.from(encode(o, codec));
    memo[codec].set(o, b);
  }
  return b;
}

// A string no answer holds, put where the cached bytes go and replaced by them in the encoded envelope.
const marker = 'skiff-splice-' + randomBytes(6).toString('hex');
const markerBytes = Buffer.from(marker);

/**
 * Encodes an API answer. When its `result` is a marked list, or its `event` a marked watch event, the cached
 * objects' bytes are spliced into the envelope's; otherwise it is `encode(res, codec)`.
 */
export function encodeAnswer(res: Record<string, unknown>, codec: Codec): Buffer {
  const result = res.result as { items?: KObject[] } | undefined;
  if (result && marked.has(result)) return spliced(res, 'result', { ...result, items: marker as never }, arrayOf(result.items!, codec), codec);
  const event = res.event as { object?: KObject } | undefined;
  if (event && marked.has(event)) return eventAnswer(res, event, codec);
  return encode(res, codec);
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
  if (!plain) return spliced(res, 'event', { ...event, object: marker as never }, [bytesOf(event.object!, codec)], codec);
  const key = `${codec}\u0000${e.type}\u0000${res.id}`;
  let around = envelopes.get(key);
  if (!around) {
    const envelope = spliced(res, 'event', { ...event, object: marker as never }, [markerBytes], codec);
    const at = envelope.indexOf(markerBytes);
    if (at < 0) return encode(res, codec); // never expected (spliced encoded it whole): correct either way
    around = [Buffer.from(envelope.subarray(0, at)), Buffer.from(envelope.subarray(at + markerBytes.length))];
    if (envelopes.size >= maxEnvelopes) envelopes.clear();
    envelopes.set(key, around);
  }
  return Buffer.concat([around[0], bytesOf(event.object!, codec), around[1]]);
}

/** The object's own keys are exactly `keys`, in that order (what decides its envelope's bytes). */
function sameKeys(o: Record<string, unknown>, keys: string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && own.every((k, i) => k === keys[i]);
}

/** The pieces of an array of cached objects: its header, then each object's bytes (with commas in JSON). */
function arrayOf(items: KObject[], codec: Codec): Buffer[] {
  if (codec === 'json') return [Buffer.from('['), ...items.flatMap((o, i) => (i ? [comma, bytesOf(o, codec)] : [bytesOf(o, codec)])), Buffer.from(']')];
  const n = items.length;
  // msgpack array headers: fixarray, array 16, array 32.
  const head = n < 16 ? Buffer.from([0x90 | n]) : n < 0x10000 ? Buffer.from([0xdc, n >> 8, n & 0xff]) : Buffer.from([0xdd, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  return [head, ...items.map((o) => bytesOf(o, codec))];
}
const comma = Buffer.from(',');

function spliced(res: Record<string, unknown>, field: string, holder: object, pieces: Buffer[], codec: Codec): Buffer {
  const envelope = encode({ ...res, [field]: holder }, codec);
  const at = envelope.indexOf(markerBytes);
  // The marker as encoded: msgpack's fixstr header byte before it (it is < 32 bytes), JSON's quotes around it.
  const start = at - 1;
  const end = at + markerBytes.length + (codec === 'json' ? 1 : 0);
  const expected = codec === 'json' ? 0x22 : 0xa0 | markerBytes.length;
  if (at < 1 || envelope[start] !== expected) return encode(res, codec); // never expected; correct either way
  return Buffer.concat([envelope.subarray(0, start), ...pieces, envelope.subarray(end)]);
}

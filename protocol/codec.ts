/**
 * The wire codec. Payloads are msgpack; a payload whose first byte is `{` or `[` is read as JSON so that
 * plain MQTT clients (mosquitto_pub) can talk to the API, and a reply goes back in the codec of the request.
 */
import { Packr } from 'msgpackr';
import { SkiffError } from './errors.js';

// useRecords: false keeps the output plain msgpack that any msgpack library reads.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** Which codec a payload used. */
export type Codec = 'msgpack' | 'json';

/** Encodes a value in the given codec (msgpack by default). */
export function encode(value: unknown, codec: Codec = 'msgpack'): Buffer {
  return codec === 'json' ? Buffer.from(JSON.stringify(value)) : packr.pack(value);
}

/**
 * `b`, or a copy of it in memory of its own when it is a view into a larger allocation. msgpackr's `pack` returns
 * views into one shared buffer that grows to the largest message packed (a 20,000-pod list answer: tens of MB): a
 * small desired set kept as a retained message pinned that whole buffer (issue 16, master memory; three such
 * buffers were 34 MB of a 118 MB heap at 5,000 pods). A small `Buffer.from` copy is no better for bytes that are kept:
 * it is a slice of Node's shared 8 KiB pool, and one kept slice keeps its whole pool block alive (574 blocks, 4.5 MB,
 * for the leases' kept bytes at 1,000 nodes). Whatever is kept for long is copied here.
 */
export function ownBytes(b: Buffer): Buffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b;
  const copy = Buffer.allocUnsafeSlow(b.byteLength);
  b.copy(copy);
  return copy;
}

/** Detects the codec of a payload: JSON when it starts (after white space) with `{` or `[`. */
export function detectCodec(payload: Uint8Array): Codec {
  for (const b of payload) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b || b === 0x5b ? 'json' : 'msgpack';
  }
  return 'msgpack';
}

/** Decodes a payload; throws SKIFF_ERR_BAD_REQUEST on bytes that are neither msgpack nor JSON. */
export function decode<T = unknown>(payload: Uint8Array): { value: T; codec: Codec } {
  if (payload.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'empty payload');
  const codec = detectCodec(payload);
  try {
    const value = codec === 'json' ? JSON.parse(Buffer.from(payload).toString('utf8')) : packr.unpack(payload);
    return { value: value as T, codec };
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `payload is not valid ${codec}${where(err)}`);
  }
}

/**
 * Where a parser stopped, without the text around it: V8's JSON errors quote the payload (`Unexpected token 'x',
 * "{"password": "hun"... is not valid JSON`), and a payload may hold a Secret that must not reach a log.
 */
function where(err: unknown): string {
  const m = /position (\d+)/.exec((err as Error)?.message ?? '');
  return m ? ` (at byte ${m[1]})` : '';
}

/** Decodes a payload that must be an object (a map); throws SKIFF_ERR_BAD_REQUEST otherwise. */
export function decodeObject<T extends object = Record<string, unknown>>(payload: Uint8Array): { value: T; codec: Codec } {
  const d = decode<T>(payload);
  const proto = d.value !== null && typeof d.value === 'object' ? Object.getPrototypeOf(d.value) : undefined;
  // Only plain maps: msgpackr decodes some reserved bytes (0xc1) to objects of its own classes.
  if (proto !== Object.prototype && proto !== null)
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `payload must be a map, got ${Array.isArray(d.value) ? 'an array' : typeof d.value}`);
  return d;
}

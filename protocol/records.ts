/**
 * The `records` answer encoding, which a client asks for with `encoding: 'records'` on an API request (issue 16: a
 * `list` of 10,000 pods is ~10 MB of plain msgpack maps, and the client's decode of it took ~90 ms, most of it the
 * garbage collector copying objects built key by key). msgpackr's records write an object as a structure id and its
 * values; the decoder builds each object in one step with a shape made for that structure, and never reads the
 * keys again: the same list is ~5 MB and decodes in ~40–55 ms (with the strings table below: ~2.7 MB, ~10–20 ms).
 *
 * The structures (lists of keys) are shared by every answer of one master — the master keeps each cached object's
 * bytes across lists, so they cannot hold structures of their own (defined inline, per object, they decode slower
 * than plain maps) — and each records answer carries the whole table it may use, so a client keeps no state:
 * `{id, ok: true, encoding: 'records', structures: [[key, ...], ...], strings: [...], result: <bin: the result in
 * records>}`, the envelope itself plain msgpack; `strings` are the master's table of repeated strings, which the
 * result refers to (record-strings.ts). A table only grows (ids are never reused), so bytes made earlier stay readable
 * with any later table. A request that does not ask gets plain msgpack (or JSON) as before: any msgpack library,
 * mosquitto_pub, an older client.
 */
import { Packr, Unpackr } from 'msgpackr';
import { ownBytes } from './codec.js';
import { SkiffError } from './errors.js';
import { readingStrings, StringTable, stringLimits } from './record-strings.js';

/** The answer encodings a request may ask for (`encoding`); `msgpack` is the default: plain maps. */
export const answerEncodings = ['msgpack', 'records'] as const;
/** An answer encoding. */
export type AnswerEncoding = (typeof answerEncodings)[number];

/**
 * Bounds of the shared table, so that what every records answer carries stays small whatever keys objects hold
 * (label and data keys are the users'): at most this many structures, only objects of at most `maxRecordKeys`
 * keys become records, and once the table's keys add up to `maxTableChars` characters, objects of shapes not yet
 * in it are written as plain maps (which every decoder reads among records).
 */
export const recordLimits: Readonly<{ structures: number; maxRecordKeys: number; maxTableChars: number }> = { structures: 1024, maxRecordKeys: 32, maxTableChars: 64 * 1024 };

/** A node of the shapes trie: the keys so far are the table's shape `id` when it has one. */
interface ShapeNode {
  next: Map<string, ShapeNode>;
  id?: number;
}

/** msgpackr's shared structures: the keys lists, with what msgpackr keeps on the array. */
type Structures = string[][] & { sharedLength?: number; transitions?: unknown };

/**
 * The master's side: one table for every answer. Shapes join the table before msgpackr writes them (a copy of the
 * value is walked first, which also puts the strings table's references in): msgpackr never defines a structure
 * itself — it would write such definitions inline, under ids that a later table gives to other shapes, and an
 * answer mixing bytes of different times would then be read with the wrong keys.
 */
export class RecordsEncoder {
  private readonly structures: Structures = [];
  /** The table's shapes as a trie of their keys in order (a node is a shape when `known`). */
  private readonly shapes: ShapeNode = { next: new Map() };
  private chars = 0;
  private table: string[][] = [];
  /** Copies (made by `prepare`) whose shape is in the table: only these are written as records. */
  private recordable = new WeakSet<object>();
  private readonly packr: Packr;
  private readonly strings: StringTable;
  private readonly writer = new RecordsWriter((keys) => this.inTable(keys), (s) => this.strings.ref(s));

  constructor(
    private readonly limits = recordLimits,
    strings = stringLimits,
  ) {
    this.strings = new StringTable(strings);
    this.packr = new Packr({
      mapsAsObjects: true,
      int64AsType: 'number',
      structures: this.structures,
      maxSharedStructures: limits.structures,
      useRecords: (o: object) => this.recordable.has(o),
    } as ConstructorParameters<typeof Packr>[0]);
  }

  /**
   * Encodes a value (a copy: msgpackr's output is a view into a buffer it reuses). `refer: false` writes its strings
   * as they are and counts none of them: for an envelope whose strings change on every answer (a resourceVersion, a
   * placeholder to splice at), which must neither fill the table nor be written as references.
   *
   * What objects from JSON or msgpack hold (plain objects, arrays, strings, numbers, booleans, null, undefined, bytes)
   * is written here directly, the bytes msgpackr would write (`RecordsWriter`); anything else (a Date, a Map, a class
   * instance, a bigint) through msgpackr, from a copy with the references put in.
   */
  encode(value: unknown, refer = true): Buffer {
    const direct = this.writer.write(value, refer);
    if (direct) return direct;
    return this.packed(value, refer);
  }

  /** `value` through msgpackr (what the writer does not write). */
  private packed(value: unknown, refer: boolean): Buffer {
    const prepared = this.prepare(value, refer);
    const bytes = ownBytes(this.packr.pack(prepared));
    this.recordable = new WeakSet();
    return bytes;
  }

  /** The structures every byte encoded so far may refer to (plain arrays, rebuilt only when the table grew). */
  structuresTable(): string[][] {
    if (this.table.length !== this.structures.length) this.table = this.structures.map((s) => [...s]);
    return this.table;
  }

  /** The strings every byte encoded so far may refer to (the table itself: encode it before the next `encode`). */
  stringsTable(): readonly string[] {
    return this.strings.strings;
  }

  /** A copy of `value` for msgpackr: plain objects and arrays copied, objects of known shapes marked, strings referred. */
  private prepare(value: unknown, refer: boolean): unknown {
    if (typeof value === 'string') return refer ? this.strings.ref(value) : value;
    if (Array.isArray(value)) return value.map((v) => this.prepare(v, refer));
    if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
    const keys = Object.keys(value);
    // The shape first, then its values' shapes: the order the writer gives shapes their ids in.
    const record = this.inTable(keys) !== undefined;
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const v = this.prepare((value as Record<string, unknown>)[k], refer);
      // An own `__proto__` key (JSON.parse makes them) stays a key, never the copy's prototype.
      if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      else out[k] = v;
    }
    if (record) this.recordable.add(out);
    return out;
  }

  /**
   * The table's id of the shape of objects with these keys, when they are records: their shape is in the table, or
   * joins it now (see recordLimits); undefined when they are plain maps.
   */
  private inTable(keys: string[]): number | undefined {
    if (keys.length === 0 || keys.length > this.limits.maxRecordKeys) return undefined;
    let node: ShapeNode | undefined = this.shapes;
    for (let i = 0; node && i < keys.length; i++) node = node.next.get(keys[i]!);
    if (node?.id !== undefined) return node.id;
    const chars = keys.reduce((n, k) => n + k.length + 1, 0);
    if (this.structures.length >= this.limits.structures || this.chars + chars > this.limits.maxTableChars) return undefined;
    // Nodes are made only for shapes that join: a shape refused leaves nothing behind.
    node = this.shapes;
    for (const k of keys) {
      let next: ShapeNode | undefined = node.next.get(k);
      if (!next) node.next.set(k, (next = { next: new Map() }));
      node = next;
    }
    this.structures.push(keys);
    this.structures.sharedLength = this.structures.length;
    // msgpackr rebuilds its lookup of the shared structures on its next pack.
    this.structures.transitions = undefined;
    node.id = this.structures.length - 1;
    this.chars += chars;
    return node.id;
  }
}

/** Thrown by the writer at a value it does not write (the encoder then asks msgpackr). */
const notDirect = new Error('not written directly');

/**
 * Writes a value in records as msgpackr would with the encoder's tables — the same bytes — without copying it first:
 * a pod encoded for a list cost ~20 µs through a copy and msgpackr (the copy carries the strings table's references
 * and marks the records), written here in about half that. Only what JSON and msgpack objects hold; `write` returns
 * undefined at anything else, and the caller encodes that value through msgpackr.
 */
class RecordsWriter {
  private buf = Buffer.allocUnsafeSlow(64 * 1024);
  private pos = 0;

  constructor(
    /** The table's id of a shape (undefined: a plain map). */
    private readonly shapeOf: (keys: string[]) => number | undefined,
    /** A string, or the table's reference to it. */
    private readonly ref: (s: string) => string | object,
  ) {}

  /**
   * The bytes of `value` (a copy), or undefined when it holds what only msgpackr writes (the strings met before it
   * was found have been counted for the strings table once already: they may join it a little sooner).
   */
  write(value: unknown, refer: boolean): Buffer | undefined {
    this.pos = 0;
    let out: Buffer | undefined;
    try {
      this.value(value, refer);
      out = ownBytes(this.buf.subarray(0, this.pos)); // kept with the object: not a slice of Node's pool (codec.ts)
    } catch (err) {
      if (err !== notDirect) throw err;
    } finally {
      // A whole result written at once (a list nobody cached) may have grown the buffer: not kept past 1 MiB.
      if (this.buf.length > 1 << 20) this.buf = Buffer.allocUnsafeSlow(64 * 1024);
    }
    return out;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private value(v: unknown, refer: boolean): void {
    switch (typeof v) {
      case 'string':
        if (refer) {
          const r = this.ref(v);
          if (typeof r !== 'string') return this.reference((r as { i: number }).i);
        }
        return this.string(v);
      case 'number':
        return this.number(v);
      case 'boolean':
        this.room(1);
        this.buf[this.pos++] = v ? 0xc3 : 0xc2;
        return;
      case 'undefined':
        // msgpackr's undefined: fixext 1 of type 0.
        this.room(3);
        this.buf[this.pos++] = 0xd4;
        this.buf[this.pos++] = 0;
        this.buf[this.pos++] = 0;
        return;
      case 'object': {
        if (v === null) {
          this.room(1);
          this.buf[this.pos++] = 0xc0;
          return;
        }
        if (Array.isArray(v)) {
          this.header(v.length);
          for (let i = 0; i < v.length; i++) this.value(v[i], refer);
          return;
        }
        const proto = Object.getPrototypeOf(v);
        if (proto === Object.prototype) return this.object(v as Record<string, unknown>, refer);
        if (proto === Buffer.prototype || proto === Uint8Array.prototype) return this.bytes(v as Uint8Array);
        throw notDirect;
      }
      default:
        throw notDirect;
    }
  }

  private object(o: Record<string, unknown>, refer: boolean): void {
    const keys = Object.keys(o);
    const id = this.shapeOf(keys);
    if (id === undefined) {
      // msgpackr writes every map's size in 16 bits (map 16, even for a few keys).
      this.room(5);
      this.sized(keys.length, 0xde, 0xdf);
      for (const k of keys) {
        this.string(k);
        this.value(o[k], refer);
      }
      return;
    }
    // A record: its structure's id (msgpackr's: 0x40 + the index, two bytes past the first 32), then the values.
    this.room(2);
    const rid = 0x40 + id;
    if (rid < 0x60) this.buf[this.pos++] = rid;
    else {
      this.buf[this.pos++] = ((rid - 0x60) & 0x1f) + 0x60;
      this.buf[this.pos++] = (rid - 0x60) >> 5;
    }
    for (const k of keys) this.value(o[k], refer);
  }

  /** An array's header: fixarray (< 16), array 16, array 32. */
  private header(n: number): void {
    this.room(5);
    if (n < 16) this.buf[this.pos++] = 0x90 | n;
    else this.sized(n, 0xdc, 0xdd);
  }

  /**
   * A type byte and a size or unsigned integer `n` after it, big-endian: `c8` and one byte below 0x100 (when a type
   * has an 8-bit form), `c16` and two bytes below 0x10000, else `c32` and four. The caller made room for 5 bytes.
   */
  private sized(n: number, c16: number, c32: number, c8 = -1): void {
    const b = this.buf;
    if (c8 >= 0 && n < 0x100) {
      b[this.pos++] = c8;
      b[this.pos++] = n;
    } else if (n < 0x10000) {
      b[this.pos++] = c16;
      b[this.pos++] = n >> 8;
      b[this.pos++] = n & 0xff;
    } else {
      b[this.pos++] = c32;
      b.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
  }

  /** A reference to the strings table's `i`: msgpackr's tag extension (fixext 1, type 0x53, 0) and the index. */
  private reference(i: number): void {
    this.room(3);
    this.buf[this.pos++] = 0xd4;
    this.buf[this.pos++] = 0x53;
    this.buf[this.pos++] = 0;
    this.number(i);
  }

  /** msgpackr's numbers: 32-bit integers as the smallest integer (below 0x40 in one byte: records use 0x40–0x7f), else a float64. */
  private number(v: number): void {
    this.room(9);
    const b = this.buf;
    if (v >>> 0 === v) {
      if (v < 0x40) b[this.pos++] = v;
      else this.sized(v, 0xcd, 0xce, 0xcc);
    } else if (v >> 0 === v) {
      if (v >= -0x20) b[this.pos++] = 0x100 + v;
      else if (v >= -0x80) {
        b[this.pos++] = 0xd0;
        b[this.pos++] = v + 0x100;
      } else if (v >= -0x8000) {
        b[this.pos++] = 0xd1;
        b.writeInt16BE(v, this.pos);
        this.pos += 2;
      } else {
        b[this.pos++] = 0xd2;
        b.writeInt32BE(v, this.pos);
        this.pos += 4;
      }
    } else {
      b[this.pos++] = 0xcb;
      b.writeDoubleBE(v, this.pos);
      this.pos += 8;
    }
  }

  /** A string in UTF-8 (a lone surrogate as U+FFFD, as msgpackr writes it), with the smallest header for its bytes. */
  private string(s: string): void {
    const len = s.length;
    this.room(len * 3 + 5);
    const b = this.buf;
    // The header's size is guessed from the characters (bytes ≥ characters) and moved up if the bytes need more.
    const guess = len < 0x20 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
    const start = this.pos;
    let at = start + guess;
    if (len < 0x40) {
      for (let i = 0; i < len; i++) {
        let c = s.charCodeAt(i);
        if (c < 0x80) b[at++] = c;
        else if (c < 0x800) {
          b[at++] = (c >> 6) | 0xc0;
          b[at++] = (c & 0x3f) | 0x80;
        } else {
          let c2: number;
          if ((c & 0xfc00) === 0xd800 && ((c2 = s.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
            c = 0x10000 + ((c & 0x03ff) << 10) + (c2 & 0x03ff);
            i++;
            b[at++] = (c >> 18) | 0xf0;
            b[at++] = ((c >> 12) & 0x3f) | 0x80;
            b[at++] = ((c >> 6) & 0x3f) | 0x80;
            b[at++] = (c & 0x3f) | 0x80;
          } else if ((c & 0xf800) === 0xd800) {
            b[at++] = 0xef;
            b[at++] = 0xbf;
            b[at++] = 0xbd;
          } else {
            b[at++] = (c >> 12) | 0xe0;
            b[at++] = ((c >> 6) & 0x3f) | 0x80;
            b[at++] = (c & 0x3f) | 0x80;
          }
        }
      }
    } else at += b.write(s, at, 'utf8');
    const n = at - start - guess;
    const size = n < 0x20 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
    if (size > guess) b.copyWithin(start + size, start + guess, at);
    if (size === 1) b[start] = 0xa0 | n;
    else if (size === 2) {
      b[start] = 0xd9;
      b[start + 1] = n;
    } else if (size === 3) {
      b[start] = 0xda;
      b[start + 1] = n >> 8;
      b[start + 2] = n & 0xff;
    } else {
      b[start] = 0xdb;
      b.writeUInt32BE(n, start + 1);
    }
    this.pos = start + size + n;
  }

  /** Bytes: bin 8, 16, 32. */
  private bytes(v: Uint8Array): void {
    const n = v.length;
    this.room(n + 5);
    this.sized(n, 0xc5, 0xc6, 0xc4);
    this.buf.set(v, this.pos);
    this.pos += n;
  }
}

/**
 * The client's side: decodes a records answer's `result` with the tables it came with (`strings` absent: none).
 * Throws SKIFF_ERR_PARSE naming the field when a table or the bytes are malformed.
 */
export function decodeRecords(result: unknown, structures: unknown, strings: unknown = []): unknown {
  if (!(result instanceof Uint8Array)) throw new SkiffError('SKIFF_ERR_PARSE', `answer: result: must be bytes in the records encoding, got ${typeof result}`);
  const table = checkTable(structures);
  if (!Array.isArray(strings) || !strings.every((s) => typeof s === 'string')) throw new SkiffError('SKIFF_ERR_PARSE', 'answer: strings: must be a list of strings');
  // Record ids past the first 32 take a second byte, which msgpackr reads when it finds the structure's `highByte`
  // (what its own loading of shared structures sets; structures given at construction do not get it).
  table.forEach((keys, i) => i >= 32 && Object.assign(keys, { highByte: (i - 32) >> 5 }));
  const unpackr = new Unpackr({ mapsAsObjects: true, int64AsType: 'number', useRecords: true, structures: table, maxSharedStructures: Math.max(recordLimits.structures, table.length) } as ConstructorParameters<typeof Unpackr>[0]);
  try {
    return readingStrings(strings as string[], () => unpackr.unpack(result));
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_PARSE', `answer: result: not valid in the records encoding (${(err as Error).message})`);
  }
}

function checkTable(structures: unknown): string[][] {
  const bad = (why: string) => new SkiffError('SKIFF_ERR_PARSE', `answer: structures: ${why}`);
  if (!Array.isArray(structures)) throw bad('must be a list of key lists');
  if (structures.length > 8160) throw bad(`at most 8160 structures, got ${structures.length}`);
  structures.forEach((s, i) => {
    if (!Array.isArray(s) || !s.every((k) => typeof k === 'string')) throw bad(`[${i}] must be a list of strings`);
  });
  return structures as string[][];
}

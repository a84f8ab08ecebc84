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

/** A node of the shapes trie: the keys so far are a shape of the table when `known`. */
interface ShapeNode {
  next: Map<string, ShapeNode>;
  known?: true;
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
   */
  encode(value: unknown, refer = true): Buffer {
    const prepared = this.prepare(value, refer);
    const bytes = Buffer.from(this.packr.pack(prepared));
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
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const v = this.prepare((value as Record<string, unknown>)[k], refer);
      // An own `__proto__` key (JSON.parse makes them) stays a key, never the copy's prototype.
      if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      else out[k] = v;
    }
    if (this.inTable(keys)) this.recordable.add(out);
    return out;
  }

  /** Whether objects with these keys are records: their shape is in the table, or joins it now (see recordLimits). */
  private inTable(keys: string[]): boolean {
    if (keys.length === 0 || keys.length > this.limits.maxRecordKeys) return false;
    let node: ShapeNode | undefined = this.shapes;
    for (let i = 0; node && i < keys.length; i++) node = node.next.get(keys[i]!);
    if (node?.known) return true;
    const chars = keys.reduce((n, k) => n + k.length + 1, 0);
    if (this.structures.length >= this.limits.structures || this.chars + chars > this.limits.maxTableChars) return false;
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
    node.known = true;
    this.chars += chars;
    return true;
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

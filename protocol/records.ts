/**
 * The `records` answer encoding, which a client asks for with `encoding: 'records'` on an API request (issue 16: a
 * `list` of 10,000 pods is ~10 MB of plain msgpack maps, and the client's decode of it took ~90 ms, most of it the
 * garbage collector copying objects built key by key). msgpackr's records write an object as a structure id and its
 * values; the decoder builds each object in one step with a shape made for that structure, and never reads the
 * keys again: the same list is ~5 MB and decodes in ~55 ms.
 *
 * The structures (lists of keys) are shared by every answer of one master — the master keeps each cached object's
 * bytes across lists, so they cannot hold structures of their own (defined inline, per object, they decode slower
 * than plain maps) — and each records answer carries the whole table it may use, so a client keeps no state:
 * `{id, ok: true, encoding: 'records', structures: [[key, ...], ...], result: <bin: the result in records>}`, the
 * envelope itself plain msgpack. A table only grows (ids are never reused), so bytes made earlier stay readable
 * with any later table. A request that does not ask gets plain msgpack (or JSON) as before: any msgpack library,
 * mosquitto_pub, an older client.
 */
import { Packr, Unpackr } from 'msgpackr';
import { SkiffError } from './errors.js';

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

/** The master's side: one table for every answer, grown as new shapes are written. */
export class RecordsEncoder {
  private readonly structures: string[][] = [];
  private chars = 0;
  /** The table's shapes (keys joined), consulted only once the table is full. */
  private readonly shapes = new Set<string>();
  private table: string[][] = [];
  private readonly packr: Packr;

  constructor(private readonly limits = recordLimits) {
    this.packr = new Packr({
      mapsAsObjects: true,
      int64AsType: 'number',
      structures: this.structures,
      maxSharedStructures: limits.structures,
      // Called by msgpackr when a pack added structures: count their keys (the budget above).
      saveStructures: () => {
        this.chars = 0;
        for (const s of this.structures) {
          this.chars += s.reduce((m, k) => m + String(k).length + 1, 0);
          this.shapes.add(s.join('\u0000'));
        }
        return true;
      },
      useRecords: (o: object) => this.mayRecord(o),
    } as ConstructorParameters<typeof Packr>[0]);
  }

  /** Encodes a value (a copy: msgpackr's output is a view into a buffer it reuses). */
  encode(value: unknown): Buffer {
    return Buffer.from(this.packr.pack(value));
  }

  /** The table every byte encoded so far may refer to (plain arrays, rebuilt only when it grew). */
  structuresTable(): string[][] {
    if (this.table.length !== this.structures.length) this.table = this.structures.map((s) => [...s]);
    return this.table;
  }

  /** Whether msgpackr may write `o` as a record (see recordLimits); otherwise it is a plain map. */
  private mayRecord(o: object): boolean {
    let n = 0;
    for (const _ in o) if (++n > this.limits.maxRecordKeys) return false;
    if (this.chars < this.limits.maxTableChars && this.structures.length < this.limits.structures) return true;
    return this.shapes.has(Object.keys(o).join('\u0000'));
  }
}

/**
 * The client's side: decodes a records answer's `result` with the table it came with. Throws SKIFF_ERR_PARSE naming
 * the field when the table or the bytes are malformed.
 */
export function decodeRecords(result: unknown, structures: unknown): unknown {
  if (!(result instanceof Uint8Array)) throw new SkiffError('SKIFF_ERR_PARSE', `answer: result: must be bytes in the records encoding, got ${typeof result}`);
  const table = checkTable(structures);
  const unpackr = new Unpackr({ mapsAsObjects: true, int64AsType: 'number', useRecords: true, structures: table, maxSharedStructures: Math.max(recordLimits.structures, table.length) } as ConstructorParameters<typeof Unpackr>[0]);
  try {
    return unpackr.unpack(result);
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

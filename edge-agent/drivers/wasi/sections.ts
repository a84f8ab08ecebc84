/**
 * Just enough of the WebAssembly binary format (core spec §5) to put a memory limit on a module: find its
 * memories — defined (memory section, id 5) and imported (import section, id 2, kind 0x02) — and lower the
 * maximum of the defined ones. A module's memory can then not grow past the container's memory limit:
 * `memory.grow` returns -1, as it does at the module's own maximum.
 */

/** A memory's limits in 64 KiB pages. */
export interface MemoryLimits {
  min: number;
  max?: number;
}

/** An imported memory (a module built with --import-memory): the runner makes it, with the limit as maximum. */
export interface MemoryImport extends MemoryLimits {
  module: string;
  name: string;
}

/** What the module holds. */
export interface ModuleMemories {
  defined: MemoryLimits[];
  imported: MemoryImport[];
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** A reader over the bytes with LEB128 (unsigned) and names. */
class Reader {
  constructor(
    readonly b: Uint8Array,
    public at = 0,
  ) {}
  byte(): number {
    if (this.at >= this.b.length) throw new Error('unexpected end of the module');
    return this.b[this.at++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return result;
      shift += 7;
      if (shift > 63) throw new Error('malformed LEB128 number');
    }
  }
  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.b.subarray(this.at, this.at + n));
    this.at += n;
    return s;
  }
  limits(): MemoryLimits & { flags: number } {
    const flags = this.byte();
    if (flags & 0x04) throw new Error('memory64 modules are not supported');
    const min = this.u32();
    return flags & 0x01 ? { flags, min, max: this.u32() } : { flags, min };
  }
}

/** Unsigned LEB128. */
export function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** The module's sections: id, and where the payload starts and ends. */
function sections(b: Uint8Array): { id: number; start: number; end: number; header: number }[] {
  if (b.length < 8 || MAGIC.some((v, i) => b[i] !== v)) throw new Error('not a WebAssembly module (bad magic number or version)');
  const r = new Reader(b, 8);
  const out: { id: number; start: number; end: number; header: number }[] = [];
  while (r.at < b.length) {
    const header = r.at;
    const id = r.byte();
    const size = r.u32();
    const start = r.at;
    if (start + size > b.length) throw new Error(`section ${id} runs past the end of the module`);
    out.push({ id, start, end: start + size, header });
    r.at = start + size;
  }
  return out;
}

/** Skips one import description of `kind` (func, table, memory read separately, global, tag). */
function skipImport(r: Reader, kind: number): void {
  if (kind === 0x00 || kind === 0x04) r.u32(); // type index / tag
  else if (kind === 0x01) {
    r.byte(); // reftype
    r.limits();
  } else if (kind === 0x03) {
    r.byte(); // valtype
    r.byte(); // mutability
  } else throw new Error(`unknown import kind ${kind}`);
}

/** The memories a module defines and imports. Throws on a malformed module. */
export function memoriesOf(b: Uint8Array): ModuleMemories {
  const out: ModuleMemories = { defined: [], imported: [] };
  for (const s of sections(b)) {
    const r = new Reader(b.subarray(0, s.end), s.start);
    if (s.id === 2)
      for (let n = r.u32(); n > 0; n--) {
        const module = r.name();
        const name = r.name();
        const kind = r.byte();
        if (kind === 0x02) {
          const { min, max } = r.limits();
          out.imported.push({ module, name, min, ...(max !== undefined ? { max } : {}) });
        } else skipImport(r, kind);
      }
    if (s.id === 5)
      for (let n = r.u32(); n > 0; n--) {
        const { min, max } = r.limits();
        out.defined.push({ min, ...(max !== undefined ? { max } : {}) });
      }
  }
  return out;
}

/**
 * The module with every defined memory's maximum lowered to `maxPages` (kept when already lower), or
 * undefined when nothing changes. Throws when a memory needs more than `maxPages` to start at all: the
 * module cannot run within the limit.
 */
export function capMemories(b: Uint8Array, maxPages: number): Uint8Array | undefined {
  const mem = sections(b).find((s) => s.id === 5);
  if (!mem) return undefined;
  const r = new Reader(b.subarray(0, mem.end), mem.start);
  const body: number[] = [];
  let changed = false;
  const n = r.u32();
  body.push(...leb128(n));
  for (let i = 0; i < n; i++) {
    const { flags, min, max } = r.limits();
    if (min > maxPages) throw new Error(`the module's memory starts at ${min} pages (${min * 64} KiB), more than the limit of ${maxPages} pages`);
    const capped = max === undefined ? maxPages : Math.min(max, maxPages);
    changed ||= capped !== max;
    body.push(flags | 0x01, ...leb128(min), ...leb128(capped));
  }
  if (!changed) return undefined;
  const section = [5, ...leb128(body.length), ...body];
  const out = new Uint8Array(mem.header + section.length + (b.length - mem.end));
  out.set(b.subarray(0, mem.header), 0);
  out.set(section, mem.header);
  out.set(b.subarray(mem.end), mem.header + section.length);
  return out;
}

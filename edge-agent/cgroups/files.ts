/** Reading and writing cgroup control files: one value per file, or `key value` lines (memory.stat, memory.events). */
import fs from 'node:fs';

/** A control file's content trimmed, or undefined when it cannot be read (gone, or not in this kernel). */
export function readValue(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A control file as a number, or undefined. */
export function readNumber(file: string): number | undefined {
  const v = readValue(file);
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** One key of a `key value` file (memory.stat, memory.events, memory.oom_control, cpu.stat), or undefined. */
export function readKey(file: string, key: string): number | undefined {
  const text = readValue(file);
  if (text === undefined) return undefined;
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key) {
      const n = Number(v);
      return Number.isFinite(n) ? n : undefined;
    }
  }
  return undefined;
}

/** Writes a control file; throws naming the file when the kernel refuses (EINVAL, EBUSY, EACCES). */
export function writeValue(file: string, value: string | number): void {
  try {
    fs.writeFileSync(file, String(value));
  } catch (err) {
    throw new Error(`cannot write ${JSON.stringify(String(value))} to ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Writes a control file when it exists (a controller feature this kernel may lack, e.g. memory.memsw.*). */
export function writeIfPresent(file: string, value: string | number): boolean {
  if (!fs.existsSync(file)) return false;
  writeValue(file, value);
  return true;
}

/** The pids listed in a cgroup.procs file (empty when it is gone). */
export function readPids(file: string): number[] {
  const v = readValue(file);
  return v ? v.split('\n').map(Number).filter((n) => Number.isInteger(n) && n > 0) : [];
}

/**
 * The audit log file: one JSON object a line in DATA/audit.log (0600), rotated by size as kube-apiserver's
 * `--audit-log-maxsize` / `--audit-log-maxbackup` do: when a line would take the file past `maxBytes`, it becomes
 * audit.log.1 (the older ones shift up to audit.log.N, the oldest dropped) and a new audit.log starts. Writes are
 * synchronous appends, so a line is in the file (the OS's cache) before the API answers; an audit line that
 * cannot be written is reported to the logger once and the master goes on (the API must not stop with a full disk).
 */
import { closeSync, existsSync, fstatSync, openSync, renameSync, rmSync, writeSync, chmodSync } from 'node:fs';

/** Where audit lines go. */
export interface AuditSink {
  write(entry: Record<string, unknown>): void;
  close(): void;
}

/** Options of the audit file. */
export interface AuditFileOptions {
  /** Rotate before the file grows past this many bytes. */
  maxBytes: number;
  /** Rotated files kept (audit.log.1 … audit.log.N). */
  backups: number;
  /** Told once when a line could not be written. */
  onError?: (err: unknown) => void;
}

/** An audit.log with size-based rotation. */
export class AuditFile implements AuditSink {
  private fd: number | undefined;
  private size = 0;
  private failed = false;

  constructor(
    readonly path: string,
    private readonly opts: AuditFileOptions,
  ) {}

  /** Appends one entry as a JSON line, rotating first when it would not fit. */
  write(entry: Record<string, unknown>): void {
    try {
      const line = Buffer.from(JSON.stringify(entry) + '\n', 'utf8');
      this.open();
      if (this.size > 0 && this.size + line.length > this.opts.maxBytes) this.rotate();
      this.size += writeSync(this.fd!, line);
      this.failed = false;
    } catch (err) {
      if (!this.failed) this.opts.onError?.(err);
      this.failed = true;
    }
  }

  /** Closes the file (the master stops). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): void {
    if (this.fd !== undefined) return;
    this.fd = openSync(this.path, 'a', 0o600);
    chmodSync(this.path, 0o600); // a file left from before keeps its mode otherwise
    this.size = fstatSync(this.fd).size;
  }

  /** audit.log → .1 → .2 …; the oldest beyond `backups` is removed. */
  private rotate(): void {
    this.close();
    const n = this.opts.backups;
    rmSync(`${this.path}.${n}`, { force: true });
    for (let i = n - 1; i >= 1; i--) if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    if (n >= 1) renameSync(this.path, `${this.path}.1`);
    else rmSync(this.path, { force: true });
    this.open();
  }
}

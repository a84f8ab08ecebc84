/**
 * The last retained service messages, kept on disk (DATA/services.msgpack, written atomically), so a board
 * rebooted while the master is away proxies its services again, not only its pods (offline autonomy).
 * It mirrors the broker's retained set: an empty message deletes, and after a reconnect the services no
 * retained message confirmed are dropped, like the proxy's own resync.
 */
import { decode, encode } from '../protocol/codec.js';
import { readIfExists, writeIfChanged } from './fsutil.js';
import type { Logger } from './log.js';

/** Writes are gathered this long (a reconnect replays every service at once). */
const saveDelayMs = 200;

/** Service payloads by `namespace/name`, persisted. */
export class ServiceCache {
  private readonly entries = new Map<string, Buffer>();
  private confirmed?: Set<string>;
  private timer?: NodeJS.Timeout;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly log: Logger,
  ) {}

  /** Reads the cache; a damaged file is ignored with one log line. Returns `[namespace, name, payload]`s. */
  async load(): Promise<[string, string, Buffer][]> {
    try {
      const raw = await readIfExists(this.file);
      if (!raw) return [];
      const stored = decode<Record<string, Uint8Array>>(raw).value;
      for (const [key, payload] of Object.entries(stored ?? {})) if (key.includes('/') && payload instanceof Uint8Array) this.entries.set(key, Buffer.from(payload));
    } catch (err) {
      this.log.warn(`service cache unreadable, ignored: ${(err as Error).message}`);
    }
    return [...this.entries].map(([key, payload]) => [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1), payload]);
  }

  /** Records a retained service message (empty = deleted). */
  set(namespace: string, name: string, payload: Buffer): void {
    const key = `${namespace}/${name}`;
    this.confirmed?.add(key);
    const had = this.entries.get(key);
    if (payload.length === 0 ? !had : had?.equals(payload)) return; // a replay (reconnect) or a repeat: nothing to save
    if (payload.length === 0) this.entries.delete(key);
    else this.entries.set(key, Buffer.from(payload));
    this.scheduleSave();
  }

  /** A reconnect starts: messages that follow confirm their services. */
  beginResync(): void {
    this.confirmed = new Set();
  }

  /** Drops services the reconnect did not confirm (deleted while the agent was away). */
  endResync(): void {
    const confirmed = this.confirmed;
    this.confirmed = undefined;
    if (!confirmed) return;
    let changed = false;
    for (const key of [...this.entries.keys()]) if (!confirmed.has(key)) changed = this.entries.delete(key) || changed;
    if (changed) this.scheduleSave();
  }

  /** Writes pending changes now (agent stop). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.save();
    }
    await this.saving;
  }

  private scheduleSave(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.save();
    }, saveDelayMs);
  }

  private save(): void {
    const snapshot = encode(Object.fromEntries(this.entries));
    this.saving = this.saving.then(async () => void (await writeIfChanged(this.file, snapshot, 0o600))).catch((err) => this.log.warn(`service cache not saved: ${(err as Error).message}`));
  }
}

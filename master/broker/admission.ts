/**
 * Connections that have not authenticated yet are counted, per source address and in all, and refused beyond a
 * bound: each may hold a packet of up to PRE_AUTH_PACKET_BYTES, so the bound caps what strangers can make the
 * master buffer (1,024 × 16 KiB = 16 MiB). A connection leaves the count when it authenticates or closes.
 */
import type { Socket } from 'node:net';

/** Bounds on unauthenticated connections. */
export interface AdmissionLimits {
  /** In all; default 1024. */
  total: number;
  /** From one source address; default 256 (a reconnect storm of boards behind one NAT stays inside). */
  perSource: number;
}

/** Counts unauthenticated connections. */
export class PreAuthAdmission {
  private total = 0;
  private readonly bySource = new Map<string, number>();
  private readonly pending = new WeakMap<Socket, string>();

  constructor(private readonly limits: AdmissionLimits = { total: 1024, perSource: 256 }) {}

  /** Counts a new connection; false (and nothing counted) when a bound is reached. */
  admit(socket: Socket): boolean {
    const source = socket.remoteAddress ?? '?';
    const n = this.bySource.get(source) ?? 0;
    if (this.total >= this.limits.total || n >= this.limits.perSource) return false;
    this.total++;
    this.bySource.set(source, n + 1);
    this.pending.set(socket, source);
    socket.once('close', () => this.release(socket));
    return true;
  }

  /** The connection authenticated (or closed): it no longer counts. Idempotent. */
  release(socket: Socket): void {
    const source = this.pending.get(socket);
    if (source === undefined) return;
    this.pending.delete(socket);
    this.total--;
    const n = (this.bySource.get(source) ?? 1) - 1;
    if (n > 0) this.bySource.set(source, n);
    else this.bySource.delete(source);
  }

  /** Unauthenticated connections now (for tests and /metrics). */
  get count(): number {
    return this.total;
  }
}

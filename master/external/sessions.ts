/**
 * The streams API client sessions hold open, as every master sees them (docs/ha.md "Every master serves the API").
 * Every master receives every request on the external broker and answers only the sessions it owns (rendezvous
 * hashing over the live masters, ha/members.ts). When a session's owner changes — a master left, or one came and
 * took a share — the streams it had open (a watch, `logs -f`, exec) cannot follow: their state is in the old
 * owner. So each master notes, for every session, the ids of the requests that may have opened a stream; on a
 * change the old owner (if alive) or else the new one ends them with SKIFF_ERR_GONE (Kubernetes' 410 Gone), and
 * the client opens them again, now on the new owner (the CLI's `get -w` lists again and watches from there).
 */
import { decodeObject, encode, type ApiResponse, type Codec } from '../../protocol/index.js';

/** Verbs whose answer may be a stream (api/server.ts answers them with several pieces and a last `done`). */
const streamVerbs: ReadonlySet<unknown> = new Set(['watch', 'logs', 'exec', 'portforward', 'cp']);
/** Requests larger than this are not decoded here (a stream's opening request is small; an apply may be megabytes). */
const maxNotedBytes = 8192;
/** Sessions remembered at most (the least recently active go first), and stream ids per session (as maxStreamsPerIdentity). */
const maxSessions = 4096;
const maxPerSession = 256;

/** One session's possibly open streams: request id → the codec it asked in. */
type Open = Map<string, Codec>;

/** What to end on a session that moved. */
export interface Moved {
  clientId: string;
  answers: Buffer[];
}

/** The possibly open streams of every API client session, by the master's client id (`user:clientId`). */
export class SessionStreams {
  private readonly sessions = new Map<string, Open>();

  /** Notes a request of session `clientId`: a stream opened, or one cancelled. */
  request(clientId: string, payload: Buffer): void {
    if (payload.length > maxNotedBytes) return;
    let req: { id?: unknown; verb?: unknown; ref?: unknown };
    let codec: Codec;
    try {
      ({ value: req, codec } = decodeObject<typeof req>(payload));
    } catch {
      return; // the owner answers the malformed request
    }
    const open = this.sessions.get(clientId);
    if (req.verb === 'cancel') {
      if (typeof req.ref === 'string') open?.delete(req.ref);
      return;
    }
    if (!streamVerbs.has(req.verb) || typeof req.id !== 'string' || req.id.length > 200) return;
    const s = open ?? new Map<string, Codec>();
    this.sessions.delete(clientId); // re-inserted last: the Map's order is recency
    this.sessions.set(clientId, s);
    if (s.size >= maxPerSession) s.delete(s.keys().next().value!);
    s.set(req.id, codec);
    if (this.sessions.size > maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
  }

  /** The client left: its streams ended with it. */
  gone(clientId: string): void {
    this.sessions.delete(clientId);
  }

  /** Sessions remembered now (for tests and metrics). */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Forgets every session `moved` says moved, and returns the answers that end its streams for those `mine`
   * says this master must end (`why` worded for the client).
   */
  take(moved: (clientId: string) => boolean, mine: (clientId: string) => boolean, why: (clientId: string) => string): Moved[] {
    const out: Moved[] = [];
    for (const [clientId, open] of [...this.sessions]) {
      if (!moved(clientId)) continue;
      this.sessions.delete(clientId);
      if (!mine(clientId) || open.size === 0) continue;
      const message = why(clientId);
      const answers = [...open].map(([id, codec]) => encode({ id, ok: false, done: true, error: { code: 'SKIFF_ERR_GONE', message } } satisfies ApiResponse, codec));
      out.push({ clientId, answers });
    }
    return out;
  }
}

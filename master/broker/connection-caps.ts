/**
 * How many connections one identity may hold open (docs/security.md "Connections per identity"). What an identity's
 * requests, streams and subscriptions may make the master hold is bounded across all its connections, but every
 * connection costs the master its own buffers (~85 KB under TLS) and a file descriptor: a view token that opened
 * connections in a loop would run the master out of descriptors — then it can open neither its database files nor the
 * boards' connections. Past its bound, a CONNECT is refused with CONNACK 3 (server unavailable): a client retries
 * later, as it does when the master is down (Nomad and Consul bound connections per client the same way:
 * `limits.http_max_conns_per_client`, 100 and 200).
 *
 * Who counts together: a user's (or the admin's) connections by role and name — every connection of one token; a
 * node's by node; a joiner's by the join token it holds, since the node name of a join is the client's choice. A
 * CONNECT that takes over a connected client id of the same identity is let through whatever the count: the broker
 * closes the client it replaces, so the count goes back at once, and a board reconnecting before its old connection
 * timed out is never refused. So is a node's agent session (its reserved client id, `skiff-agent-{node}`): someone
 * holding a board's credential cannot keep the board's own agent out by filling its bound first.
 */
import type { Identity } from './acl.js';

/** The bounds by role. */
export interface ConnectionLimits {
  /** A user's token, and the admin: every dashboard tab, CLI call and script of that token. */
  perUser: number;
  /** One board: its agent's session, and a new one while the old is being closed. */
  perNode: number;
  /** Every board joining with one join token at once (a fleet booting for the first time). */
  perJoinToken: number;
}

/** Defaults: 256 per user (as streams per identity), 8 per node, 1,024 joins per join token. */
export const defaultConnectionLimits: Readonly<ConnectionLimits> = Object.freeze({ perUser: 256, perNode: 8, perJoinToken: 1024 });

/** The key connections of `id` are counted under, and their bound. */
function groupOf(id: Identity, limits: ConnectionLimits): { key: string; limit: number; what: string } {
  switch (id.role) {
    case 'node':
      return { key: `node:${id.name}`, limit: limits.perNode, what: `node ${id.name}` };
    case 'joiner':
      return { key: `join:${id.token}`, limit: limits.perJoinToken, what: `join token ${id.token}` };
    case 'admin':
      return { key: 'admin:admin', limit: limits.perUser, what: 'admin' };
    default:
      return { key: `user:${id.name}`, limit: limits.perUser, what: `user ${id.name}` };
  }
}

/** Counts authenticated connections per identity. */
export class ConnectionCaps {
  private readonly open = new Map<string, number>();

  constructor(private readonly limits: ConnectionLimits = defaultConnectionLimits) {}

  /**
   * Why a new connection of `id` is refused, or undefined. `exempt`: it replaces a connected client of the same
   * identity (same client id), which the broker closes, or it is a node's agent session.
   */
  refusal(id: Identity, exempt: boolean): string | undefined {
    if (exempt) return undefined;
    const g = groupOf(id, this.limits);
    const n = this.open.get(g.key) ?? 0;
    return n >= g.limit ? `${g.what} has ${n} connections open, the most it may (${g.limit})` : undefined;
  }

  /** Counts a connection of `id` until `release` (idempotent) is called. */
  add(id: Identity): () => void {
    const { key } = groupOf(id, this.limits);
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.open.get(key) ?? 1) - 1;
      if (n > 0) this.open.set(key, n);
      else this.open.delete(key);
    };
  }

  /** Open connections counted for `id` (tests, /metrics). */
  count(id: Identity): number {
    return this.open.get(groupOf(id, this.limits).key) ?? 0;
  }
}

/** Two identities are the same one: role and name (a user token's name is unique), and for a joiner also its join token. */
export function sameIdentity(a: Identity | undefined, b: Identity): boolean {
  if (!a || a.role !== b.role || a.name !== b.name) return false;
  if (a.role === 'joiner' && b.role === 'joiner') return a.token === b.token;
  return true;
}

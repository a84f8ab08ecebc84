/**
 * Joins admitted lately, so a retried join is admitted again instead of refused (docs/ha.md "A retried join"). An
 * agent whose join result was lost — published while its connection to the broker was down, or too slow under a
 * thousand joins through an external broker — opens a new exchange for the same node; the first one already
 * created the Node and issued a credential, which the agent never read. The same joiner is recognised by the
 * same join token and the same ephemeral key (the agent keeps one key for all the exchanges of one join,
 * edge-agent/join.ts): it gets a fresh credential for the same node (the unread one is replaced), sealed to that
 * key, so only the holder of its private key can read it — a joiner that merely saw the hello learns nothing.
 * Anyone else claiming the node's name is refused as before.
 */

/** How long a joiner may retry (well past an agent's join timeout, 30 s by default). */
export const JOIN_RETRY_WINDOW_MS = 10 * 60_000;
/** Joins remembered at most (the oldest go first): a short string each. */
const MAX_REMEMBERED = 4096;

/** The joins admitted within the retry window, by node. */
export class RecentJoins {
  private readonly joins = new Map<string, { token: string; key: string; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Records that `node` was admitted for the joiner with this ephemeral `key`, under join token `token`. */
  admitted(node: string, token: string, key: string): void {
    this.joins.delete(node);
    this.joins.set(node, { token, key, at: this.now() });
    if (this.joins.size > MAX_REMEMBERED) this.joins.delete(this.joins.keys().next().value!);
  }

  /** True when this is a retry of a join admitted within the window: the same node, join token and ephemeral key. */
  isRetry(node: unknown, token: string, key: unknown): boolean {
    if (typeof node !== 'string') return false;
    const j = this.joins.get(node);
    return j !== undefined && j.token === token && j.key === key && this.now() - j.at <= JOIN_RETRY_WINDOW_MS;
  }

}

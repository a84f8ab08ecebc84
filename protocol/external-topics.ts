/**
 * The topics clients use on an external broker (Mosquitto with its dynamic-security plugin; docs/ha.md). An
 * external broker tells the master nothing about who published a message, and Mosquitto 2.0's dynamic-security
 * ACLs cannot name the publisher (no `%u`/`%c` patterns), so the publisher's name is a topic level that the
 * broker's per-account ACL pins: user `U` may publish only under `users/U/`, and the joiners of one join token
 * only under `joins/{tag}/`. Node topics already carry the node's name (`nodes/{node}/`).
 *
 *   users/{user}/{clientId}/req   client → master   an API request (what `api/{clientId}/req` is on the embedded broker)
 *   users/{user}/{clientId}/res   master → client   its answers
 *   users/{user}/{clientId}/gone  client → masters  the client left (its Will, or sent before a clean disconnect): streams end
 *   users/{user}/apply            client → master   a manifest (what `apply` is on the embedded broker)
 *   joins/{tag}/{session}/req|res                   a join exchange of the join token whose tag is `tag`
 */
import { createHash } from 'node:crypto';
import { connectKey } from './join.js';
import { ROOT } from './topics.js';

/** External-broker topic builders. */
export const externalTopics = {
  userApiReq: (user: string, clientId: string) => `${ROOT}/users/${user}/${clientId}/req`,
  userApiRes: (user: string, clientId: string) => `${ROOT}/users/${user}/${clientId}/res`,
  userGone: (user: string, clientId: string) => `${ROOT}/users/${user}/${clientId}/gone`,
  userApply: (user: string) => `${ROOT}/users/${user}/apply`,
  joinReq: (tag: string, session: string) => `${ROOT}/joins/${tag}/${session}/req`,
  joinRes: (tag: string, session: string) => `${ROOT}/joins/${tag}/${session}/res`,
} as const;

/** A parsed external-broker topic. */
export type ExternalTopic =
  | { type: 'userApiReq' | 'userApiRes' | 'userGone'; user: string; clientId: string }
  | { type: 'userApply'; user: string }
  | { type: 'joinReq' | 'joinRes'; tag: string; session: string };

/** Parses an external-broker topic; undefined for anything else (no empty levels, no wildcards). */
export function parseExternalTopic(topic: string): ExternalTopic | undefined {
  if (!topic.startsWith(ROOT + '/')) return undefined;
  const p = topic.slice(ROOT.length + 1).split('/');
  if (p.some((s) => s.length === 0 || /[+#\u0000]/.test(s))) return undefined;
  if (p[0] === 'users') {
    if (p.length === 3 && p[2] === 'apply') return { type: 'userApply', user: p[1] };
    if (p.length !== 4) return undefined;
    const leaf = p[3] === 'req' ? 'userApiReq' : p[3] === 'res' ? 'userApiRes' : p[3] === 'gone' ? 'userGone' : undefined;
    return leaf && { type: leaf, user: p[1], clientId: p[2] };
  }
  if (p[0] === 'joins' && p.length === 4 && (p[3] === 'req' || p[3] === 'res')) return { type: p[3] === 'req' ? 'joinReq' : 'joinRes', tag: p[1], session: p[2] };
  return undefined;
}

/**
 * The tag of a join token on an external broker: 16 hex digits of SHA-256 of its connect key. Agent and master
 * both derive it from the token; it names the broker account (`skiff-join-{tag}`) and the topics of that
 * token's joins, and reveals nothing of the secret.
 */
export function joinTag(secret: string): string {
  return createHash('sha256').update(connectKey(secret)).digest('hex').slice(0, 16);
}

/** The broker account (user name) joiners of a join token log in with on an external broker. */
export function joinUser(secret: string): string {
  return `skiff-join-${joinTag(secret)}`;
}

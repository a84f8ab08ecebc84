/**
 * What a message on an external broker means to the master, and where the master's answers go there
 * (protocol/external-topics.ts). Pure functions over topics: the broker's per-account ACL (roles.ts) is what makes
 * a topic's name level a proof of who published it, as the embedded broker's authenticate hook is.
 */
import { decodeObject, parseTopic, topics, type ParsedTopic } from '../../protocol/index.js';
import { externalTopics, parseExternalTopic } from '../../protocol/external-topics.js';
import type { Identity } from '../broker/acl.js';
import { AGENT_CLIENT_PREFIX } from '../broker/client-ids.js';
import type { Inbound } from '../broker/index.js';

/** What the mapping looks up. */
export interface Lookups {
  /** The identity of user `name` (a user token or `admin`), or undefined when it has none (revoked). */
  user(name: string): Identity | undefined;
  /** The name of the working join token with this tag, or undefined. */
  joinToken(tag: string): string | undefined;
}

/** A message turned into what the embedded broker would have delivered, or a client that left, or nothing. */
export type Mapped = { inbound: Inbound } | { gone: { clientId: string; identity: Identity } } | undefined;

/** The topic types a node publishes (ACL: only under its own name). */
const nodeTypes = new Set<ParsedTopic['type']>(['nodeStatus', 'nodeLease', 'nodePods', 'nodeMetrics', 'nodeCsr', 'nodeRpcRes']);

/** The client id the master uses for API client `clientId` of user `user`: one topic level, split again on the first ":". */
export function apiClientId(user: string, clientId: string): string {
  return `${user}:${clientId}`;
}

/** Maps one message from the external broker. `joinTags` remembers which tag a join session came under (for the answers). */
export function mapInbound(topic: string, payload: Buffer, look: Lookups, joinTags: Map<string, string>): Mapped {
  const t = parseTopic(topic);
  if (t && 'node' in t && nodeTypes.has(t.type)) return { inbound: { topic, payload, clientId: AGENT_CLIENT_PREFIX + t.node, identity: { role: 'node', name: t.node }, address: '' } };
  const x = parseExternalTopic(topic);
  if (!x) return undefined;
  if (x.type === 'joinReq') {
    const token = look.joinToken(x.tag);
    if (token === undefined) return undefined; // a token revoked since; its account is being deleted
    remember(joinTags, x.session, x.tag);
    return { inbound: { topic: topics.joinReq(x.session), payload, clientId: `skiff-join-${x.tag}`, identity: { role: 'joiner', name: helloNode(payload), token }, address: '' } };
  }
  if (x.type === 'joinRes' || x.type === 'userApiRes') return undefined;
  if (!('user' in x)) return undefined;
  const identity = look.user(x.user);
  if (!identity) return undefined;
  if (x.type === 'userApply') return { inbound: { topic: topics.apply, payload, clientId: apiClientId(x.user, 'apply'), identity, address: '' } };
  const clientId = apiClientId(x.user, x.clientId);
  if (x.type === 'userGone') return { gone: { clientId, identity } };
  return { inbound: { topic: topics.apiReq(clientId), payload, clientId, identity, address: '' } };
}

/** Where a message the master publishes goes on the external broker; undefined: nowhere (a join session it never saw). */
export function mapOutbound(topic: string, joinTags: Map<string, string>): string | undefined {
  const t = parseTopic(topic);
  if (t?.type === 'apiRes') {
    const i = t.clientId.indexOf(':');
    return i > 0 ? externalTopics.userApiRes(t.clientId.slice(0, i), t.clientId.slice(i + 1)) : undefined;
  }
  if (t?.type === 'joinRes') {
    const tag = joinTags.get(t.session);
    return tag === undefined ? undefined : externalTopics.joinRes(tag, t.session);
  }
  return topic;
}

/** The identity of the API client the master knows as `clientId` (apiClientId), if it still has one. */
export function holderOf(clientId: string, look: Lookups): Identity | undefined {
  const i = clientId.indexOf(':');
  return i > 0 ? look.user(clientId.slice(0, i)) : undefined;
}

/** The node a hello names (the embedded broker checks it against the user name; here the joiner's account is the token's). */
function helloNode(payload: Buffer): string {
  try {
    const v = decodeObject<{ node?: unknown }>(payload).value;
    return typeof v.node === 'string' ? v.node.slice(0, 253) : '';
  } catch {
    return '';
  }
}

/** Join sessions remembered at most (each a short string); the oldest go first. */
const MAX_SESSIONS = 4096;

function remember(m: Map<string, string>, session: string, tag: string): void {
  if (m.size >= MAX_SESSIONS && !m.has(session)) m.delete(m.keys().next().value!);
  m.set(session, tag);
}

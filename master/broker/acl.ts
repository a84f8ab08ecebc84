/**
 * Who may connect and what each identity may publish and subscribe to (DESIGN.md, "ACL"). Pure
 * functions over an Identity, so the rules read as a table and are unit-tested without a broker.
 */
import { ROOT, isClientId, isTopicLevel, topics } from '../../protocol/index.js';
import { JOIN_SESSION } from '../../protocol/join.js';

/** An authenticated MQTT identity. */
export type Identity =
  | { role: 'admin'; name: 'admin' }
  | { role: 'node'; name: string }
  /** Holds a join token (proved by its connect key; `token` names which): may only run join exchanges for node `name`. */
  | { role: 'joiner'; name: string; token: string }
  /**
   * A person or program with a token from `skiff token create` (view, edit or admin access), maybe confined to one
   * namespace (`--namespace`).
   */
  | { role: 'user'; name: string; access: 'view' | 'edit' | 'admin'; namespace?: string };

/** May this identity publish `topic` (with the retain flag as given)? */
export function mayPublish(id: Identity, clientId: string, topic: string, retain: boolean): boolean {
  switch (id.role) {
    case 'node': {
      const base = `${ROOT}/nodes/${id.name}/`;
      if (!topic.startsWith(base)) return false;
      const rest = topic.slice(base.length).split('/');
      // Only the node's status is retained (it carries the Will); everything else is a live message.
      if (rest.length === 1 && rest[0] === 'status') return true;
      if (retain) return false;
      if (rest.length === 1) return ['lease', 'pods', 'metrics', 'csr', 'resync'].includes(rest[0]);
      return rest.length === 3 && rest[0] === 'rpc' && isTopicLevel(rest[1]) && rest[2] === 'res';
    }
    case 'joiner':
      return !retain && joinSessionOf(topic, 'req') !== undefined;
    case 'admin':
      // External metrics for autoscaling (skiff/v1/metrics/NAME) may be retained: sensors often publish that way.
      if (topic.startsWith(`${ROOT}/metrics/`) && topic.length > ROOT.length + 9) return true;
      return !retain && (topic === `${ROOT}/apply` || topic === ownApi(clientId, 'req'));
    case 'user':
      // A view token may publish on apply so that its refusal reaches skiff/v1/events (the API refuses it, with an
      // event); the broker refusing it instead would only close the connection, and no one would hear why.
      // A namespaced token may apply (each document is checked against its namespace) but not publish external
      // metrics: their names are cluster-wide, read by autoscalers in every namespace.
      if (id.access === 'view' || id.namespace) return !retain && (topic === `${ROOT}/apply` || topic === ownApi(clientId, 'req'));
      return mayPublish({ role: 'admin', name: 'admin' }, clientId, topic, retain);
  }
}

/**
 * The client's own API topic. A client id is data: the broker refuses ids that are not one plain topic level
 * at CONNECT, and this checks again, so an id like `#` can never widen a rule.
 */
function ownApi(clientId: string, leaf: 'req' | 'res'): string | undefined {
  if (!isClientId(clientId)) return undefined;
  return leaf === 'req' ? topics.apiReq(clientId) : topics.apiRes(clientId);
}

/** The session of `join/{session}/{leaf}` when `topic` is exactly that with a well-formed session (no wildcard). */
function joinSessionOf(topic: string, leaf: 'req' | 'res'): string | undefined {
  const prefix = `${ROOT}/join/`;
  if (!topic.startsWith(prefix) || !topic.endsWith(`/${leaf}`)) return undefined;
  const session = topic.slice(prefix.length, topic.length - leaf.length - 1);
  return JOIN_SESSION.test(session) ? session : undefined;
}

/** Splits an MQTT filter into levels. */
function levels(filter: string): string[] {
  return filter.split('/');
}

/** True when every topic matched by `filter` lies within `allowed` (an exact filter or `prefix/#`). */
function within(filter: string, allowed: string): boolean {
  const f = levels(filter);
  const a = levels(allowed);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return true;
    if (i >= f.length) return false;
    if (f[i] === '#') return false; // the filter reaches wider than the allowed level
    if (a[i] === '+') continue;
    if (f[i] !== a[i]) return false; // includes a '+' where the allowed level is fixed
  }
  return f.length === a.length;
}

/** May this identity subscribe to `filter`? */
export function maySubscribe(id: Identity, clientId: string, filter: string): boolean {
  switch (id.role) {
    case 'node':
      // topics.leaseConfig: the lease interval the master assigns to every agent (protocol/lease.ts).
      return [`${ROOT}/nodes/${id.name}/desired`, `${ROOT}/nodes/${id.name}/cert`, `${ROOT}/nodes/${id.name}/rpc/+/req`, `${ROOT}/services/#`, topics.leaseConfig].some((a) => within(filter, a));
    case 'joiner':
      // One exact session: the filter `join/+/res` would read every joiner's answers.
      return joinSessionOf(filter, 'res') !== undefined;
    case 'admin':
      // The administrator can read every object anyway, so it may watch the whole tree
      // (`mosquitto_sub -t 'skiff/v1/#'` for debugging).
      return within(filter, `${ROOT}/#`);
    case 'user': {
      if (filter === ownApi(clientId, 'res')) return true;
      // A namespaced token sees its namespace's events and service endpoints, nothing of other namespaces.
      if (id.namespace) return isTopicLevel(id.namespace) && [topics.namespaceEvents(id.namespace), `${ROOT}/services/${id.namespace}/#`].some((a) => within(filter, a));
      if (id.access === 'admin') return within(filter, `${ROOT}/#`);
      // Others see their own answers, the event streams and service endpoints — not other clients' answers.
      return [`${ROOT}/events/#`, `${ROOT}/services/#`].some((a) => within(filter, a));
    }
  }
}

/**
 * May the broker deliver a message on `topic` to this identity (aedes' authorizeForward)? The same rule as
 * subscribing, checked again on every delivery: messages queued for a persistent session, or retained ones,
 * reach only an identity that could have subscribed to them.
 */
export function mayReceive(id: Identity, clientId: string, topic: string): boolean {
  return !/[+#]/.test(topic) && maySubscribe(id, clientId, topic);
}

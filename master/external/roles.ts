/**
 * The topic ACL of master/broker/acl.ts as Mosquitto dynamic-security roles, one role per account (Mosquitto 2.0's
 * dynamic-security ACLs have no `%u`/`%c` patterns, so a rule that names "its own" topics names them literally).
 * Each role mirrors one branch of acl.ts; roles.test.ts checks the two agree on a table of topics. What dynsec
 * cannot say, and the embedded broker enforces, is written in docs/ha.md ("What the external broker enforces").
 */
import { ROOT } from '../../protocol/index.js';
import type { Identity } from '../broker/acl.js';

/** One dynamic-security ACL entry (mosquitto's `acltype` names). */
export interface DynsecAcl {
  acltype: 'publishClientSend' | 'publishClientReceive' | 'subscribePattern' | 'unsubscribePattern';
  topic: string;
  allow: boolean;
  /** Higher first (mosquitto's rule); 0 when absent. */
  priority?: number;
}

/** A dynamic-security role. */
export interface DynsecRole {
  rolename: string;
  acls: DynsecAcl[];
}

const send = (topic: string): DynsecAcl => ({ acltype: 'publishClientSend', topic, allow: true });
/** Subscribing to `topic` (or a narrower filter) and receiving what it matches. */
const read = (topic: string): DynsecAcl[] => [
  { acltype: 'subscribePattern', topic, allow: true },
  { acltype: 'publishClientReceive', topic, allow: true },
  { acltype: 'unsubscribePattern', topic, allow: true },
];

/** The masters' own account: the whole tree, shared subscriptions, and the dynamic-security control topics. */
export const MASTER_ROLE = 'skiff-master';

/** The masters' role: every Skiff topic, and dynsec administration (what `mosquitto_ctrl dynsec init` gives its admin). */
export function masterRole(): DynsecRole {
  return {
    rolename: MASTER_ROLE,
    acls: [send(`${ROOT}/#`), ...read(`${ROOT}/#`), send('$CONTROL/dynamic-security/#'), ...read('$CONTROL/dynamic-security/#')],
  };
}

/** The role of node `node` (acl.ts `mayPublish`/`maySubscribe`, role node). */
export function nodeRole(node: string): DynsecRole {
  const base = `${ROOT}/nodes/${node}`;
  return {
    rolename: `skiff-node-${node}`,
    acls: [
      ...['status', 'lease', 'pods', 'metrics', 'csr', 'rpc/+/res'].map((leaf) => send(`${base}/${leaf}`)),
      ...[`${base}/desired`, `${base}/cert`, `${base}/rpc/+/req`, `${ROOT}/services/#`, `${ROOT}/cluster/lease`].flatMap(read),
    ],
  };
}

/** The role of a user token or the admin (acl.ts, roles user and admin), on the external topics (protocol/external-topics.ts). */
export function userRole(id: Extract<Identity, { role: 'user' | 'admin' }>): DynsecRole {
  const access = id.role === 'admin' ? 'admin' : id.access;
  const ns = id.role === 'user' ? id.namespace : undefined;
  const own = `${ROOT}/users/${id.name}`;
  const acls: DynsecAcl[] = [send(`${own}/+/req`), send(`${own}/+/gone`), ...read(`${own}/+/res`)];
  // View too (acl.ts): the API refuses its apply with an event, where a broker refusal would tell no one why.
  acls.push(send(`${own}/apply`));
  if (ns) acls.push(...read(`${ROOT}/events/${ns}`), ...read(`${ROOT}/services/${ns}/#`));
  // The embedded broker's api/{clientId}/ topics are not used here: refusing them is how a client learns it is on an
  // external broker (cli/client.ts subscribes there first and falls back to users/ on SUBACK 128).
  else if (access === 'admin') acls.push(send(`${ROOT}/metrics/#`), { acltype: 'subscribePattern', topic: `${ROOT}/api/#`, allow: false, priority: 1 }, ...read(`${ROOT}/#`));
  else {
    if (access === 'edit') acls.push(send(`${ROOT}/metrics/#`));
    acls.push(...read(`${ROOT}/events/#`), ...read(`${ROOT}/services/#`));
  }
  return { rolename: `skiff-user-${id.name}`, acls };
}

/** The role of one join token's joiners: their own exchanges under `joins/{tag}/` (acl.ts, role joiner). */
export function joinRole(tag: string): DynsecRole {
  return { rolename: `skiff-join-${tag}`, acls: [send(`${ROOT}/joins/${tag}/+/req`), ...read(`${ROOT}/joins/${tag}/+/res`)] };
}

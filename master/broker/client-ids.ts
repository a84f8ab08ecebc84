/**
 * Client ids are data chosen by the client (docs/protocol.md "Client ids"). They are checked at CONNECT —
 * a safe charset, or empty with a clean session (then the broker assigns one) — and a client id belongs to
 * one identity at a time: a CONNECT that would take over a connected client of another identity is refused
 * (CONNACK 5), not obeyed, so a view token cannot knock an agent offline by reusing `skiff-agent-n1`. The ids
 * the agent uses, `skiff-agent-{node}`, belong to that node even while it is disconnected.
 */
import { isClientId } from '../../protocol/index.js';
import type { Identity } from './acl.js';

/** Prefix of the client id of an agent's session: `skiff-agent-{node}` (edge-agent/agent.ts). */
export const AGENT_CLIENT_PREFIX = 'skiff-agent-';

/** CONNACK return codes [MQTT-3.2.2-3]. */
export const CONNACK = Object.freeze({ IDENTIFIER_REJECTED: 2, SERVER_UNAVAILABLE: 3, BAD_CREDENTIALS: 4, NOT_AUTHORIZED: 5 });

/** Why a CONNECT's client id is refused (CONNACK 2), or undefined. `clean` is the CONNECT's clean-session flag. */
export function clientIdRefusal(clientId: string, clean: boolean): string | undefined {
  // [MQTT-3.1.3-6]/[MQTT-3.1.3-8]: an empty id is assigned by the server, and only for a clean session.
  if (clientId === '') return clean ? undefined : 'an empty client id needs a clean session';
  if (!isClientId(clientId)) return 'a client id is 1–128 characters from A–Z a–z 0–9 _ - . :';
  return undefined;
}

/** True when two identities are the same principal (role and name). */
export function sameIdentity(a: Identity | undefined, b: Identity | undefined): boolean {
  return !!a && !!b && a.role === b.role && a.name === b.name;
}

/** Why `id` may not use `clientId` whatever is connected (an agent's reserved id), or undefined. */
export function reservedIdRefusal(clientId: string, id: Identity): string | undefined {
  if (!clientId.startsWith(AGENT_CLIENT_PREFIX)) return undefined;
  const node = clientId.slice(AGENT_CLIENT_PREFIX.length);
  return id.role === 'node' && id.name === node ? undefined : `client id ${clientId} belongs to node ${node}`;
}

/** Why `id` may not take over `clientId` from the identity `holder` now connected with it, or undefined. */
export function takeoverRefusal(clientId: string, id: Identity, holder: Identity | undefined): string | undefined {
  if (!holder || sameIdentity(holder, id)) return undefined; // a reconnect replaces its own stale session [MQTT-3.1.4-2]
  return `client id ${clientId} is connected as ${holder.role} ${holder.name}`;
}

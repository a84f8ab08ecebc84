/**
 * Who a CONNECT says the client is (DESIGN.md "MQTT identities"), and, over TLS, whether its client certificate
 * backs it (docs/security.md "Node identity"): on the TLS port a node must present the certificate the cluster
 * CA signed for it — CN = its name, O = skiff:nodes, a serial its credential record still lists — as well as its
 * credential. Either alone logs in nowhere on the LAN, and `skiff delete node` removes both.
 */
import type { Credentials } from '../credentials.js';
import { safeEqual } from '../credentials.js';
import { NODE_ORG } from '../../protocol/x509.js';
import type { Identity } from './acl.js';

/** Node names are DNS subdomains and so also valid topic levels; `admin` is reserved. */
const nodeName = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** id-kp-clientAuth [RFC 5280 4.2.1.12]. */
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * The identity of a user name and password, or undefined. A joiner's password is a join token's connect key
 * (protocol/join.ts), never the token itself: an agent sends the token to no one.
 */
export function identify(credentials: Credentials, username: string | undefined, password: Buffer | undefined): Identity | undefined {
  const user = username ?? '';
  const pw = password ? password.toString('utf8') : '';
  if (user === 'admin') return safeEqual(pw, credentials.adminToken) ? { role: 'admin', name: 'admin' } : undefined;
  if (!nodeName.test(user)) return undefined;
  if (credentials.verifyNode(user, pw)) return { role: 'node', name: user };
  const scope = credentials.verifyToken(user, pw);
  if (scope) return { role: 'user', name: user, ...scope };
  const token = credentials.joinTokens.nameOfConnectKey(pw);
  if (token !== undefined) return { role: 'joiner', name: user, token };
  return undefined;
}

/** What the broker read of a TLS client's certificate (node:tls `getPeerCertificate`, `authorized`). */
export interface PeerCert {
  /** The chain verified against the cluster CA, in its validity period. */
  authorized: boolean;
  /** OpenSSL's reason when not (`CERT_HAS_EXPIRED`, ...). */
  error?: string;
  cn?: string;
  orgs: string[];
  /** Hex serial. */
  serial?: string;
  /** Extended key usages (OIDs). */
  usages: string[];
}

/** How a client is connected: plain TCP (loopback, or `--insecure-listen`), or TLS with what its certificate says. */
export type Transport = { tls: false } | { tls: true; cert?: PeerCert };

/** Why `id` may not log in over `transport`, or undefined. Only nodes need a certificate, and only over TLS. */
export function certRefusal(credentials: Credentials, id: Identity, transport: Transport): string | undefined {
  if (!transport.tls || id.role !== 'node') return undefined;
  const c = transport.cert;
  if (!c) return `node ${id.name} connected over TLS without its node certificate`;
  if (!c.authorized) return `node ${id.name}'s certificate is not valid: ${c.error ?? 'not signed by the cluster CA'}`;
  if (c.cn !== id.name) return `the certificate is for node ${JSON.stringify(c.cn ?? '')}, not ${id.name}`;
  if (!c.orgs.includes(NODE_ORG) || !c.usages.includes(CLIENT_AUTH)) return `the certificate presented for node ${id.name} is not a node certificate (O=${NODE_ORG}, clientAuth)`;
  if (!c.serial || !credentials.verifyNodeCert(id.name, c.serial)) return `node ${id.name}'s certificate (serial ${c.serial ?? '?'}) is no longer listed for it (renewed twice since, or the node was deleted)`;
  return undefined;
}

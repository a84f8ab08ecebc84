/** Who a CONNECT's user name and password say the client is (DESIGN.md "MQTT identities"). */
import type { Credentials } from '../credentials.js';
import { safeEqual } from '../credentials.js';
import type { Identity } from './acl.js';

/** Node names are DNS subdomains and so also valid topic levels; `admin` is reserved. */
const nodeName = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * The identity of a user name and password, or undefined. A joiner's password is the join token's connect key
 * (protocol/join.ts), never the token itself: an agent sends the token to no one.
 */
export function identify(credentials: Credentials, username: string | undefined, password: Buffer | undefined): Identity | undefined {
  const user = username ?? '';
  const pw = password ? password.toString('utf8') : '';
  if (user === 'admin') return safeEqual(pw, credentials.adminToken) ? { role: 'admin', name: 'admin' } : undefined;
  if (!nodeName.test(user)) return undefined;
  if (credentials.verifyNode(user, pw)) return { role: 'node', name: user };
  const access = credentials.verifyToken(user, pw);
  if (access) return { role: 'user', name: user, access };
  if (safeEqual(pw, credentials.joinConnectKey)) return { role: 'joiner', name: user };
  return undefined;
}

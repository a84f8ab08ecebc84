/**
 * The service proxy's options: defaults and rules in one place, checked once when the agent starts,
 * then frozen. Durations carry their unit in the name.
 */
import net from 'node:net';
import { SkiffError } from '../../protocol/errors.js';

/** What the agent's `proxy` option takes (every field optional). */
export interface ProxyOptions {
  /**
   * Listen on every service's clusterIP:port (default true). Two agents sharing one network namespace
   * (in-process tests) would collide on those addresses: let only one of them do it.
   */
  clusterIPs?: boolean;
  /** Addresses NodePort services listen on; default ['0.0.0.0'] (every address: kube-proxy's `--nodeport-addresses` default). */
  nodePortAddresses?: string[];
  /** How long connections to a removed endpoint may go on; 0 (default) = until they close, as conntrack keeps established flows. */
  drainTimeoutMs?: number;
  /** A UDP flow (one client address:port) is forgotten after this much silence; default 30000 (30 s, conntrack's UDP timeout). */
  udpIdleTimeoutMs?: number;
  /** How many endpoints a new TCP connection tries before it is refused; default 3. */
  connectAttempts?: number;
  /** Per attempt; default 2000 (2 s). */
  connectTimeoutMs?: number;
  /** A listener that could not bind (port in use, no permission) is retried this often; default 5000 (5 s). */
  bindRetryMs?: number;
  /** The balancer implementation; default 'wasm' (falls back to 'reference', reported, if the wasm fails to load). */
  balancerImpl?: 'wasm' | 'reference';
  /**
   * Also listen on each clusterIP's pod-network mirror in this /16 (`10.43.0.0`): set by the agent when it has a
   * pod network (docs/networking.md); default none.
   */
  podServiceRange?: string;
}

/** Options after defaults and checks. */
export type ProxyConfig = Readonly<Required<Omit<ProxyOptions, 'nodePortAddresses' | 'podServiceRange'>> & { nodePortAddresses: readonly string[]; podServiceRange?: string }>;

function fail(field: string, rule: string, got: unknown): never {
  throw new SkiffError('SKIFF_ERR_VALIDATION', `proxy.${field}: ${rule}, got ${JSON.stringify(got)}`, [{ field: `proxy.${field}`, rule }]);
}

function nonNegative(v: number | undefined, field: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(field, 'must be a number ≥ 0', v);
  return v;
}

/** Applies defaults and checks every option; throws SKIFF_ERR_VALIDATION naming the option. */
export function resolveProxyOptions(o: ProxyOptions = {}): ProxyConfig {
  const addresses = o.nodePortAddresses ?? ['0.0.0.0'];
  if (!Array.isArray(addresses)) fail('nodePortAddresses', 'must be a list of IP addresses', addresses);
  for (const a of addresses) if (!net.isIP(a)) fail('nodePortAddresses', 'must be a list of IP addresses', a);
  if (o.clusterIPs !== undefined && typeof o.clusterIPs !== 'boolean') fail('clusterIPs', 'must be true or false', o.clusterIPs);
  if (o.balancerImpl !== undefined && o.balancerImpl !== 'wasm' && o.balancerImpl !== 'reference') fail('balancerImpl', "must be 'wasm' or 'reference'", o.balancerImpl);
  if (o.podServiceRange !== undefined && net.isIPv4(o.podServiceRange) !== true) fail('podServiceRange', 'must be an IPv4 address (the start of a /16)', o.podServiceRange);
  const attempts = nonNegative(o.connectAttempts, 'connectAttempts', 3);
  if (!Number.isInteger(attempts) || attempts < 1) fail('connectAttempts', 'must be an integer ≥ 1', attempts);
  return Object.freeze({
    clusterIPs: o.clusterIPs ?? true,
    nodePortAddresses: Object.freeze([...addresses]),
    drainTimeoutMs: nonNegative(o.drainTimeoutMs, 'drainTimeoutMs', 0),
    udpIdleTimeoutMs: nonNegative(o.udpIdleTimeoutMs, 'udpIdleTimeoutMs', 30_000) || 30_000,
    connectAttempts: attempts,
    connectTimeoutMs: nonNegative(o.connectTimeoutMs, 'connectTimeoutMs', 2000) || 2000,
    bindRetryMs: nonNegative(o.bindRetryMs, 'bindRetryMs', 5000) || 5000,
    balancerImpl: o.balancerImpl ?? 'wasm',
    ...(o.podServiceRange ? { podServiceRange: o.podServiceRange } : {}),
  });
}

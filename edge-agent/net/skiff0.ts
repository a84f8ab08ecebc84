/**
 * The node's service interface for pods, as kube-proxy's IPVS mode keeps every clusterIP on the dummy
 * interface `kube-ipvs0`: `skiff0` holds the cluster DNS address (`10.43.0.10/32`) and a local route for the
 * whole pod-network service range (`local 10.43.0.0/16 dev skiff0`, Linux's "AnyIP"), so the agent's proxy can
 * listen on any mirrored service address without adding one per service, and a packet a container sends there
 * (through its bridge's gateway, the node) is delivered to the node itself. Made with iproute2 (`ip`): no
 * netlink in Node without a native addon. Needs CAP_NET_ADMIN (root).
 *
 * Kernels without the dummy driver (some minimal VM kernels) get a port-less bridge of the same name instead:
 * it is up, holds addresses and routes the same way.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The interface's name. */
export const SERVICE_IFACE = 'skiff0';

/** Runs `ip ARGS`; rejects with ip's own message. */
async function ip(...args: string[]): Promise<string> {
  try {
    return (await run('ip', args, { timeout: 10_000 })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
  }
}

/** True when `skiff0` exists already (an earlier agent run made it). */
async function exists(): Promise<boolean> {
  return ip('link', 'show', 'dev', SERVICE_IFACE).then(
    () => true,
    () => false,
  );
}

/**
 * Makes (or keeps) skiff0 with the DNS address and the range's local route. Idempotent: an agent restart finds
 * it in place. Rejects with the reason when the node does not allow it (not root, no iproute2).
 */
export async function ensureServiceInterface(range: string, dnsIP: string): Promise<{ kind: 'dummy' | 'bridge' | 'existing' }> {
  let kind: 'dummy' | 'bridge' | 'existing' = 'existing';
  if (!(await exists())) {
    try {
      await ip('link', 'add', SERVICE_IFACE, 'type', 'dummy');
      kind = 'dummy';
    } catch (err) {
      if (!/unknown device type|not supported/i.test((err as Error).message)) throw err;
      await ip('link', 'add', SERVICE_IFACE, 'type', 'bridge');
      kind = 'bridge';
    }
  }
  await ip('link', 'set', SERVICE_IFACE, 'up');
  await ip('addr', 'replace', `${dnsIP}/32`, 'dev', SERVICE_IFACE);
  await ip('route', 'replace', 'local', `${range}/16`, 'dev', SERVICE_IFACE, 'table', 'local');
  return { kind };
}

/** Removes skiff0 (and with it its address and route); for tests and uninstall. */
export async function removeServiceInterface(): Promise<void> {
  if (await exists()) await ip('link', 'del', SERVICE_IFACE);
}

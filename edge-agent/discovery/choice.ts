/**
 * Which master an agent started without `--master` talks to. The first time, the one mDNS finds (logged with its
 * address and instance name; the join exchange then makes it prove it knows the join token). After a join
 * through mDNS the agent keeps that master's URL in DATA/master.json and uses it on later starts instead of
 * browsing again, so a rogue answer on the LAN later never receives the node's credential. Pass `--master`
 * (or delete master.json) to move a node to a master at another address.
 */
import { readIfExists, writeFileAtomic } from '../fsutil.js';
import type { Logger } from '../log.js';
import { findMaster } from './master.js';

/** What DATA/master.json holds. */
interface StoredMaster {
  url: string;
  /** The mDNS instance name it was found under. */
  instance?: string;
}

/** The master URL stored after a join through mDNS, if any. */
export async function loadStoredMaster(file: string): Promise<StoredMaster | undefined> {
  const b = await readIfExists(file);
  if (!b) return undefined;
  try {
    const v = JSON.parse(b.toString('utf8')) as StoredMaster;
    return typeof v?.url === 'string' && /^mqtts?:\/\/[^/\s]+$/.test(v.url) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Remembers the master a node joined through mDNS. */
export async function saveStoredMaster(file: string, m: StoredMaster): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(m) + '\n', 0o600);
}

/** The master of an agent started without `--master`: the stored one, else the first `find` returns (mDNS). */
export async function chooseMaster(o: { storedFile: string; timeoutMs?: number; interfaceAddress?: string }, log: Logger, find = findMaster): Promise<StoredMaster> {
  const stored = await loadStoredMaster(o.storedFile);
  if (stored) {
    log.info(`using the master this node joined through mDNS: ${stored.url}${stored.instance ? ` (${JSON.stringify(stored.instance)})` : ''}; pass --master to use another`);
    return stored;
  }
  const found = await find({ timeoutMs: o.timeoutMs, interfaceAddress: o.interfaceAddress });
  log.info(`picked the master at ${found.url}, mDNS instance ${JSON.stringify(found.instance)} (the first that answered); it must prove it knows the join token before anything secret is sent`);
  return found;
}

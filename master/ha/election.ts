/**
 * Leader election among the masters of one etcd store (docs/ha.md), on etcd's own election recipe (the etcd3
 * client's `Election`, the Go client's `concurrency.Election`): each master campaigns with its name under
 * `ROOT.election/election/skiff-controller/`, on an etcd lease of `leaseSeconds` kept alive by the client; the
 * candidate with the oldest key leads. A master that is killed stops renewing, its key expires with the lease,
 * and the next candidate is elected.
 *
 * Fencing: on election, the store's writes start comparing the leader's key's create_revision (EtcdStore
 * `setFence`): once the lease is lost, the key is gone and every write of the stale leader fails, whatever
 * its timers still believe. Losing the lease ends the master (`onLost`), as kube-controller-manager exits on
 * "leaderelection lost": a fresh start rebuilds every cache rather than trusting one that may have missed
 * writes.
 */
import type { Campaign, Election } from 'etcd3';
import { SkiffError, type Logger } from '../../protocol/index.js';
import type { EtcdStore } from '../store/etcd.js';

/** What the election needs. */
export interface ElectionOptions {
  name: string;
  leaseSeconds: number;
  log: Logger;
  /** Called once, when this master is elected (the fence is already set). */
  onLead: () => Promise<void>;
  /** Called once, when a leading master loses its lease. */
  onLost: (err: Error) => void;
}

/** A running campaign. */
export interface Candidacy {
  readonly leading: boolean;
  /** Resigns (a clean stop hands the lead over at once instead of after the lease runs out). */
  stop(): Promise<void>;
}

/** The election of a store's root. */
function electionOf(store: EtcdStore, leaseSeconds: number): Election {
  // Outside the root's key range (`/skiff/`…), so backups and migrations never carry election keys.
  return store.etcd.namespace(`${store.keys.root}.election/`).election('skiff-controller', leaseSeconds);
}

/** Where the candidates' keys are (etcd3's Election puts them under `election/{name}/`): one per live master, its name as value. */
export function electionPrefix(store: EtcdStore): string {
  return `${store.keys.root}.election/election/skiff-controller/`;
}

/** The name of the master leading the store now, if any. */
export async function currentLeader(store: EtcdStore): Promise<string | undefined> {
  return (await electionOf(store, 5).leader().catch(() => undefined)) ?? undefined;
}

/** Campaigns for the lead; resolves once the campaign is running (not when elected). */
export async function campaign(store: EtcdStore, o: ElectionOptions): Promise<Candidacy> {
  const election = electionOf(store, o.leaseSeconds);
  const c: Campaign = election.campaign(o.name);
  let leading = false;
  let stopped = false;
  c.on('error', (err: Error) => {
    if (stopped) return;
    // The fence stays: every write from now on fails, including those already on their way. A follower whose
    // campaign failed (its etcd lease lost) stops too: a fresh start campaigns again and rejoins the members
    // that serve the API, where a live process without a candidate key would serve nothing.
    leading = false;
    o.onLost(err);
  });
  c.on('elected', () => {
    if (stopped) return;
    void (async () => {
      const key = await c.getCampaignKey();
      const kv = (await store.etcd.get(key).exec()).kvs[0];
      if (!kv) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', 'leader election: elected, but the election key is already gone');
      store.setFence({ key: Buffer.from(key), createRevision: Number(kv.create_revision) });
      leading = true;
      o.log.info('leading', { identity: o.name, leaseSeconds: o.leaseSeconds });
      await o.onLead();
    })().catch((err) => {
      leading = false;
      o.onLost(err as Error);
    });
  });
  return {
    get leading() {
      return leading;
    },
    async stop() {
      stopped = true;
      // Resigning deletes the key, so the fence (left in place) fails any write still coming: the next leader owns them.
      await c.resign().catch(() => undefined);
    },
  };
}

/** Runs the Store contract against etcd (a real etcd-server started for this file), one fresh root per store. */
import { afterAll, beforeAll, describe } from 'vitest';
import { openEtcdStore, type EtcdStore } from '../../master/store/etcd.js';
import { parseStoreUrl, type EtcdLocation } from '../../master/store/location.js';
import type { Store } from '../../master/store/types.js';
import { haveEtcd, startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { runStoreContract } from './contract.js';

let etcd: EtcdCluster;
let n = 0;
const roots = new Map<Store, string>();

// A small page size, so the contract's lists cross page boundaries.
async function open(root = `/contract${++n}`): Promise<EtcdStore> {
  const s = await openEtcdStore(parseStoreUrl(etcd.storeUrl(root)) as EtcdLocation, { onWatchError: () => {}, pageSize: 3 });
  roots.set(s, root);
  return s;
}

describe.skipIf(!haveEtcd)('etcd', () => {
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(() => etcd?.stop());

  runStoreContract('etcd', () => open(), (closed) => open(roots.get(closed)));
});

/**
 * Several masters need an external broker: with the embedded one each master's agents would reach only that
 * master, so a second master of the same etcd store is refused at start, naming the leader and the flag.
 * One master on etcd with the embedded broker leads, and shows it in the Lease.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaster, type Master } from '../../master/index.js';
import { haveEtcd, startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { eventually, tempDir } from '../helpers/wait.js';

describe.skipIf(!haveEtcd)('HA: the embedded broker', () => {
  let etcd: EtcdCluster;
  let dir: string;
  let first: Master | undefined;

  beforeAll(async () => {
    etcd = await startEtcd();
    dir = await tempDir('skiff-ha-embedded-');
  });
  afterAll(async () => {
    await first?.stop();
    await etcd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const opts = (name: string) => ({ name, dataDir: join(dir, name), store: etcd.storeUrl('/emb'), mqttPort: 0, httpPort: -1, mdns: false, quiet: true, leaderLeaseSeconds: 2 });

  it('one master leads and writes the Lease; a second one on the same store is refused', async () => {
    first = await startMaster(opts('alpha'));
    const lease = await eventually(() => first!.informers.get('Lease', 'skiff-system', 'skiff-controller'), 'the Lease', 10_000);
    expect(lease.spec).toMatchObject({ holderIdentity: 'alpha', leaseDurationSeconds: 2, leaseTransitions: 0 });
    expect(first.leading).toBe(true);
    await expect(startMaster(opts('beta'))).rejects.toThrow(/master "alpha" already leads this etcd store; several masters need an external broker \(--broker/);
  });
});

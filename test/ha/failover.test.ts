/**
 * Several masters (docs/ha.md), all real processes: a three-member etcd cluster, Mosquitto configured by `skiff
 * broker-config`, three `skiff master --broker` on one etcd root, and two `skiff-agent`s joined through the
 * broker running a Deployment. The leader is killed with SIGKILL during a burst of applies: another master leads
 * within 5 s, every acknowledged write is there, no pod runs twice, no healthy node is marked NotReady. And a node
 * credential on Mosquitto cannot speak for another node.
 * (Backup → wipe → restore is test/store/restore.test.ts and the backup tests; not repeated here.)
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import type { ConfigMap, Node } from '../../protocol/index.js';
import { idleDeployment, listNodes, listPods, processesWith, readyOf, runningReady, startAgentProc, stopAgentProc } from '../../bench/cluster-selfheal.js';
import { haveEtcd, startEtcdCluster, type EtcdCluster } from '../helpers/etcd.js';
import { haApi, haveMosquitto, leaseOf, shareCluster, startHaMaster, startMosquitto, type HaMaster, type Mosquitto } from '../helpers/ha.js';
import { requireBuild } from '../helpers/procs.js';
import { eventually, tempDir } from '../helpers/wait.js';

const GRACE = '4s';

describe.skipIf(!haveEtcd || !haveMosquitto)('HA: three masters on etcd with Mosquitto', () => {
  let dir: string;
  let etcd: EtcdCluster;
  let broker: Mosquitto;
  const masters = new Map<string, HaMaster>();
  const agents = new Map<string, ChildProcess>();
  let api: Api;
  const marker = `skiff-ha-${process.pid}`;
  const agentDir = (n: string) => join(dir, n);

  beforeAll(async () => {
    requireBuild();
    dir = await tempDir('skiff-ha-');
    [etcd, broker] = await Promise.all([startEtcdCluster(3), startMosquitto(join(dir, 'broker'))]);
    const start = (name: string) =>
      startHaMaster({ name, dataDir: join(dir, name), store: etcd.storeUrl('/ha'), broker: broker.brokerUrl, args: ['--leader-lease', '2s', '--node-monitor-grace', GRACE] }, join(dir, `${name}.log`));
    masters.set('m1', await start('m1'));
    for (const n of ['m2', 'm3']) shareCluster(join(dir, 'm1'), join(dir, n));
    for (const m of await Promise.all([start('m2'), start('m3')])) masters.set(m.name, m);
    api = await haApi(broker.url, join(dir, 'm1'));
    const joinToken = readFileSync(join(dir, 'm1', 'join.token'), 'utf8').trim();
    for (const n of ['ha-a', 'ha-b']) agents.set(n, startAgentProc({ master: broker.url, token: joinToken, name: n, dataDir: agentDir(n), address: '127.0.0.1' }, join(dir, `${n}.log`)));
    await eventually(async () => (await listNodes(api).catch(() => [])).filter((n) => readyOf(n) === 'True').length === 2, 'two Ready nodes', 30_000, 200);
  }, 80_000);

  afterAll(async () => {
    await api?.close().catch(() => undefined);
    await Promise.all([...agents.entries()].map(([n, a]) => stopAgentProc(a, agentDir(n))));
    await Promise.all([...masters.values()].map((m) => m.stop()));
    for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
    await broker?.stop();
    await etcd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a killed leader: another leads within 5 s, acknowledged writes kept, no pod twice, no healthy node NotReady', async () => {
    await api.request('apply', { manifest: idleDeployment('ha-web', 4, `${marker}-web`) });
    const before = await eventually(async () => {
      const ps = await listPods(api, 'app=ha-web').catch(() => []);
      return ps.length === 4 && ps.every(runningReady) && ps;
    }, '4 running ha-web pods', 40_000, 200);
    const lease = (await leaseOf(api))!;
    const leader = lease.spec.holderIdentity!;
    expect(masters.has(leader)).toBe(true);
    // A view token made through this leader: its broker account is made now, the next leader learns it from the store.
    const made = await api.request<{ token: string }>('token', { action: 'create', name: 'viewer', access: 'view' });

    // Four writers; each apply is retried until acknowledged (an unanswered one may or may not have landed).
    const acked = new Map<string, string>();
    let killedAt = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const name = `burst-${w}-${i}`;
        for (;;) {
          try {
            await api.request('apply', { manifest: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {i: "${i}"}\n` });
            acked.set(name, String(i));
            break;
          } catch {
            if (stop) return;
          }
        }
        if (acked.size >= 20 && !killedAt) {
          killedAt = Date.now();
          void masters.get(leader)!.kill9();
        }
        if (killedAt && acked.size >= 60) stop = true;
      }
    };
    const writing = Promise.all([0, 1, 2, 3].map(writer));
    // A request published while no master leads reaches no one: the probe gives up on it fast and asks again.
    const probe = await haApi(broker.url, join(dir, 'm1'), 400);
    const next = await eventually(async () => {
      if (!killedAt) return undefined;
      const l = await leaseOf(probe);
      return l && l.spec.holderIdentity !== leader && l;
    }, 'another master leading', 30_000, 100);
    const failoverMs = Date.now() - killedAt;
    console.log(`leader ${leader} killed → ${next.spec.holderIdentity} leads (Lease read through the API): ${failoverMs} ms`);
    expect(failoverMs).toBeLessThan(5000);
    await writing;
    await probe.close();
    masters.delete(leader);

    // Every acknowledged write is there, as acknowledged.
    const cms = (await api.request<{ items: ConfigMap[] }>('list', { kind: 'ConfigMap', namespace: 'default' })).items;
    const stored = new Map(cms.map((c) => [c.metadata.name, c.data?.i]));
    for (const [name, i] of acked) expect(stored.get(name), name).toBe(i);

    // The same four pods, each running once; both nodes stayed Ready throughout (no transition since before the kill).
    const after = await listPods(api, 'app=ha-web');
    expect(after.map((p) => p.metadata.uid).sort()).toEqual(before.map((p) => p.metadata.uid).sort());
    expect(after.every(runningReady)).toBe(true);
    expect(processesWith(`${marker}-web`)).toHaveLength(4);
    // The view token works through the new leader (which started before it was made), and only for reading.
    const viewer = await connectApi({ server: broker.url, user: 'viewer', token: made.token, timeoutMs: 5000 });
    expect((await viewer.request<{ items: ConfigMap[] }>('list', { kind: 'ConfigMap', namespace: 'default' })).items.length).toBeGreaterThanOrEqual(acked.size);
    await expect(viewer.request('apply', { manifest: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nope}\n' })).rejects.toThrow(/forbidden|not allowed|view/i);
    await viewer.close();
    await api.request('token', { action: 'revoke', name: 'viewer' });
    await expect(connectApi({ server: broker.url, user: 'viewer', token: made.token, timeoutMs: 5000 })).rejects.toThrow(/refused the credentials/);
    const nodes: Node[] = await listNodes(api);
    for (const n of nodes) {
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.status, n.metadata.name).toBe('True');
      expect(Date.parse(ready!.lastTransitionTime!), `${n.metadata.name} Ready since`).toBeLessThan(killedAt);
    }
  }, 90_000);

  it('a node credential on Mosquitto publishes only under its own node', async () => {
    const credential = readFileSync(join(agentDir('ha-a'), 'credential'), 'utf8').trim();
    const password = readFileSync(join(dir, 'm2', 'admin.token'), 'utf8').trim();
    const watcher = await mqtt.connectAsync(broker.url, { username: 'admin', password, protocolVersion: 4, clientId: `watch-${process.pid}` });
    const seen: string[] = [];
    watcher.on('message', (topic, payload, packet) => {
      if (!packet.retain) seen.push(`${topic} ${payload.toString()}`);
    });
    await watcher.subscribeAsync(['skiff/v1/nodes/ha-b/status', 'skiff/v1/nodes/ha-a/metrics'], { qos: 1 });
    const forger = await mqtt.connectAsync(broker.url, { username: 'ha-a', password: credential, protocolVersion: 4, clientId: `forger-${process.pid}` });
    await forger.publishAsync('skiff/v1/nodes/ha-b/status', JSON.stringify({ online: false, forged: true }), { qos: 1, retain: true });
    // Its own topic, sent after: once this arrives, the forgery would have too (one connection, in order).
    await forger.publishAsync('skiff/v1/nodes/ha-a/metrics', JSON.stringify({ control: true }), { qos: 1 });
    await eventually(() => seen.some((s) => s.includes('control')), 'the control message', 5000);
    expect(seen.filter((s) => s.includes('forged'))).toEqual([]);
    // A subscription to another node's desired set is refused.
    await expect(forger.subscribeAsync('skiff/v1/nodes/ha-b/desired', { qos: 1 })).rejects.toThrow();
    await forger.endAsync();
    await watcher.endAsync();
    expect(broker.log()).toMatch(/Denied PUBLISH from forger-\d+ .*skiff\/v1\/nodes\/ha-b\/status/);
    const b = (await listNodes(api)).find((n) => n.metadata.name === 'ha-b')!;
    expect(readyOf(b)).toBe('True');
  }, 20_000);

  it('a paused leader is fenced: its lease runs out, another leads, and on waking it writes nothing and exits', async () => {
    const probe = await haApi(broker.url, join(dir, 'm2'), 400);
    const stale = (await leaseOf(probe))!.spec.holderIdentity!;
    const other = [...masters.keys()].find((n) => n !== stale)!;
    const m = masters.get(stale)!;
    const exited = new Promise<number | null>((r) => m.child.once('exit', (c) => r(c)));
    m.child.kill('SIGSTOP');
    const next = await eventually(async () => {
      const l = await leaseOf(probe);
      return l?.spec.holderIdentity === other && l;
    }, `${other} leading while ${stale} is paused`, 15_000, 100);
    const revision = Number(next.metadata.resourceVersion);
    m.child.kill('SIGCONT');
    // It learns from etcd that its lease is gone, and stops (exit 1: a supervisor restarts it as a candidate).
    expect(await exited).toBe(1);
    masters.delete(stale);
    expect(m.log()).toMatch(/lost the leadership/);
    // Its Lease renewal after waking, if it tried one, was refused: the Lease is still the new leader's.
    const l = (await leaseOf(probe))!;
    expect(l.spec.holderIdentity).toBe(other);
    expect(Number(l.metadata.resourceVersion)).toBeGreaterThanOrEqual(revision);
    expect(processesWith(`${marker}-web`)).toHaveLength(4);
    await probe.close();
  }, 40_000);
});

/**
 * Every master serves the API (docs/ha.md), on real processes: a three-member etcd, Mosquitto from `skiff
 * broker-config`, three `skiff master --broker`. Each client session is answered by one master (which one: each
 * master's own audit log names the clients whose writes it answered); several clients spread over more than one
 * master; a watch on a non-leader delivers; killing a non-leader moves its clients within seconds (its open watch
 * ends with SKIFF_ERR_GONE, sent by the new owner); killing the leader leaves the others' clients answered throughout.
 * The second and third masters join with the certificate key the first printed (`--upload-certs`, docs/ha.md), not
 * with copied files; a wrong key is refused before anything is written.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from '../../cli/types.js';
import type { ApiResponse } from '../../protocol/index.js';
import { haveEtcd, startEtcdCluster, type EtcdCluster } from '../helpers/etcd.js';
import { haApi, haveMosquitto, leaseOf, startHaMaster, startMosquitto, type HaMaster, type Mosquitto } from '../helpers/ha.js';
import { requireBuild, skiff } from '../helpers/procs.js';
import { eventually, tempDir } from '../helpers/wait.js';

const statMode = (path: string) => statSync(path).mode & 0o777;
const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {k: v}\n`;

describe.skipIf(!haveEtcd || !haveMosquitto)('HA: every master serves the API', () => {
  let dir: string;
  let etcd: EtcdCluster;
  let broker: Mosquitto;
  const masters = new Map<string, HaMaster>();
  const clients: Api[] = [];
  let seq = 0;
  let certificateKey = '';

  /** The master whose audit log has the apply of ConfigMap `name`, and the client that asked. */
  const answeredBy = (name: string) => {
    for (const m of masters.values()) {
      const file = join(m.dataDir, 'audit.log');
      if (!existsSync(file)) continue;
      const hit = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { name?: string; client?: string }).find((r) => r.name === name);
      if (hit) return { master: m.name, client: hit.client! };
    }
    return undefined;
  };
  /** Applies a fresh ConfigMap through `api` and finds which master answered it. */
  const owner = async (api: Api) => {
    const name = `probe-${++seq}`;
    await api.request('apply', { manifest: cm(name) });
    return eventually(() => answeredBy(name), `the audit line of ${name}`, 5000, 20);
  };
  const newClient = async (timeoutMs = 3000) => {
    const api = await haApi(broker.url, join(dir, 'm1'), timeoutMs);
    clients.push(api);
    return api;
  };

  beforeAll(async () => {
    requireBuild();
    dir = await tempDir('skiff-ha-api-');
    [etcd, broker] = await Promise.all([startEtcdCluster(3), startMosquitto(join(dir, 'broker'))]);
    const start = (name: string, more: string[]) => startHaMaster({ name, dataDir: join(dir, name), store: etcd.storeUrl('/api'), broker: broker.brokerUrl, args: ['--leader-lease', '2s', ...more] }, join(dir, `${name}.log`));
    masters.set('m1', await start('m1', ['--upload-certs']));
    // `info started` is logged inside startMaster; the banner with the key is written just after it returns.
    certificateKey = await eventually(() => /--certificate-key ([0-9a-f]{64})/.exec(masters.get('m1')!.log())?.[1], 'the certificate key in m1\'s banner', 10_000, 20);
    for (const m of await Promise.all(['m2', 'm3'].map((n) => start(n, ['--certificate-key', certificateKey])))) masters.set(m.name, m);
    // Every master has seen all three candidates.
    await eventually(() => [...masters.values()].every((m) => /masters serving the API.*m1,m2,m3/.test(m.log())), 'three masters serving', 15_000, 100);
  }, 80_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await Promise.all([...masters.values()].map((m) => m.stop()));
    await broker?.stop();
    await etcd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('masters joined with the certificate key share the cluster; a wrong key is refused and nothing is written', async () => {
    for (const n of ['m2', 'm3']) {
      for (const f of ['admin.token', 'join.token', 'encryption-config.json', 'tls/ca.crt', 'tls/ca.key']) {
        expect(readFileSync(join(dir, n, f)), `${n}/${f}`).toEqual(readFileSync(join(dir, 'm1', f)));
        expect(statMode(join(dir, n, f)), `${n}/${f} mode`).toBe(0o600);
      }
    }
    const wrong = certificateKey.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const bad = join(dir, 'bad');
    const r = await skiff(['master', '--name', 'bad', '--data-dir', bad, '--store', etcd.storeUrl('/api'), '--broker', broker.brokerUrl, '--mqtt-port=-1', '--mqtts-port', '0', '--http-port=-1', '--no-mdns', '--certificate-key', wrong]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--certificate-key: the key does not open the uploaded cluster files/);
    expect(existsSync(join(bad, 'tls')) ? readdirSync(join(bad, 'tls')) : []).toEqual([]);
    for (const f of ['admin.token', 'join.token', 'encryption-config.json']) expect(existsSync(join(bad, f)), f).toBe(false);
    const malformed = await skiff(['master', '--data-dir', bad, '--store', etcd.storeUrl('/api'), '--certificate-key', 'abc']);
    expect(malformed.stderr).toMatch(/certificateKey: must be 64 hexadecimal digits/);
  }, 40_000);

  it('each session sticks to one master, and several clients are answered by more than one master', async () => {
    const apis = await Promise.all(Array.from({ length: 9 }, () => newClient()));
    const seen = new Map<string, Set<string>>();
    for (let round = 0; round < 3; round++)
      for (const api of apis) {
        const o = await owner(api);
        seen.set(o.client, (seen.get(o.client) ?? new Set()).add(o.master));
      }
    expect(seen.size).toBe(9);
    for (const [client, by] of seen) expect([...by], client).toHaveLength(1);
    const answering = new Set([...seen.values()].flatMap((s) => [...s]));
    console.log(`9 clients answered by ${[...answering].sort().join(', ')}`);
    expect(answering.size).toBeGreaterThan(1);
  }, 60_000);

  it('a watch on a non-leader delivers; killing that master moves its clients within seconds and ends the watch with GONE', async () => {
    const leader = (await leaseOf(clients[0]))!.spec.holderIdentity!;
    // A client whose session a non-leader owns.
    let api: Api | undefined;
    let victim = '';
    for (let i = 0; i < 30 && !api; i++) {
      const c = await newClient();
      const o = await owner(c);
      if (o.master !== leader) (api = c), (victim = o.master);
    }
    expect(api, 'a client owned by a non-leader').toBeDefined();
    const writer = clients.find((c) => c !== api)!;
    const events: string[] = [];
    let ended: unknown;
    const watching = api!
      .stream('watch', { kind: 'ConfigMap', namespace: 'default' }, (res: ApiResponse) => void (res.event && events.push(res.event.object.metadata.name!)))
      .then(() => (ended = 'done'), (err) => (ended = err));
    await writer.request('apply', { manifest: cm('watched-1') });
    await writer.request('apply', { manifest: cm('watched-2') });
    await eventually(() => events.includes('watched-1') && events.includes('watched-2'), 'watch events from the non-leader', 5000, 20);

    const killedAt = Date.now();
    await masters.get(victim)!.kill9();
    masters.delete(victim);
    await eventually(() => ended !== undefined, 'the watch ended', 10_000, 20);
    await watching;
    expect((ended as { code?: string }).code).toBe('SKIFF_ERR_GONE');
    expect(String((ended as Error).message)).toContain(`(${victim}) left`);
    const endedMs = Date.now() - killedAt;
    // The same client is answered again, by another master.
    const after = await eventually(async () => owner(api!).catch(() => undefined), 'the client answered again', 10_000, 50);
    const movedMs = Date.now() - killedAt;
    console.log(`non-leader ${victim} killed: its watch ended after ${endedMs} ms; its client answered by ${after.master} after ${movedMs} ms`);
    expect(after.master).not.toBe(victim);
    expect(movedMs).toBeLessThan(6000);
    // A new watch on the new owner delivers.
    const again: string[] = [];
    const ac = new AbortController();
    const rewatch = api!.stream('watch', { kind: 'ConfigMap', namespace: 'default' }, (res: ApiResponse) => void (res.event && again.push(res.event.object.metadata.name!)), ac.signal);
    await writer.request('apply', { manifest: cm('watched-3') });
    await eventually(() => again.includes('watched-3'), 'the watch again', 5000, 20);
    ac.abort();
    await rewatch;
  }, 60_000);

  it('killing the leader: the other master’s clients are answered throughout, the leader’s move within seconds', async () => {
    const leader = (await leaseOf(clients[0]))!.spec.holderIdentity!;
    const survivor = [...masters.keys()].find((n) => n !== leader)!;
    const owned: { api: Api; master: string }[] = [];
    const on = (m: string) => owned.filter((o) => o.master === m);
    while (owned.length < 30 && (on(survivor).length < 2 || on(leader).length < 2)) {
      const api = await newClient(2500); // a slow answer on a loaded box is not a failure; the leader's clients time out and retry
      owned.push({ api, master: (await owner(api)).master });
    }
    const apis = owned.map((o) => o.api);
    const onSurvivor = on(survivor);
    const onLeader = on(leader);
    expect(onSurvivor.length && onLeader.length).toBeGreaterThan(0);
    let stop = false;
    const failures = new Map<Api, number>();
    const lastOk = new Map<Api, number>();
    const maxGap = new Map<Api, number>();
    const loop = async (api: Api) => {
      lastOk.set(api, Date.now());
      while (!stop) {
        try {
          await api.request('get', { kind: 'Lease', namespace: 'skiff-system', name: 'skiff-controller' });
          const now = Date.now();
          maxGap.set(api, Math.max(maxGap.get(api) ?? 0, now - lastOk.get(api)!));
          lastOk.set(api, now);
        } catch {
          failures.set(api, (failures.get(api) ?? 0) + 1);
        }
      }
    };
    const running = apis.map(loop);
    await new Promise((r) => setTimeout(r, 300)); // some answers before the kill
    const killedAt = Date.now();
    await masters.get(leader)!.kill9();
    masters.delete(leader);
    await eventually(async () => (await leaseOf(onSurvivor[0].api))?.spec.holderIdentity === survivor, `${survivor} leading`, 10_000, 100);
    // The dead leader's clients are answered again (by the survivor, once the leader's candidate key expired).
    await eventually(() => onLeader.every((o) => lastOk.get(o.api)! > killedAt + 200), 'the leader’s clients answered again', 10_000, 50);
    stop = true;
    await Promise.all(running);
    for (const a of apis) maxGap.set(a, Math.max(maxGap.get(a) ?? 0, Date.now() - lastOk.get(a)!));
    const gap = (l: typeof owned) => Math.max(0, ...l.map((o) => maxGap.get(o.api) ?? 0));
    console.log(`leader ${leader} killed: ${onSurvivor.length} clients on ${survivor}: ${[...onSurvivor].reduce((n, o) => n + (failures.get(o.api) ?? 0), 0)} failed requests, longest gap ${gap(onSurvivor)} ms; ${onLeader.length} clients on the leader: ${onLeader.reduce((n, o) => n + (failures.get(o.api) ?? 0), 0)} failed requests, longest gap ${gap(onLeader)} ms`);
    for (const o of onSurvivor) expect(failures.get(o.api) ?? 0).toBe(0);
    expect(gap(onSurvivor)).toBeLessThan(2500); // one request's time under load, never the fail-over
    expect(gap(onLeader)).toBeLessThan(7000); // the candidate key's lease (2 s), then one timed-out request
  }, 60_000);
});

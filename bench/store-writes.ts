/**
 * Disk and desired-set traffic per pod (issue 16): a real `skiff master` process, simulated agents
 * (the agent's own MQTT session and join: storm-selfheal.ts) that report each new pod ContainerCreating,
 * then Running and Ready a moment later, as the agent does; one Deployment of PODS replicas. Prints:
 * bytes the master wrote to disk (/proc/PID/io write_bytes, plus a checkpoint of the WAL it left at the end
 * of each phase) per pod created, store writes per pod,
 * desired-topic bytes per pod, the time until all are Running, then the same for deleting them all,
 * then the bytes written over IDLE_S seconds of idle nodes (leases only).
 * Run: `npm run bench:writes` (builds first). Env: WRITES_NODES (20), WRITES_PODS (2000), WRITES_IDLE_S (20),
 * WRITES_ROOT (another checkout's root, built, to measure it with the same bench: its bin/skiff.js runs),
 * WRITES_DELTAS (1: the agents ask for desired deltas when the master offers them, as the agent does; 0: never).
 * Loopback only; stops by itself. The machine is shared: run it twice and compare like with like.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { connectApi } from '../cli/client.js';
import type { Api } from '../cli/types.js';
import { decodeObject, encode } from '../protocol/codec.js';
import type { DesiredDelta, DesiredMessage, PodReport, PodsMessage } from '../protocol/messages.js';
import type { Pod } from '../protocol/types.js';
import { topics } from '../protocol/topics.js';
import { spawnNode, stopProc, waitFor } from './cluster-selfheal.js';
import { startSimAgents, type SimAgent } from './storm-selfheal.js';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const NODES = env('WRITES_NODES', 20);
const PODS = env('WRITES_PODS', 2000);
const IDLE_S = env('WRITES_IDLE_S', 20);
/** 0: the simulated agents never ask for deltas (as agents before them, or to measure a master without them). */
const DELTAS = env('WRITES_DELTAS', 1) !== 0;
const skiff = join(resolve(process.env.WRITES_ROOT ?? '.'), 'bin', 'skiff.js');
const root = mkdtempSync(join(tmpdir(), 'skiff-bench-writes-'));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Bytes the process caused to be written to storage (page cache → disk), /proc/PID/io. */
function writeBytes(pid: number): number {
  return Number(/^write_bytes: (\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
}

/** Sets `desired` bytes and reports pods as the agent does: ContainerCreating at once, Running and Ready 200 ms later. */
function simulatePods(a: SimAgent, traffic: { desiredBytes: number; desiredMessages: number }): void {
  const known = new Map<string, Pod>();
  let asked = false;
  const report = (pods: Pod[], running: boolean): PodReport[] => {
    const now = new Date().toISOString();
    return pods.map((p) => ({
      namespace: p.metadata.namespace!, name: p.metadata.name, uid: p.metadata.uid!,
      status: running
        ? { phase: 'Running', hostIP: '127.0.0.1', podIP: '127.0.0.1', startTime: now,
            conditions: ['Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True' as const, lastTransitionTime: now })),
            containerStatuses: p.spec.containers.map((c) => ({ name: c.name, ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } })) }
        : { phase: 'Pending', hostIP: '127.0.0.1', startTime: now,
            containerStatuses: p.spec.containers.map((c) => ({ name: c.name, ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } })) },
    }));
  };
  const send = (m: PodsMessage) => a.session.publish(topics.nodePods(a.name), encode(m), 1);
  a.session.on('message', (topic: string, payload: Buffer) => {
    if (topic !== topics.nodeDesired(a.name) || payload.length === 0) return;
    traffic.desiredBytes += payload.length + topic.length;
    traffic.desiredMessages++;
    const d = decodeObject<DesiredMessage & Partial<DesiredDelta>>(payload).value;
    // As the agent: a master that sends deltas is asked for them (once); a delta adds, changes and removes pods.
    if (d.deltas && !asked && DELTAS) {
      asked = true;
      a.session.publish(topics.nodeResync(a.name), encode({ generation: d.generation }), 1);
    }
    if (process.env.WRITES_DEBUG) console.log(a.name, d.delta ? `delta ${d.base}->${d.generation}` : `full ${d.generation}`, (d.pods ?? []).length, d.removed?.length ?? 0, payload.length, Object.keys(d).join());
    const wanted = d.delta ? [...(d.pods ?? []), ...[...known.values()].filter((p) => !(d.removed ?? []).includes(p.metadata.uid!) && !(d.pods ?? []).some((x) => x.metadata.uid === p.metadata.uid))] : d.pods;
    const now = new Set(wanted.map((p) => p.metadata.uid!));
    const added = wanted.filter((p) => !known.has(p.metadata.uid!));
    const gone = [...known.keys()].filter((u) => !now.has(u));
    for (const u of gone) known.delete(u);
    for (const p of added) known.set(p.metadata.uid!, p);
    if (gone.length) send({ pods: [], gone, generation: d.generation });
    if (!added.length) return;
    send({ pods: report(added, false), generation: d.generation });
    setTimeout(() => send({ pods: report(added, true), generation: d.generation }), 200);
  });
}

function deployment(replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: writes}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: writes}}
  template:
    metadata: {labels: {app: writes}}
    spec: {containers: [{name: main, command: [sleep, "3600"], resources: {requests: {cpu: 1m, memory: 1Mi}}}]}
`;
}

async function count(api: Api, phase?: string): Promise<number> {
  const { items } = await api.request<{ items: { status?: { phase?: string } }[] }>('list', { kind: 'Pod', namespace: 'default' });
  return phase ? items.filter((p) => p.status?.phase === phase).length : items.length;
}

/**
 * Copies what the master's WAL still holds into the database file (a PASSIVE checkpoint, as the master's own
 * automatic one) and returns the bytes that wrote, so each phase counts its pages' way into the main file
 * whether or not the master's checkpoint (every 8 MiB of WAL) happened to fall inside it.
 */
function checkpoint(dataDir: string): number {
  const db = new Database(join(dataDir, 'skiff.db'), { fileMustExist: true });
  try {
    const before = writeBytes(process.pid);
    db.pragma('wal_checkpoint(PASSIVE)');
    return writeBytes(process.pid) - before;
  } finally {
    db.close();
  }
}

/** Store writes since `fromRevision` by kind (the key's second level), from the change log (read-only, beside the master). */
function writesByKind(dataDir: string, fromRevision: number): { revision: number; byKind: Record<string, number> } {
  const db = new Database(join(dataDir, 'skiff.db'), { readonly: true, fileMustExist: true });
  try {
    // Schema 3 keys changes by id = revision × 2^16 + seq (master/store/schema.ts); older files (WRITES_ROOT) by revision.
    const after = (db.pragma('user_version', { simple: true }) as number) >= 3 ? 'id >= (? + 1) * 65536' : 'revision > ?';
    const rows = db.prepare(`SELECT key FROM changes WHERE ${after}`).pluck().all(fromRevision) as string[];
    const byKind: Record<string, number> = {};
    for (const k of rows) byKind[k.split('/')[2] ?? k] = (byKind[k.split('/')[2] ?? k] ?? 0) + 1;
    return { revision: db.prepare("SELECT value FROM meta WHERE name = 'revision'").pluck().get() as number, byKind };
  } finally {
    db.close();
  }
}

const perPod = (byKind: Record<string, number>) => Object.entries(byKind).map(([k, n]) => `${k} ${(n / PODS).toFixed(2)}`).join(', ');

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

async function main(): Promise<void> {
  const mqttPort = await freePort();
  const dataDir = join(root, 'master');
  const master: ChildProcess = spawnNode([skiff, 'master', '--data-dir', dataDir, '--mqtt-port', String(mqttPort), '--http-port=-1', '--mqtts-port=-1', '--bind', '127.0.0.1', '--no-mdns', '--log-level', 'warn', '--join-rate', String(NODES * 2), '--pod-security-default', 'privileged'], join(root, 'master.log'));
  const agents: SimAgent[] = [];
  const traffic = { desiredBytes: 0, desiredMessages: 0 };
  let api: Api | undefined;
  try {
    await waitFor(() => { try { return JSON.parse(readFileSync(join(dataDir, 'config.json'), 'utf8')); } catch { return undefined; } }, 'the master', 30_000);
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const joinToken = readFileSync(join(dataDir, 'join.token'), 'utf8').trim();
    const url = `mqtt://127.0.0.1:${mqttPort}`;
    api = await connectApi({ server: url, user: 'admin', token: admin, timeoutMs: 60_000 });
    agents.push(...(await startSimAgents({ url, joinToken, count: NODES, dir: join(root, 'agents'), prefix: 'node' })));
    for (const a of agents) simulatePods(a, traffic);
    await waitFor(async () => (await api!.request<{ items: unknown[] }>('list', { kind: 'Node' })).items.length === NODES, `${NODES} nodes`, 60_000, 200);
    await new Promise((r) => setTimeout(r, 2000)); // let the joins' writes settle
    const pid = master.pid!;

    const r0 = writesByKind(dataDir, 0).revision;
    const w0 = writeBytes(pid);
    traffic.desiredBytes = traffic.desiredMessages = 0;
    const t0 = performance.now();
    await api.request('apply', { manifest: deployment(PODS) });
    await waitFor(async () => (await count(api!, 'Running')) === PODS, `${PODS} pods Running`, 600_000, 500);
    const upS = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 3000)); // trailing status writes and the WAL checkpoint
    const created = writeBytes(pid) - w0 + checkpoint(dataDir);
    const desiredUp = { ...traffic };
    const upWrites = writesByKind(dataDir, r0);

    const w1 = writeBytes(pid);
    traffic.desiredBytes = traffic.desiredMessages = 0;
    const t1 = performance.now();
    await api.request('delete', { kind: 'Deployment', namespace: 'default', name: 'writes' });
    await waitFor(async () => (await count(api!)) === 0, 'every pod gone', 600_000, 500);
    const downS = (performance.now() - t1) / 1000;
    await new Promise((r) => setTimeout(r, 3000));
    const deleted = writeBytes(pid) - w1 + checkpoint(dataDir);
    const desiredDown = { ...traffic };
    const downWrites = writesByKind(dataDir, upWrites.revision);

    const w2 = writeBytes(pid);
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const idle = writeBytes(pid) - w2;

    console.log(`master: ${skiff}; ${NODES} simulated nodes, ${PODS} pods (one Deployment)`);
    console.log(`create: all Running after ${upS.toFixed(1)} s; disk ${kb(created / PODS)}/pod (${(created / 1e6).toFixed(1)} MB); desired ${kb(desiredUp.desiredBytes / PODS)}/pod in ${desiredUp.desiredMessages} messages (${(desiredUp.desiredBytes / 1e6).toFixed(2)} MB)`);
    console.log(`        store writes per pod: ${perPod(upWrites.byKind)}`);
    console.log(`delete: all gone after ${downS.toFixed(1)} s; disk ${kb(deleted / PODS)}/pod (${(deleted / 1e6).toFixed(1)} MB); desired ${kb(desiredDown.desiredBytes / PODS)}/pod in ${desiredDown.desiredMessages} messages`);
    console.log(`        store writes per pod: ${perPod(downWrites.byKind)}`);
    console.log(`idle: ${NODES} nodes, ${IDLE_S} s of leases: disk ${kb(idle)}`);
  } finally {
    await api?.close().catch(() => undefined);
    await Promise.all(agents.map((a) => a.stop().catch(() => undefined)));
    await stopProc(master);
    if (!process.env.WRITES_KEEP) rmSync(root, { recursive: true, force: true });
    else console.log(`kept ${root}`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

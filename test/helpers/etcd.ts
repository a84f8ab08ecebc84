/**
 * Real etcd servers for tests (Debian's etcd-server, /usr/bin/etcd 3.4): one member or a
 * three-member cluster on loopback, on free ports, with its data in a temp dir that is removed on
 * stop. Each waits for `/health` to answer `{"health":"true"}` before it resolves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './procs.js';
import { eventually } from './wait.js';

/** Where Debian puts the etcd server. */
export const etcdBin = process.env.SKIFF_ETCD_BIN ?? '/usr/bin/etcd';

/**
 * True when an etcd server binary is installed. Without it the etcd tests are skipped on a
 * developer's machine; on CI (CI=true), whose .ci/run installs etcd-server, a missing binary is an
 * error rather than a silent skip.
 */
export const haveEtcd = existsSync(etcdBin);
if (!haveEtcd && process.env.CI) throw new Error(`${etcdBin} is missing on CI: .ci/run must install etcd-server`);

/** One running etcd member. */
export interface EtcdMember {
  name: string;
  /** `http://127.0.0.1:PORT`: the client URL. */
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  /** Its stdout and stderr. */
  logFile: string;
  process: ChildProcess;
  /** SIGKILLs the member (its data dir stays, so `restart` brings it back). */
  kill(): Promise<void>;
  /** Starts the member again on the same ports and data dir, after `kill`. */
  restart(): Promise<void>;
}

/** A running etcd cluster of one or more members. */
export interface EtcdCluster {
  members: EtcdMember[];
  /** The client URLs of every member, for `--store etcd://` (`127.0.0.1:P1,127.0.0.1:P2`). */
  hosts: string[];
  /** `etcd://127.0.0.1:P1,...` with an optional root path. */
  storeUrl(root?: string): string;
  /** Kills every member and removes the data dirs. */
  stop(): Promise<void>;
}

/** Starts a single-member etcd. */
export function startEtcd(): Promise<EtcdCluster> {
  return startEtcdCluster(1);
}

/** Starts an n-member etcd cluster on loopback and waits until every member is healthy. */
export async function startEtcdCluster(size = 3): Promise<EtcdCluster> {
  if (!haveEtcd) throw new Error(`${etcdBin} is missing: apt-get install etcd-server (.ci/run does)`);
  const dir = mkdtempSync(join(tmpdir(), 'skiff-etcd-'));
  const token = `skiff-test-${process.pid}-${Date.now()}`;
  const ports = await distinctFreePorts(size * 2);
  const specs = Array.from({ length: size }, (_, i) => ({
    name: `m${i}`,
    clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
    peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
    dataDir: join(dir, `m${i}`),
    logFile: join(dir, `m${i}.log`),
  }));
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(',');
  const members = specs.map((spec) => member(spec, initialCluster, token));
  const cluster: EtcdCluster = {
    members,
    hosts: specs.map((s) => s.clientUrl.replace('http://', '')),
    storeUrl: (root) => `etcd://${cluster.hosts.join(',')}${root ?? ''}`,
    async stop() {
      await Promise.all(members.map((m) => m.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(members.map((m) => m.restart()));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

interface MemberSpec {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  logFile: string;
}

function member(spec: MemberSpec, initialCluster: string, token: string): EtcdMember {
  const m: EtcdMember = {
    ...spec,
    process: undefined as unknown as ChildProcess,
    async kill() {
      const p = m.process;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const gone = new Promise((resolve) => p.once('exit', resolve));
      p.kill('SIGKILL');
      await gone;
    },
    async restart() {
      m.process = spawnMember(spec, initialCluster, token);
      const exited = new Promise<never>((_, reject) =>
        m.process.once('exit', (code, signal) => reject(new Error(`etcd ${spec.name} exited (${signal ?? code}) while starting; see ${spec.logFile}`))),
      );
      await Promise.race([eventually(() => healthy(spec.clientUrl), `etcd ${spec.name} healthy at ${spec.clientUrl}`, 20_000, 50), exited]);
    },
  };
  return m;
}

function spawnMember(spec: MemberSpec, initialCluster: string, token: string): ChildProcess {
  const args = [
    `--name=${spec.name}`,
    `--data-dir=${spec.dataDir}`,
    `--listen-client-urls=${spec.clientUrl}`,
    `--advertise-client-urls=${spec.clientUrl}`,
    `--listen-peer-urls=${spec.peerUrl}`,
    `--initial-advertise-peer-urls=${spec.peerUrl}`,
    `--initial-cluster=${initialCluster}`,
    `--initial-cluster-token=${token}`,
    '--initial-cluster-state=new',
    // No metrics or debug listeners beyond the client port; quiet logs.
    '--log-level=warn',
    '--logger=zap',
  ];
  const out = createWriteStream(spec.logFile, { flags: 'a' });
  const child = spawn(etcdBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  // A test run that dies leaves no etcd behind: the member dies with the test process.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  child.once('exit', () => process.off('exit', onExit));
  return child;
}

async function healthy(clientUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

// Free ports picked one after another can repeat (each is released before the next is picked).
async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

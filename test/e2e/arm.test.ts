/**
 * The one-file agent on ARM, under emulation (Debian's own Node 18 for arm64 and armhf under qemu-user,
 * test/helpers/arm.ts): the bundle, copied alone into an empty directory, joins a master on loopback, carries
 * its arch in its labels and facts, and runs a process pod placed by `kubernetes.io/arch`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startMaster, type Master } from '../../master/index.js';
import type { Node, Pod } from '../../protocol/index.js';
import { alive, recordedPids, stopAgentProc } from '../../bench/cluster-selfheal.js';
import { nodeArchOf, type ArmArch } from '../helpers/arm.js';
import { copyBundle, requireBundle, startBundleAgent, type BundleAgent } from '../helpers/bundle-agent.js';
import { testEngine } from '../helpers/cluster.js';
import { eventually, tempDir } from '../helpers/wait.js';

const arches: ArmArch[] = ['arm64', 'armhf'];
const ready = (n: Node | undefined) => n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** A process pod pinned to one arch; it prints what it runs on (uname -m of the host: pods are host processes). */
function podFor(arch: ArmArch): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `on-${arch}`, namespace: 'default' },
    spec: {
      runtimeClassName: 'process',
      nodeSelector: { 'kubernetes.io/arch': nodeArchOf[arch] },
      terminationGracePeriodSeconds: 2,
      containers: [{ name: 'main', command: ['/bin/sh', '-c', 'echo started; exec sleep 600'] }],
    },
  } as unknown as Pod;
}

describe('e2e: the bundle on emulated arm64 and armhf', () => {
  let dir: string;
  let master: Master;
  const agents = new Map<ArmArch, BundleAgent>();
  const dataDir = (arch: ArmArch) => join(dir, `board-${arch}`, 'data');

  beforeAll(async () => {
    requireBundle();
    dir = await tempDir('skiff-arm-');
    master = await startMaster({ dataDir: join(dir, 'master'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, mdns: false, podSecurityDefault: 'privileged' });
  }, 60_000);

  afterAll(async () => {
    for (const [arch, a] of agents) {
      await a.stop();
      await stopAgentProc(undefined, dataDir(arch));
    }
    await master?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it.each(arches)('%s: joins from an empty directory, is labelled with its arch and runs an arm pod', async (arch) => {
    const boardDir = join(dir, `board-${arch}`, 'bin');
    const bundle = copyBundle(boardDir);
    expect(readdirSync(boardDir)).toEqual(['skiff-agent.mjs']); // nothing beside it: no node_modules, no .wasm
    const t0 = Date.now();
    agents.set(arch, await startBundleAgent({ bundle, arch, master: master.url, token: master.joinToken, name: `board-${arch}`, dataDir: dataDir(arch), log: join(dir, `${arch}.log`) }));
    const node = await eventually(() => {
      const n = master.informers.get('Node', undefined, `board-${arch}`);
      return ready(n) && n;
    }, `board-${arch} Ready`, 120_000, 100);
    const readyMs = Date.now() - t0;
    expect(node.metadata.labels?.['kubernetes.io/arch']).toBe(nodeArchOf[arch]);
    expect(node.status?.nodeInfo?.architecture).toBe(nodeArchOf[arch]);
    expect(node.status?.nodeInfo?.nodeVersion).toMatch(/^v18\./); // Debian's node, not the host's
    expect(node.status?.nodeInfo?.kubeletVersion).toMatch(/^v\d/);
    // The wasm engine is inside the bundle: the balancers run in WebAssembly on ARM too.
    expect(node.status?.conditions?.find((c) => c.type === 'WasmBalancer')?.status).toBe('True');

    await master.objects.create(podFor(arch) as never);
    const pod = await eventually(() => {
      const p = master.informers.get('Pod', 'default', `on-${arch}`);
      return p?.status?.phase === 'Running' && p;
    }, `pod on-${arch} Running`, 60_000, 100);
    expect(pod.spec.nodeName).toBe(`board-${arch}`);
    const pids = [...recordedPids(dataDir(arch)).values()].flat();
    expect(pids.length).toBe(1);
    expect(alive(pids[0])).toBe(true);
    process.stdout.write(`arm e2e: ${arch}: Ready ${readyMs} ms after start\n`);
  }, 180_000);
});

/**
 * Pod start: apply → Running, per runtime, with a plain `podman run -d` of the same image in the same run as
 * the anchor (alternating, so both see the same load). Everything in one process except Podman: a master and an
 * agent in-process, a private Podman API service (test/helpers/podman.ts) in its own network namespace; each pod
 * gets its sandbox (the pause container) and its container, as a pod would on a board. Target for container
 * pods: p50 within 1.3 × the podman run p50 + 100 ms.
 *   npm run bench:podstart [-- --runs 15]          (no build needed; root, podman, runc, busybox-static)
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { startAgent } from '../edge-agent/index.js';
import { startMaster } from '../master/index.js';
import type { Pod } from '../protocol/index.js';
import { startPodman } from '../test/helpers/podman.js';
import { tempDir } from '../test/helpers/wait.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 15;
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const row = (name: string, xs: number[]) => `| ${name} | ${xs.length} | ${pct(xs, 0.5).toFixed(0)} | ${pct(xs, 0.99).toFixed(0)} | ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} |`;

async function main(): Promise<void> {
  const dir = await tempDir('skiff-bench-podstart-');
  const pm = await startPodman();
  const master = await startMaster({ dataDir: join(dir, 'master'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, mdns: false });
  const agent = await startAgent({ master: master.url, token: master.joinToken, name: 'bench', dataDir: join(dir, 'agent'), address: '127.0.0.1', logger: quiet, proxy: false, mdns: false, containerEndpoint: pm.endpoint, podNetwork: 'bridge', podServices: false });
  const running = new Map<string, () => void>();
  master.informers.on('Pod', (p) => {
    const pod = p as Pod | undefined;
    if (pod?.status?.phase === 'Running') running.get(pod.metadata.name)?.();
  });
  /** apply → Running of one container pod, ms. */
  const podStart = async (name: string) => {
    const seen = new Promise<void>((r) => running.set(name, r));
    const t0 = performance.now();
    await master.objects.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: pm.images.busybox, command: ['sleep', '600'] }] } });
    await seen;
    return performance.now() - t0;
  };
  /** `podman run -d` of the same image until it returns (the container runs), ms. */
  const podmanRun = async () => {
    const t0 = performance.now();
    await pm.cli('run', '-d', pm.images.busybox, 'sleep', '600');
    return performance.now() - t0;
  };
  const pods: number[] = [];
  const anchor: number[] = [];
  try {
    await podStart('warm-up');
    await podmanRun();
    for (let i = 0; i < runs; i++) {
      // Alternate which goes first, so neither always follows the other's clean-up.
      if (i % 2) anchor.push(await podmanRun());
      pods.push(await podStart(`pod-${i}`));
      if (!(i % 2)) anchor.push(await podmanRun());
    }
  } finally {
    await agent.stop({ stopPods: true }).catch(() => undefined);
    await master.stop();
    await pm.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const target = 1.3 * pct(anchor, 0.5) + 100;
  process.stdout.write(
    [
      `pod start, apply → Running (${runs} of each, alternating; Podman ${pm.endpoint ? '4.x' : ''} API, runc)`,
      '',
      '| what | n | p50 ms | p99 ms | min–max ms |',
      '| --- | --- | --- | --- | --- |',
      row('container pod (sandbox + container)', pods),
      row('podman run -d (anchor)', anchor),
      '',
      `target: container pod p50 ≤ 1.3 × anchor p50 + 100 ms = ${target.toFixed(0)} ms → ${pct(pods, 0.5) <= target ? 'met' : 'NOT met'} (ratio ${(pct(pods, 0.5) / pct(anchor, 0.5)).toFixed(2)})`,
      '',
    ].join('\n'),
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});

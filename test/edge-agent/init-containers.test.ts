/**
 * Init containers and 1.29 native sidecars on a real agent (process pods): order, statuses as kubectl prints
 * them, failure with restartPolicy Never, retries with back-off, sidecars beside the app and stopped after it,
 * and an agent restart that does not run initialization twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { podStatus } from '../../cli/format/pod-status.js';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import type { Container, KObject, Pod, PodStatus } from '../../protocol/index.js';
import { FakeMaster, JOIN_TOKEN, memoryLogger, podWith, readText, sh, tempDir, until } from './helpers.js';

const init = (name: string, script: string, extra: Partial<Container> = {}): Container => ({ name, ...(sh(script) as { command: string[] }), ...extra });

describe('edge agent: init containers and sidecars', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(node: string) {
    const master = await new FakeMaster().start();
    cleanups.push(() => master.close());
    const dataDir = tempDir();
    const opts = { master: master.url, token: JOIN_TOKEN, name: node, dataDir, address: '127.0.0.1', logger: memoryLogger(), cacheWaitMs: 0, proxy: false as const, mdns: false, crashLoop: { initialMs: 100, maxMs: 200 } };
    const start = async () => {
      const a = await startAgent(opts);
      cleanups.push(() => a.stop());
      await until(() => a.connected, 'connected');
      return a;
    };
    /** Every STATUS kubectl would have printed for the pod, in order, without repeats. */
    const seen: string[] = [];
    const watch = (a: Agent, pod: Pod) =>
      a.on('podStatus', (r: { uid: string; status: PodStatus }) => {
        if (r.uid !== pod.metadata.uid) return;
        const s = podStatus({ ...pod, status: r.status } as Pod);
        if (seen[seen.length - 1] !== s) seen.push(s);
      });
    return { master, dataDir, start, seen, watch };
  }
  const status = (a: Agent, p: Pod) => a.reportOf(p.metadata.uid!)?.status;

  it('run in order, each to completion, before the app containers: Init:0/2 → Init:1/2 → PodInitializing → Running', async () => {
    const { master, dataDir, start, seen, watch } = await setup('pi-init');
    const order = path.join(dataDir, 'order');
    const pod = podWith('web', sh(`echo app >> ${order}; exec sleep 1000`), {
      initContainers: [init('first', `sleep 0.3; echo first >> ${order}`), init('second', `test "$(cat ${order})" = first && sleep 0.3 && echo second >> ${order}`)],
    });
    const a = await start();
    watch(a, pod);
    await master.desire('pi-init', { generation: 1, pods: [pod] });
    await until(() => status(a, pod)?.initContainerStatuses?.[0].state.running, 'the first init container running');
    expect(status(a, pod)).toMatchObject({ phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'PodInitializing' } } }] });
    expect(status(a, pod)?.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('False');
    await until(() => status(a, pod)?.phase === 'Running', 'running');
    await until(() => readText(order)?.endsWith('app'), 'the app container wrote');
    expect(readText(order)?.split('\n')).toEqual(['first', 'second', 'app']);
    const st = status(a, pod)!;
    expect(st.initContainerStatuses).toMatchObject([
      { name: 'first', ready: true, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      { name: 'second', ready: true, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
    ]);
    expect(st.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
    expect(seen[0]).toBe('Init:0/2');
    expect(seen).toContain('Init:1/2');
    expect(seen[seen.length - 1]).toBe('Running');
    // The init container's log is there for `skiff logs -c`.
    const id = await master.call('pi-init', 'logs', { name: 'web', container: 'first' });
    expect((await until(() => master.rpc.get(id)?.[0], 'logs answer')).ok).toBe(true);
  });

  it('a failure with restartPolicy Never fails the pod (Init:Error); the app containers never start', async () => {
    const { master, dataDir, start } = await setup('pi-init-fail');
    const marker = path.join(dataDir, 'app-ran');
    const pod = podWith('job', sh(`touch ${marker}`), { restartPolicy: 'Never', initContainers: [init('ok', 'true'), init('broken', 'echo cannot migrate >&2; exit 3')] });
    const a = await start();
    await master.desire('pi-init-fail', { generation: 1, pods: [pod] });
    await until(() => status(a, pod)?.phase === 'Failed', 'Failed');
    const st = status(a, pod)!;
    expect(st.initContainerStatuses?.[1]).toMatchObject({ name: 'broken', restartCount: 0, state: { terminated: { exitCode: 3, reason: 'Error' } } });
    expect(podStatus({ ...pod, status: st } as Pod)).toBe('Init:Error');
    expect(st.containerStatuses?.[0].state.waiting?.reason).toBe('PodInitializing');
    expect(fs.existsSync(marker)).toBe(false);
    await until(() => master.pods.get(pod.metadata.uid!)?.phase === 'Failed', 'the master told');
  });

  it('with OnFailure a failing init container is retried with back-off (Init:CrashLoopBackOff) until it succeeds', async () => {
    const { master, dataDir, start, seen, watch } = await setup('pi-init-retry');
    const tries = path.join(dataDir, 'tries');
    const pod = podWith('retry', sh('exec sleep 1000'), { restartPolicy: 'OnFailure', initContainers: [init('wait-db', `echo x >> ${tries}; [ $(wc -l < ${tries}) -ge 3 ]`)] });
    const a = await start();
    watch(a, pod);
    await master.desire('pi-init-retry', { generation: 1, pods: [pod] });
    await until(() => status(a, pod)?.phase === 'Running', 'running after the retries');
    expect(status(a, pod)?.initContainerStatuses?.[0]).toMatchObject({ restartCount: 2, state: { terminated: { exitCode: 0 } } });
    expect(seen).toContain('Init:CrashLoopBackOff');
  });

  it('sidecars start in order and keep running beside the app, restart on their own, and stop after the app completes', async () => {
    const { master, dataDir, start, watch, seen } = await setup('pi-sidecar');
    const pids = path.join(dataDir, 'sidecar-pids');
    const proceed = path.join(dataDir, 'proceed');
    const pod = podWith('batch', sh(`while [ ! -f ${proceed} ]; do sleep 0.05; done; echo done`), {
      restartPolicy: 'Never',
      initContainers: [
        // Started once its startup probe passes (without one, once its process exists: too early for `check`).
        init('proxy', `echo $$ >> ${pids}; exec sleep 1000`, { restartPolicy: 'Always', startupProbe: { exec: { command: ['test', '-s', pids] }, periodSeconds: 1 } }),
        // A regular init container after the sidecar sees it running.
        init('check', `kill -0 $(tail -1 ${pids})`),
      ],
    });
    const a = await start();
    watch(a, pod);
    await master.desire('pi-sidecar', { generation: 1, pods: [pod] });
    await until(() => status(a, pod)?.phase === 'Running' && status(a, pod)?.containerStatuses?.[0].state.running, 'the app running beside the sidecar');
    expect(status(a, pod)?.initContainerStatuses).toMatchObject([{ name: 'proxy', started: true, ready: true, state: { running: {} } }, { name: 'check', state: { terminated: { exitCode: 0 } } }]);
    expect(status(a, pod)?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // The sidecar dies: it alone is restarted, the app keeps running.
    process.kill(Number(readText(pids)!.split('\n')[0]), 'SIGKILL');
    await until(() => status(a, pod)?.initContainerStatuses?.[0].restartCount === 1 && status(a, pod)?.initContainerStatuses?.[0].state.running, 'the sidecar restarted');
    expect(status(a, pod)?.containerStatuses?.[0]).toMatchObject({ restartCount: 0, state: { running: {} } });
    // The app completes: the sidecar is stopped and the pod Succeeded.
    fs.writeFileSync(proceed, '');
    await until(() => status(a, pod)?.phase === 'Succeeded', 'Succeeded');
    expect(status(a, pod)?.initContainerStatuses?.[0].state.terminated).toBeDefined();
    expect(seen).toContain('Init:1/2');
  });

  it('after an agent restart initialization is not run again: the app is adopted where it is', async () => {
    const { master, dataDir, start } = await setup('pi-init-adopt');
    const runs = path.join(dataDir, 'init-runs');
    const pod = podWith('web', sh('exec sleep 1000'), { initContainers: [init('setup', `echo ran >> ${runs}`)] });
    const first = await start();
    await master.desire('pi-init-adopt', { generation: 1, pods: [pod] });
    await until(() => status(first, pod)?.phase === 'Running', 'running');
    await first.stop({ stopPods: false });
    const second = await start();
    await until(() => status(second, pod)?.phase === 'Running', 'running again');
    expect(status(second, pod)?.initContainerStatuses?.[0]).toMatchObject({ name: 'setup', state: { terminated: { exitCode: 0 } } });
    expect(readText(runs)?.split('\n')).toEqual(['ran']);
  });
});

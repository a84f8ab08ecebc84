/**
 * The container driver against a real Podman API service (test/helpers/podman.ts): what only containers do —
 * a pod sandbox shared by two containers over localhost, exit codes and OOM kills from the engine and the
 * cgroup, adoption by label after the agent lets go, limits and securityContext in the engine's config, exec and
 * logs through the API, reaping a pod no longer wanted.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerDriver } from '../../edge-agent/drivers/container/driver.js';
import { L } from '../../edge-agent/drivers/container/labels.js';
import { startPodman, type Podman } from '../helpers/podman.js';
import { quietLogger } from '../helpers/cluster.js';
import { tempDir } from '../helpers/wait.js';
import { driverOver, launch } from './container-builders.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { agentBin } from '../helpers/procs.js';

const run = promisify(execFile);

let pm: Podman;
let driver: ContainerDriver;
let dir: string;

beforeAll(async () => {
  pm = await startPodman();
  driver = await driverOver(pm);
  dir = await tempDir('skiff-cdrv-');
}, 60_000);

afterAll(async () => {
  await pm?.stop();
}, 60_000);

/** The text a container's attempt wrote, as copied into its log file. */
async function output(spec: ReturnType<typeof launch>): Promise<string> {
  return fs.existsSync(spec.logFile) ? fs.readFileSync(spec.logFile, 'utf8') : '';
}

describe('container driver', () => {
  it('runs a command to its exit code; its output is in the attempt\'s log file', async () => {
    const spec = launch(dir, { image: pm.images.busybox, script: 'echo out; echo err >&2; exit 3' });
    const h = await driver.start(spec);
    const exit = await h.exited;
    expect(exit).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(await output(spec)).toBe('out\nerr\n');
  });

  it('two containers of one pod share localhost and the hostname; the pod has its own address', async () => {
    const web = launch(dir, { image: pm.images.httpd, pod: 'duo', container: 'web' });
    const sandbox = await driver.podSandbox({ podUid: web.podUid, podName: 'duo', namespace: 'default', graceMs: 1000 }, web.oci!.sandbox);
    expect(sandbox.ip).toMatch(/^10\.88\./);
    const server = await driver.start(web);
    const client = launch(dir, { image: pm.images.busybox, pod: 'duo', container: 'client', script: 'for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O- http://127.0.0.1:80/ && hostname && exit 0; sleep 0.2; done; exit 1' });
    const exit = await (await driver.start(client)).exited;
    expect(exit.exitCode).toBe(0);
    expect(await output(client)).toBe('hello from busybox\nduo\n');
    await server.stop(1000);
    await driver.removePod(web.podUid);
    expect(await pm.cli('ps', '-a', '--filter', `label=${L.podUid}=${web.podUid}`, '-q')).toBe('');
  });

  it('a container over its 32Mi limit ends OOMKilled with exit code 137 (seen in the cgroup: Podman says false)', async () => {
    const spec = launch(dir, { image: pm.images.busybox, script: 'sleep 0.5; exec dd if=/dev/zero of=/dev/null bs=64M count=1', limits: { memoryBytes: 32 * 2 ** 20 } });
    const exit = await (await driver.start(spec)).exited;
    expect(exit).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
  });

  it('limits and securityContext reach the engine', async () => {
    const spec = launch(dir, {
      image: pm.images.busybox,
      script: 'id -u; id -g; touch /x 2>/dev/null && echo writable || echo read-only; sleep 30',
      limits: { memoryBytes: 64 * 2 ** 20, cpuMilli: 500, cpuRequestMilli: 250 },
      oci: { security: { runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true, capDrop: ['ALL'], noNewPrivileges: true } },
    });
    const h = await driver.start(spec);
    const c = (await driver.containerOf({ podUid: spec.podUid, containerName: 'main', stateDir: spec.stateDir }))!;
    const i = JSON.parse(await pm.cli('inspect', c.id))[0];
    expect(i.HostConfig).toMatchObject({ Memory: 64 * 2 ** 20, CpuQuota: 50_000, CpuPeriod: 100_000, CpuShares: 256, PidsLimit: 1024, ReadonlyRootfs: true });
    expect(i.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(i.Config.User).toBe('1000:1000');
    await expect.poll(() => output(spec), { timeout: 10_000 }).toBe('1000\n1000\nread-only\n');
    const stopped = await h.stop(2000);
    expect(stopped.exitCode).toBe(137); // sh as PID 1 ignores SIGTERM: killed after the grace period
  });

  it('a released container keeps running and is adopted by label: same container, same restartCount', async () => {
    const spec = launch(dir, { image: pm.images.busybox, restartCount: 4, script: 'trap "exit 7" TERM; while :; do sleep 0.1; done' });
    const h = await driver.start(spec);
    const before = await driver.containerOf({ podUid: spec.podUid, containerName: 'main', stateDir: spec.stateDir });
    h.release();
    const a = await driver.adopt({ podUid: spec.podUid, containerName: 'main', stateDir: spec.stateDir });
    expect(a.kind).toBe('running');
    if (a.kind !== 'running') return;
    expect(a.restartCount).toBe(4);
    expect(a.handle.pid).toBe(h.pid);
    expect((await driver.containerOf({ podUid: spec.podUid, containerName: 'main', stateDir: spec.stateDir }))?.id).toBe(before?.id);
    const exit = await a.handle.stop(5000);
    expect(exit.exitCode).toBe(7);
    const after = await driver.adopt({ podUid: spec.podUid, containerName: 'main', stateDir: spec.stateDir });
    expect(after).toMatchObject({ kind: 'exited', restartCount: 4, exit: { exitCode: 7 } });
  });

  it('its output reaches the log file while it runs; released and adopted, the copy goes on without a line twice', async () => {
    const spec = launch(dir, { image: pm.images.busybox, script: 'i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo line $i; sleep 0.01; done; echo end' });
    const h = await driver.start(spec);
    await expect.poll(() => output(spec), { timeout: 10_000 }).toMatch(/line 3\n/);
    h.release();
    await new Promise((r) => setTimeout(r, 300)); // lines written while no agent follows
    const a = await driver.adopt({ podUid: spec.podUid, containerName: 'main', stateDir: spec.stateDir, logDir: `${dir}/${spec.podName}/main` });
    expect(a.kind).toBe('running');
    if (a.kind === 'running') await a.handle.exited;
    const lines = (await output(spec)).split('\n').filter(Boolean);
    expect(lines).toEqual([...Array.from({ length: 400 }, (_, i) => `line ${i + 1}`), 'end']);
  });

  it('exec runs beside the container, with and without a TTY', async () => {
    const spec = launch(dir, { image: pm.images.busybox, script: 'sleep 30' });
    const h = await driver.start(spec);
    const ref = { podUid: spec.podUid, containerName: 'main', stateDir: spec.stateDir, handle: h, launch: spec };
    const out: string[] = [];
    const plain = await driver.exec!(ref, { command: ['sh', '-c', 'echo hi; echo oops >&2; exit 5'], tty: false, stdin: false, onOutput: (s, b) => out.push(`${s}:${b}`) });
    expect(await plain.exited).toEqual({ exitCode: 5 });
    expect(out.sort()).toEqual(['stderr:oops\n', 'stdout:hi\n']);
    let tty = '';
    const t = await driver.exec!(ref, { command: ['sh', '-c', 'tty; stty size'], tty: true, stdin: true, rows: 33, cols: 101, onOutput: (_s, b) => (tty += b) });
    t.endInput();
    expect(await t.exited).toEqual({ exitCode: 0 });
    expect(tty).toMatch(/^\/dev\/pts\/\d+\r\n33 101\r\n$/);
    await h.stop(0);
  });

  it('a start that fails is a StartError, not a throw', async () => {
    const spec = launch(dir, { image: pm.images.busybox, oci: { entrypoint: ['/no/such/binary'] } });
    const exit = await (await driver.start(spec)).exited;
    expect(exit.reason).toBe('StartError');
    expect(exit.exitCode).toBe(128);
    expect(exit.message).toMatch(/no such file or directory|not found/);
  });

  it('skiff-agent image load puts a docker-archive into the engine (boards without a registry)', async () => {
    const tar = `${dir}/app.tar`;
    await pm.cli('tag', pm.images.busybox, 'localhost/offline-app:1');
    await pm.cli('save', '-o', tar, 'localhost/offline-app:1');
    await pm.cli('rmi', 'localhost/offline-app:1');
    const r = await run(process.execPath, [agentBin, 'image', 'load', tar, '--container-endpoint', pm.endpoint, '--data-dir', `${dir}/agent`]);
    expect(r.stdout).toMatch(/Loaded image: localhost\/offline-app:1/);
    expect(await pm.cli('images', '-q', 'localhost/offline-app:1')).not.toBe('');
    const bad = await run(process.execPath, [agentBin, 'image', 'load', `${dir}/missing.tar`, '--container-endpoint', pm.endpoint]).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toMatch(/skiff-agent image load: ENOENT.*missing\.tar/);
  });

  it('reap stops and removes the pods no longer wanted, and only those of its own node', async () => {
    const keep = launch(dir, { image: pm.images.busybox, script: 'sleep 60' });
    const gone = launch(dir, { image: pm.images.busybox, script: 'sleep 60', graceMs: 500 });
    const hk = await driver.start(keep);
    await driver.start(gone);
    const other = await driverOver(pm, 'other-node');
    const foreign = launch(dir, { image: pm.images.busybox, script: 'sleep 60' });
    const hf = await other.start(foreign);
    const n = await driver.reap('', new Set([keep.podUid, 'uid-duo']), quietLogger);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(await pm.cli('ps', '-a', '--filter', `label=${L.podUid}=${gone.podUid}`, '-q')).toBe('');
    expect((await pm.cli('ps', '--filter', `label=${L.podUid}=${keep.podUid}`, '-q')).trim()).not.toBe('');
    expect((await pm.cli('ps', '--filter', `label=${L.podUid}=${foreign.podUid}`, '-q')).trim()).not.toBe('');
    await Promise.all([hk.stop(0), hf.stop(0)]);
  });
});

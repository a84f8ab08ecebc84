/**
 * The same WASI module on an x86 node and on an emulated arm64 board: a real `skiff-agent` process on Debian's
 * Node 18 for arm64 under qemu-aarch64-static (test/helpers/arm.ts) joins an in-process master beside an
 * in-process x86 agent; one pod pinned to each arch runs hello.wasm unchanged, prints to `skiff logs`, exits 3
 * and is restarted. Under qemu-user the agent cannot exec an ARM binary itself (no binfmt_misc), so its WASI
 * runner is started through --wasi-node with the emulated node; on a real board the agent's own node does it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAgentProc } from '../../bench/cluster-selfheal.js';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import { startMaster, type Master } from '../../master/index.js';
import type { Node, Pod } from '../../protocol/index.js';
import { armNodeCommand, armNodeShim } from '../helpers/arm.js';
import { quietLogger, testEngine } from '../helpers/cluster.js';
import { agentBin, requireBuild, root } from '../helpers/procs.js';
import { eventually, tempDir } from '../helpers/wait.js';
import { helloWasm } from '../helpers/wasi.js';

describe('e2e: one WASI module on x86 and on an emulated arm64 agent', () => {
  let dir: string;
  let master: Master;
  let x86: Agent;
  let arm: ChildProcess | undefined;
  let api: Api;
  const armData = () => join(dir, 'pi');

  beforeAll(async () => {
    requireBuild();
    const [wasm, node, shim] = await Promise.all([helloWasm(), armNodeCommand('arm64'), armNodeShim('arm64')]);
    dir = await tempDir('skiff-wasi-arm-');
    master = await startMaster({ dataDir: join(dir, 'master'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, mdns: false });
    api = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 30_000 });
    x86 = await startAgent({ master: master.url, token: master.joinToken, name: 'nuc', dataDir: join(dir, 'nuc'), address: '127.0.0.1', logger: quietLogger, mdns: false });
    const log = createWriteStream(join(dir, 'pi.log'));
    arm = spawn(node[0], [...node.slice(1), agentBin, 'join', '--master', master.url, '--token', master.joinToken, '--name', 'pi', '--data-dir', armData(), '--address', '127.0.0.1', '--wasi-node', shim], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    arm.stdout!.pipe(log);
    arm.stderr!.pipe(log);
    const exited = new Promise<never>((_, reject) => arm!.once('exit', (code) => reject(new Error(`the arm64 agent exited with ${code}`))));
    const ready = eventually(() => ['nuc', 'pi'].every((n) => master.informers.get('Node', undefined, n)?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')), 'both nodes Ready', 180_000, 200);
    await Promise.race([ready, exited]).catch((err: Error) => {
      throw new Error(`${err.message}\n--- the arm64 agent's log:\n${readFileSync(join(dir, 'pi.log'), 'utf8')}`);
    });
    const pod = (name: string, arch: string) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
      spec: { runtimeClassName: 'wasi', nodeSelector: { 'kubernetes.io/arch': arch }, containers: [{ name: 'hello', image: `file://${wasm}`, args: ['exit', '3'], env: [{ name: 'GREETING', value: arch }] }] },
    });
    await master.objects.create(pod('on-x86', 'amd64') as never);
    await master.objects.create(pod('on-arm', 'arm64') as never);
  }, 600_000);

  afterAll(async () => {
    await api?.close();
    await x86?.stop();
    if (arm) await stopAgentProc(arm, armData());
    await master?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs unchanged on both, prints to the logs, exits 3 and is restarted', async () => {
    const pi = master.informers.get('Node', undefined, 'pi')!;
    expect(pi.status?.nodeInfo).toMatchObject({ architecture: 'arm64', runtimes: expect.arrayContaining(['process', 'wasi']) });
    expect(pi.status?.nodeInfo?.nodeVersion).toMatch(/^v18\./);
    for (const name of ['on-x86', 'on-arm']) {
      const p = await eventually(() => {
        const x = master.informers.get('Pod', 'default', name);
        return (x?.status?.containerStatuses?.[0].restartCount ?? 0) >= 1 && x;
      }, `${name} restarted after exiting 3`, 240_000, 200);
      expect(p.spec.nodeName).toBe(name === 'on-arm' ? 'pi' : 'nuc');
      expect(p.status?.containerStatuses?.[0].lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
      // skiff logs --previous: the API asks the pod's agent.
      const text = await eventually(async () => {
        const t = await api.request('logs', { namespace: 'default', name, previous: true });
        return typeof t === 'string' && t.includes('hello from wasi') && t;
      }, `${name}'s logs`, 60_000, 500);
      expect(text).toContain(`hello from wasi: GREETING=${name === 'on-arm' ? 'arm64' : 'amd64'} args=exit,3`);
    }
    expect(readFileSync(join(dir, 'pi.log'), 'utf8')).toContain('joined');
  }, 600_000);
});

/**
 * Resource limits through a real agent: a process pod over its 32Mi memory limit ends OOMKilled where this
 * machine lets the agent write cgroups (root on the dev box); where it cannot, the node's ResourceLimits
 * condition says why and how to fix it, and the same pod runs unlimited — asserted either way, never a silent
 * pass. The unenforceable paths (a kernel without the memory controller, limits turned off) are played with a
 * fake mountinfo and `cgroups: false`, so they are tested on every machine. QoS class in the pod status.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryCgroupFix } from '../../edge-agent/cgroups/detect.js';
import { startAgent, type Agent, type AgentOptions } from '../../edge-agent/index.js';
import { conditionOf, type NodeStatusMessage } from '../../protocol/index.js';
import { FakeMaster, JOIN_TOKEN, memoryLogger, podWith, sh, tempDir, until } from './helpers.js';

/** dash doubles a string to 32 MiB: its peak is well past 32Mi, and well within a dev box without limits. */
const HOG = 'x=0123456789abcdef; i=0; while [ $i -lt 21 ]; do x="$x$x"; i=$((i+1)); done; echo "grew to ${#x} bytes"';
const limited = { resources: { limits: { memory: '32Mi', cpu: '500m' } } };

describe('edge agent: resource limits', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function agentWith(node: string, extra: Partial<AgentOptions> = {}) {
    const master = await new FakeMaster().start();
    cleanups.push(() => master.close());
    const logger = memoryLogger();
    const agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: node, dataDir: tempDir(), address: '127.0.0.1', logger, cacheWaitMs: 0, proxy: false, mdns: false, ...extra });
    cleanups.push(() => agent.stop());
    await until(() => agent.connected, 'connected');
    const status = await until(() => master.statuses.find((s) => s.online) as NodeStatusMessage | undefined, 'node status');
    const limits = conditionOf({ status: { conditions: status.conditions } }, 'ResourceLimits');
    return { master, agent, logger, limits };
  }
  const podStatus = (a: Agent, uid: string) => a.reportOf(uid)?.status;

  it('a process pod over its 32Mi memory limit ends OOMKilled (exit 137); or, where limits cannot be enforced, the node says so and the pod runs unlimited', async () => {
    const { master, agent, logger, limits } = await agentWith('pi-oom');
    const pod = podWith('hog', { ...sh(HOG), ...limited }, { restartPolicy: 'Never' });
    await master.desire('pi-oom', { generation: 1, pods: [pod] });
    const uid = pod.metadata.uid!;
    await until(() => ['Failed', 'Succeeded'].includes(podStatus(agent, uid)?.phase ?? ''), 'the pod ended', 30_000);
    const st = podStatus(agent, uid)!;
    expect(st.qosClass).toBe('Guaranteed');
    if (limits?.status === 'True') {
      expect(limits.reason).toMatch(/^CgroupV[12]$/);
      expect(st.phase).toBe('Failed');
      expect(st.containerStatuses?.[0].state.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
      expect(fs.readFileSync(path.join(agent.dataDir, 'logs', `default_hog_${uid}`, 'main', '0.log'), 'utf8')).not.toContain('grew to');
    } else {
      console.warn(`limits not enforceable on this machine: ${limits?.message}`);
      expect(limits).toMatchObject({ status: 'False', reason: expect.stringMatching(/MemoryCgroupDisabled|CgroupNotWritable|NoCgroups/) });
      expect(st.containerStatuses?.[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
      expect(logger.lines.some((l) => l.includes('not enforced') && l.includes('hog'))).toBe(true);
    }
  });

  it('a kernel without the memory controller: ResourceLimits=False with the cmdline.txt fix, the pod runs unlimited and the agent warns', async () => {
    const fake = tempDir('skiff-nomem-');
    fs.writeFileSync(path.join(fake, 'cgroup.controllers'), 'cpuset cpu io pids\n');
    const { master, agent, logger, limits } = await agentWith('pi-nomem', { cgroups: { mountinfo: `29 23 0:26 / ${fake} rw - cgroup2 cgroup2 rw`, procCgroups: 'memory\t0\t1\t0\n' } });
    expect(limits).toMatchObject({ status: 'False', reason: 'MemoryCgroupDisabled' });
    expect(limits?.message).toContain(memoryCgroupFix);
    expect(limits?.message).toContain('cgroup_enable=memory cgroup_memory=1');
    const pod = podWith('hog', { ...sh(HOG), ...limited }, { restartPolicy: 'Never' });
    await master.desire('pi-nomem', { generation: 1, pods: [pod] });
    await until(() => podStatus(agent, pod.metadata.uid!)?.phase === 'Succeeded', 'the unlimited pod completed', 30_000);
    expect(logger.lines.some((l) => l.includes('warn') && l.includes('resources.limits are not enforced') && l.includes('hog'))).toBe(true);
  });

  it('limits turned off: ResourceLimits=False (Disabled); BestEffort and Burstable pods', async () => {
    const { master, agent, limits } = await agentWith('pi-off', { cgroups: false });
    expect(limits).toMatchObject({ status: 'False', reason: 'Disabled' });
    const best = podWith('best', sh('sleep 30'));
    const burst = podWith('burst', { ...sh('sleep 30'), resources: { requests: { cpu: '100m' } } });
    await master.desire('pi-off', { generation: 1, pods: [best, burst] });
    await until(() => podStatus(agent, best.metadata.uid!)?.phase === 'Running' && podStatus(agent, burst.metadata.uid!)?.phase === 'Running', 'both running');
    expect(podStatus(agent, best.metadata.uid!)?.qosClass).toBe('BestEffort');
    expect(podStatus(agent, burst.metadata.uid!)?.qosClass).toBe('Burstable');
    await until(() => master.pods.get(burst.metadata.uid!)?.qosClass === 'Burstable', 'the master told');
  });
});

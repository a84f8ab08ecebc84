/**
 * `skiff logs` as kubectl takes it, against a real master and two agents: TYPE/NAME, -l across pods
 * and nodes, --all-containers, --prefix, -f across pods, --max-log-requests, --since, --timestamps; and
 * logs that outlive the process: a Completed job's pod's logs stay until the pod is deleted, also after
 * its agent restarts, and go (from the node's disk too) once it is.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../../edge-agent/index.js';
import type { Pod } from '../../protocol/index.js';
import { eventually, quietLogger, startCluster, type TestCluster } from '../helpers/cluster.js';
import { cliFor, type CliOptions, type CliRun } from './cluster-cli.js';

const talker = `apiVersion: apps/v1
kind: Deployment
metadata: {name: talker}
spec:
  replicas: 2
  selector: {matchLabels: {app: talker}}
  template:
    metadata: {labels: {app: talker}}
    spec:
      terminationGracePeriodSeconds: 1
      topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: talker}}}]
      containers:
        - {name: a, command: [sh, -c, 'trap "exit 0" TERM; i=0; while true; do echo "$HOSTNAME a $i"; i=$((i+1)); sleep 0.1; done']}
        - {name: b, command: [sh, -c, 'trap "exit 0" TERM; i=0; while true; do echo "$HOSTNAME b $i"; i=$((i+1)); sleep 0.1; done']}
`;

const job = `apiVersion: batch/v1
kind: Job
metadata: {name: report}
spec:
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {kubernetes.io/hostname: pi-2}
      containers: [{name: main, command: [sh, -c, 'echo report line 1; echo report line 2']}]
`;

describe('skiff logs across pods, and logs that outlive the process', () => {
  let c: TestCluster;
  let cli: (args: string[], opts?: CliOptions) => Promise<CliRun>;
  let pods: string[];

  beforeAll(async () => {
    c = await startCluster(['pi-1', 'pi-2']);
    cli = cliFor(c.master);
    await c.apply(talker);
    await eventually(async () => (await c.pods('app=talker')).filter((p) => p.status?.phase === 'Running').length === 2, 'talkers Running');
    pods = (await c.pods('app=talker')).map((p) => p.metadata.name).sort();
    // A few lines each, so tails and --since have something to cut.
    await eventually(async () => (await cli(['logs', pods[0], '-c', 'b'])).stdout.split('\n').length > 15, 'lines logged');
  });
  afterAll(async () => c?.stop());

  it('logs deploy/NAME picks a pod as kubectl does and says so; the default container too', async () => {
    const r = await cli(['logs', 'deploy/talker', '--tail', '3']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^Found 2 pods, using pod\/talker-\S+\nDefaulted container "a" out of: a, b\n$/);
    const chosen = /using pod\/(\S+)/.exec(r.stderr)![1];
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(new RegExp(`^${chosen} a \\d+$`));
  });

  it('-l with --all-containers and --prefix: every container of every pod, the last 10 lines of each by default', async () => {
    const r = await cli(['logs', '-l', 'app=talker', '--all-containers', '--prefix']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const by = new Map<string, number>();
    for (const l of lines) {
      const m = /^\[pod\/(\S+)\/(a|b)\] (\S+) (a|b) \d+$/.exec(l);
      expect(m, l).not.toBeNull();
      expect(m![3]).toBe(m![1]);
      expect(m![4]).toBe(m![2]);
      by.set(`${m![1]}/${m![2]}`, (by.get(`${m![1]}/${m![2]}`) ?? 0) + 1);
    }
    expect([...by.keys()].sort()).toEqual(pods.flatMap((p) => [`${p}/a`, `${p}/b`]));
    expect([...by.values()]).toEqual([10, 10, 10, 10]);
  });

  it('-f follows every stream at once, whole lines; more streams than --max-log-requests is refused', async () => {
    const tooMany = await cli(['logs', '-f', '-l', 'app=talker', '--all-containers', '--max-log-requests', '3']);
    expect(tooMany).toMatchObject({ code: 1, stderr: 'error: you are attempting to follow 4 log streams, but maximum allowed concurrency is 3, use --max-log-requests to increase the limit\n' });
    const stop = new AbortController();
    const seen = new Set<string>();
    const r = await cli(['logs', '-f', '-l', 'app=talker', '-c', 'a', '--prefix', '--tail', '0'], {
      signal: stop.signal,
      onStdout: (all) => {
        for (const l of all.split('\n').slice(0, -1)) seen.add(/^\[pod\/(\S+)\/a\]/.exec(l)?.[1] ?? 'malformed');
        if (seen.size >= 2) stop.abort();
      },
    });
    expect(r.code).toBe(0);
    expect([...seen].sort()).toEqual(pods);
    for (const l of r.stdout.trimEnd().split('\n')) expect(l).toMatch(/^\[pod\/\S+\/a\] \S+ a \d+$/);
  });

  it('--timestamps dates each line (RFC 3339, to within the sampling second); --since keeps the recent ones', async () => {
    const before = Date.now();
    const r = await cli(['logs', pods[0], '--timestamps', '--tail', '5']);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    for (const l of lines) {
      const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) \S+ a \d+$/.exec(l);
      expect(m, l).not.toBeNull();
      expect(Math.abs(Date.parse(m![1]) - before)).toBeLessThan(5000);
    }
    // A line is dated by the first 1 s sample that saw it (edge-agent/logs/timeline.ts), so it may be dated up to
    // 1 s late and --since 1s may keep everything written in the last 2 s: on a fast machine that is the whole log
    // by now. Wait until the first line is dated more than 1 s back, so --since 1s has it to cut.
    const firstAt = async () => Date.parse((await cli(['logs', pods[0], '--timestamps'])).stdout.split(' ')[0]);
    await eventually(async () => Date.now() - (await firstAt()) > 1500, 'the first line dated over 1.5 s ago');
    const recent = await cli(['logs', pods[0], '--since', '1s', '--timestamps']);
    // The whole log read after: every line --since kept, the cut first line, and whatever came meanwhile.
    const all = (await cli(['logs', pods[0]])).stdout.trimEnd().split('\n').length;
    const times = recent.stdout.trimEnd().split('\n').map((l) => Date.parse(l.split(' ')[0]));
    expect(times.length).toBeGreaterThan(0);
    expect(times.length).toBeLessThan(all);
    for (const t of times) expect(t).toBeGreaterThanOrEqual(Date.now() - 1000 - 2500);
    expect(await cli(['logs', pods[0], '--since', '1s', '--since-time', '2026-01-01T00:00:00Z'])).toMatchObject({ code: 1, stderr: 'error: at most one of --since or --since-time may be specified\n' });
  });

  it("a Completed job's pod's logs stay readable — also after its agent restarts — until the pod is deleted", async () => {
    await c.apply(job);
    await eventually(async () => (await c.master.objects.get('Job', 'default', 'report'))?.status?.succeeded === 1, 'the job completes');
    const [pod] = (await c.pods()).filter((p) => p.metadata.ownerReferences?.[0]?.name === 'report') as Pod[];
    expect(pod.status?.phase).toBe('Succeeded');
    expect(await cli(['logs', 'job/report'])).toEqual({ code: 0, stdout: 'report line 1\nreport line 2\n', stderr: '' });

    // Restart the agent of pi-2 (a new process would find the same data dir): the logs are still there.
    const i = c.agents.findIndex((a) => a.name === 'pi-2');
    await c.agents[i].stop({ stopPods: true });
    c.agents[i] = await startAgent({ master: c.master.url, name: 'pi-2', dataDir: join(c.dir, 'pi-2'), address: '127.0.0.1', leaseIntervalMs: 500, logger: quietLogger });
    await eventually(() => c.agents[i].connected, 'pi-2 back');
    expect((await cli(['logs', pod.metadata.name])).stdout).toBe('report line 1\nreport line 2\n');

    const logDir = join(c.dir, 'pi-2', 'logs');
    expect(readdirSync(logDir).some((d) => d.endsWith(pod.metadata.uid!))).toBe(true);
    expect((await cli(['delete', 'job', 'report'])).code).toBe(0);
    await eventually(async () => !(await c.master.objects.get('Pod', 'default', pod.metadata.name)), 'the job\'s pod deleted');
    await eventually(() => !readdirSync(logDir).some((d) => d.endsWith(pod.metadata.uid!)), 'its logs removed from the node');
    expect((await cli(['logs', pod.metadata.name])).code).toBe(1);
    // The running talkers' logs were not touched.
    expect(existsSync(logDir) && readdirSync(logDir).some((d) => d.includes('talker'))).toBe(true);
  });
});

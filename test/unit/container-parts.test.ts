/**
 * The container driver's pure parts, table by table: labels, create options (limits, securityContext, mounts),
 * the pause executable, endpoints, the engine's multiplexed streams, exit states, the OOM counter's file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { candidateEndpoints, engineOf, parseEndpoint, runtimeVersion } from '../../edge-agent/drivers/container/endpoint.js';
import type { Engine } from '../../edge-agent/drivers/container/engine.js';
import { exitOf } from '../../edge-agent/drivers/container/handle.js';
import { labelsFor, readLabels } from '../../edge-agent/drivers/container/labels.js';
import { Demuxer } from '../../edge-agent/drivers/container/logs.js';
import { oomCounterFile, oomKillLogged, readOomKills } from '../../edge-agent/drivers/container/oom.js';
import { pauseArchs, pauseElf } from '../../edge-agent/drivers/container/pause.js';
import { containerName, createOptions, resourceConfig } from '../../edge-agent/drivers/container/spec.js';
import { mergedSecurity, publishPorts } from '../../edge-agent/pods/oci.js';
import type { Pod } from '../../protocol/index.js';
import { tempDir } from '../helpers/wait.js';
import { launch } from '../drivers/container-builders.js';

const engine = (name: 'docker' | 'podman') => ({ node: 'n1', info: { engine: name, version: '1', apiVersion: '1.41', url: 'unix:///x', address: { socketPath: '/x' } } }) as unknown as Engine;

describe('labels', () => {
  it('round-trip, and refuse what is not a complete Skiff label set', () => {
    const l = labelsFor({ node: 'n1', podUid: 'u1', podName: 'web', namespace: 'shop', role: 'container', container: 'c', attempt: 3, graceMs: 5000, startedAt: new Date('2026-01-01T00:00:00Z') });
    expect(readLabels(l)).toEqual({ node: 'n1', podUid: 'u1', podName: 'web', namespace: 'shop', role: 'container', container: 'c', attempt: 3, graceMs: 5000, startedAt: new Date('2026-01-01T00:00:00Z') });
    expect(readLabels({ ...l, 'io.skiff.role': 'other' })).toBeUndefined();
    expect(readLabels({ ...l, 'io.skiff.container.name': '' })).toBeUndefined();
    expect(readLabels({ ...l, 'io.skiff.container.attempt': '-1', 'io.skiff.grace-ms': 'x' })).toMatchObject({ attempt: 0, graceMs: 30_000 });
    expect(readLabels(Object.assign(Object.create({ 'io.skiff.node': 'n1' }), { 'io.skiff.pod.uid': 'u' }))).toBeUndefined(); // inherited keys do not count
    expect(readLabels(null)).toBeUndefined();
  });
});

describe('create options', () => {
  it.each([
    [{}, { PidsLimit: 1024 }],
    [{ memoryBytes: 32 * 2 ** 20 }, { PidsLimit: 1024, Memory: 32 * 2 ** 20, MemorySwap: 32 * 2 ** 20 }],
    [{ cpuMilli: 500 }, { PidsLimit: 1024, CpuPeriod: 100_000, CpuQuota: 50_000, CpuShares: 512 }],
    [{ cpuMilli: 1 }, { PidsLimit: 1024, CpuPeriod: 100_000, CpuQuota: 1000, CpuShares: 2 }],
    [{ cpuMilli: 500, cpuRequestMilli: 250 }, { PidsLimit: 1024, CpuPeriod: 100_000, CpuQuota: 50_000, CpuShares: 256 }],
    [{ cpuRequestMilli: 250 }, { PidsLimit: 1024, CpuShares: 256 }],
    [{ cpuRequestMilli: 1 }, { PidsLimit: 1024, CpuShares: 2 }],
  ])('resources %j', (r, want) => {
    expect(resourceConfig(r)).toEqual(want);
  });

  it('command replaces ENTRYPOINT and drops CMD; args alone replace CMD; mounts, security, sandbox, labels', async () => {
    const dir = await tempDir('skiff-spec-');
    const spec = launch(dir, { image: 'img', pod: 'web', container: 'c', restartCount: 2, env: { A: '1' } });
    spec.mounts = [{ hostPath: '/v/site', mountPath: '/www', readOnly: true }];
    spec.oci = { ...spec.oci!, entrypoint: ['/app'], security: { runAsUser: 1000, capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'], noNewPrivileges: true, readOnlyRootFilesystem: true } };
    const o = createOptions(engine('podman'), spec, spec.oci!, 'img:1', 'sandbox-id', new Date(0));
    expect(o).toMatchObject({ name: 'skiff_c_web_default_uid-web_2', Image: 'img:1', Entrypoint: ['/app'], Cmd: [], Env: ['A=1'], User: '1000', Hostname: 'web' });
    expect(o.HostConfig).toMatchObject({
      NetworkMode: 'container:sandbox-id',
      IpcMode: 'container:sandbox-id',
      Mounts: [{ Type: 'bind', Source: '/v/site', Target: '/www', ReadOnly: true }],
      CapDrop: ['ALL'],
      CapAdd: ['NET_BIND_SERVICE'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'k8s-file' },
    });
    expect(o.Labels).toMatchObject({ 'io.skiff.node': 'n1', 'io.skiff.container.attempt': '2', 'io.skiff.role': 'container' });
    const args = createOptions(engine('docker'), spec, { ...spec.oci!, entrypoint: undefined, cmd: ['-v'] }, 'img:1', undefined, new Date(0));
    expect(args).toMatchObject({ Cmd: ['-v'], HostConfig: { NetworkMode: 'host', LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '5' } } } });
    expect(args.Entrypoint).toBeUndefined();
    expect(args.Hostname).toBeUndefined(); // Docker takes it from the sandbox
    expect(containerName(spec)).toBe('skiff_c_web_default_uid-web_2');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a container's securityContext wins over the pod's", () => {
    const pod = { spec: { securityContext: { runAsUser: 1, runAsGroup: 2 }, containers: [] } } as unknown as Pod;
    expect(mergedSecurity(pod, { name: 'c', securityContext: { runAsUser: 5, allowPrivilegeEscalation: false, privileged: true } })).toEqual({ runAsUser: 5, runAsGroup: 2, privileged: true, noNewPrivileges: true });
  });

  it('publishes each containerPort on a node port: hostPort, the one it had, or a free one', async () => {
    const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 53, protocol: 'UDP', hostPort: 5353 }, { name: 'm', containerPort: 9090, protocol: 'TCP' }] }] } } as unknown as Pod;
    const ports = await publishPorts(pod, [{ containerName: 'c', port: 31111, protocol: 'TCP', containerPort: 80 }]);
    expect(ports.slice(0, 2)).toEqual([
      { containerName: 'c', port: 31111, protocol: 'TCP', containerPort: 80 },
      { containerName: 'c', port: 5353, protocol: 'UDP', containerPort: 53 },
    ]);
    expect(ports[2]).toMatchObject({ containerName: 'c', name: 'm', protocol: 'TCP', containerPort: 9090 });
    expect(ports[2].port).toBeGreaterThan(1024);
    const zero = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 0, protocol: 'TCP' }] }] } } as unknown as Pod;
    await expect(publishPorts(zero, [])).rejects.toThrow(/container "c": ports: a container pod's containerPort must be 1–65535/);
  });
});

describe('the pause executable', () => {
  it.each(pauseArchs)('%s: a static ELF executable with one loadable segment, entry right after the headers', (arch) => {
    const b = pauseElf(arch)!;
    expect(b.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    const is64 = b[4] === 2;
    expect(b.readUInt16LE(16)).toBe(2); // ET_EXEC
    const entry = is64 ? Number(b.readBigUInt64LE(24)) : b.readUInt32LE(24);
    const base = is64 ? 0x400000 : 0x10000;
    expect(entry - base).toBe(is64 ? 120 : 84);
    expect(b.length).toBeLessThan(160);
  });

  it('none for an architecture it does not know', () => {
    expect(pauseElf('mips')).toBeUndefined();
  });
});

describe('endpoints', () => {
  it.each([
    ['unix:///run/podman/podman.sock', { socketPath: '/run/podman/podman.sock' }],
    ['/var/run/docker.sock', { socketPath: '/var/run/docker.sock' }],
    ['tcp://10.0.0.5:2375', { host: '10.0.0.5', port: 2375 }],
    ['tcp://[fd00::1]:2375', { host: 'fd00::1', port: 2375 }],
    ['ssh://pi@board', undefined],
    ['tcp://host:99999', undefined],
    ['unix://', undefined],
  ])('%s', (url, want) => {
    expect(parseEndpoint(url)).toEqual(want);
  });

  it('tries the option alone, else DOCKER_HOST then the default sockets', () => {
    expect(candidateEndpoints('unix:///x.sock', { DOCKER_HOST: 'tcp://a:1' })).toEqual(['unix:///x.sock']);
    expect(candidateEndpoints(undefined, { DOCKER_HOST: 'tcp://a:1' })).toEqual(['tcp://a:1', 'unix:///var/run/docker.sock', 'unix:///run/podman/podman.sock']);
    expect(candidateEndpoints(undefined, {})).toEqual(['unix:///var/run/docker.sock', 'unix:///run/podman/podman.sock']);
  });

  it("reads Docker's and Podman's /version", () => {
    expect(runtimeVersion(engineOf({ Version: '24.0.7', ApiVersion: '1.43', Components: [{ Name: 'Engine', Version: '24.0.7' }] }))).toBe('docker://24.0.7');
    expect(runtimeVersion(engineOf({ Version: '4.3.1', ApiVersion: '1.41', Components: [{ Name: 'Podman Engine', Version: '4.3.1' }] }))).toBe('podman://4.3.1');
    expect(engineOf('nonsense')).toEqual({ engine: 'docker', version: 'unknown', apiVersion: '1.41' });
  });
});

describe('engine streams and states', () => {
  const frame = (stream: number, text: string) => {
    const head = Buffer.alloc(8);
    head[0] = stream;
    head.writeUInt32BE(Buffer.byteLength(text), 4);
    return Buffer.concat([head, Buffer.from(text)]);
  };

  it('demultiplexes frames split anywhere', () => {
    const all = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'ünïcode\n')]);
    for (let cut = 0; cut <= all.length; cut++) {
      const got: string[] = [];
      const d = new Demuxer((s, p) => got.push(`${s}:${p}`));
      d.push(all.subarray(0, cut));
      d.push(all.subarray(cut));
      expect(got).toEqual(['stdout:out\n', 'stderr:err\n', 'stdout:ünïcode\n']);
    }
  });

  it.each([
    [{ ExitCode: 0, FinishedAt: '2026-01-01T00:00:01Z' }, false, { exitCode: 0, reason: 'Completed' }],
    [{ ExitCode: 3 }, false, { exitCode: 3, reason: 'Error' }],
    [{ ExitCode: 137 }, true, { exitCode: 137, reason: 'OOMKilled' }],
    [{ ExitCode: 137, OOMKilled: true }, false, { exitCode: 137, reason: 'OOMKilled' }],
    [{ ExitCode: 0 }, true, { exitCode: 0, reason: 'Completed' }],
    [{ ExitCode: 127, Error: 'exec failed' }, false, { exitCode: 127, reason: 'Error', message: 'exec failed' }],
    [undefined, false, { exitCode: 137, reason: 'Error' }],
  ])('exit of %j (cgroup OOM %s)', (state, oom, want) => {
    expect(exitOf(state, oom)).toMatchObject(want);
  });
});

describe('the OOM counter', () => {
  it('is memory.oom_control on cgroup v1 and memory.events on v2, found from /proc/<pid>/cgroup', async () => {
    const root = await tempDir('skiff-oom-');
    const proc = path.join(root, 'proc');
    fs.mkdirSync(path.join(proc, '7'), { recursive: true });
    fs.mkdirSync(path.join(proc, 'self'), { recursive: true });
    fs.writeFileSync(path.join(proc, '7', 'cgroup'), '12:pids:/libpod/x\n4:memory:/libpod_parent/libpod-abc\n0::/libpod/x\n');
    expect(oomCounterFile(7, proc, '/sys/fs/cgroup')).toBe('/sys/fs/cgroup/memory/libpod_parent/libpod-abc/memory.oom_control');
    const cg = path.join(root, 'cg2');
    fs.mkdirSync(path.join(cg, 'system.slice', 'c1'), { recursive: true });
    fs.writeFileSync(path.join(cg, 'system.slice', 'c1', 'memory.events'), 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n');
    fs.writeFileSync(path.join(proc, '7', 'cgroup'), '0::/system.slice/c1\n');
    fs.writeFileSync(path.join(proc, 'self', 'mountinfo'), `30 23 0:26 / ${cg} rw,nosuid - cgroup2 cgroup2 rw\n`);
    const file = oomCounterFile(7, proc);
    expect(file).toBe(path.join(cg, 'system.slice', 'c1', 'memory.events'));
    expect(readOomKills(file!)).toBe(1);
    expect(readOomKills(path.join(root, 'nope'))).toBeUndefined();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("and the kernel's log, for a kill the poll missed: a memcg OOM kill naming the container", async () => {
    const root = await tempDir('skiff-kmsg-');
    const id = 'c8a76d744a4c9812172c1514fcb89cbdff82a8bb08f63134ffa7adfb0d4e915a';
    const kmsg = path.join(root, 'kmsg');
    fs.writeFileSync(kmsg, [
      '4,2001,11572839686,-;dd invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
      `6,2002,11572840044,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=libpod-${id},mems_allowed=0,oom_memcg=/libpod_parent/libpod-${id},task_memcg=/libpod_parent/libpod-${id},task=dd,pid=7900,uid=0`,
      ' SUBSYSTEM=memory',
      '',
    ].join('\n'));
    expect(oomKillLogged(id, kmsg)).toBe(true);
    expect(oomKillLogged('0'.repeat(64), kmsg)).toBe(false);
    expect(oomKillLogged('not an id', kmsg)).toBe(false);
    expect(oomKillLogged(id, path.join(root, 'none'))).toBe(false);
    fs.rmSync(root, { recursive: true, force: true });
  });
});

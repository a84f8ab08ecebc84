/** Pure pieces of the agent, table-driven: back-off, CLI parsing, /proc parsing, log tails, names, desired checks. */
import { describe, expect, it, vi } from 'vitest';
import { dnsSafeName } from '../../edge-agent/config.js';
import { checkDesired } from '../../edge-agent/desired.js';
import { allocatableOf, capacityOf } from '../../edge-agent/facts.js';
import { main, parseArgs } from '../../edge-agent/main.js';
import { CrashBackoff } from '../../edge-agent/pods/backoff.js';
import { expand } from '../../edge-agent/pods/env.js';
import { parseStat } from '../../edge-agent/procfs.js';
import { tail } from '../../edge-agent/rpc/logs.js';
import { backoffDelay } from '../../edge-agent/session.js';
import { treeOf } from '../../edge-agent/metrics.js';

describe('CrashBackoff', () => {
  it('restarts at once, then 10 s doubling to 300 s, and resets after 10 minutes of running', () => {
    const b = new CrashBackoff({ initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 });
    expect([1, 1, 1, 1, 1, 1, 1, 1].map(() => b.next(1000))).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    expect(b.next(600_000)).toBe(0);
    expect(b.next(5)).toBe(10_000);
  });
});

describe('reconnect back-off', () => {
  it.each([
    // Full jitter: uniform in [0, min(5 s, 500 ms × 2^attempt)] (test/unit/backoff.test.ts has the fleet view).
    [0, 0, 0], [0, 0.999, 500], [1, 0.5, 500], [3, 0.5, 2000], [6, 0.5, 2500], [40, 0, 0], [40, 0.999, 4995],
  ])('attempt %i, random %f → %i ms', (attempt, r, want) => {
    expect(backoffDelay(attempt, 500, 5000, () => r)).toBe(want);
  });
});

describe('parseArgs', () => {
  it('reads every flag', () => {
    expect(parseArgs(['join', '--master', 'mqtt://10.0.0.1:1883', '--token', 't', '--name', 'pi-a', '--data-dir', '/d', '--labels', 'zone=a,disk=ssd', '--address', '10.0.0.2', '--lease-interval=500ms'])).toEqual({
      cmd: 'join',
      options: { master: 'mqtt://10.0.0.1:1883', token: 't', name: 'pi-a', dataDir: '/d', labels: { zone: 'a', disk: 'ssd' }, address: '10.0.0.2', leaseIntervalMs: 500 },
    });
    expect(parseArgs(['--help'])).toEqual({ cmd: 'help' });
    expect(parseArgs(['stop', '--data-dir', '/d', '--pods', '--timeout=5s'])).toEqual({ cmd: 'stop', dataDir: '/d', pods: true, timeoutMs: 5000 });
    expect(parseArgs(['stop'])).toMatchObject({ cmd: 'stop', pods: false, timeoutMs: 30_000 });
    expect(parseArgs(['join', '--master', 'mqtt://x:1', '--container-endpoint', 'unix:///run/podman/podman.sock', '--pod-network', 'host'])).toMatchObject({ options: { containerEndpoint: 'unix:///run/podman/podman.sock', podNetwork: 'host' } });
    expect(parseArgs(['join', '--master', 'mqtt://x:1', '--container-endpoint=none'])).toMatchObject({ options: { containerEndpoint: false } });
    expect(parseArgs(['image', 'load', 'app.tar', '--container-endpoint', 'unix:///s.sock', '--data-dir', '/d'])).toEqual({ cmd: 'image-load', file: 'app.tar', dataDir: '/d', endpoint: 'unix:///s.sock' });
  });
  it.each([
    [['join', '--discovery-timeout', 'soon'], '--discovery-timeout must be a duration'], // no --master: found by mDNS (test/unit/discovery.test.ts)
    [['join', '--master', 'http://x'], '--master must look like mqtt://HOST:PORT'],
    [['join', '--master', 'mqtt://x:1', '--token'], '--token needs a value'],
    [['join', '--master', 'mqtt://x:1', '--colour', 'red'], 'unknown flag --colour'],
    [['join', '--master', 'mqtt://x:1', '--labels', 'novalue'], '--labels: "novalue" is not k=v'],
    [['join', '--master', 'mqtt://x:1', '--lease-interval', 'soon'], '--lease-interval must be a duration'],
    [['leave'], 'unknown command "leave"'],
    [['stop', '--master', 'mqtt://x:1'], 'unknown flag --master'],
    [['stop', '--timeout', 'later'], '--timeout must be a duration'],
    [['join', '--master', 'mqtt://x:1', '--pod-network', 'overlay'], '--pod-network must be auto, bridge or host'],
    [['image', 'save'], 'unknown image command "save"'],
    [['image', 'load'], 'image load needs a file'],
    [['image', 'load', 'a.tar', '--pods'], 'unknown flag --pods'],
  ])('%j → %s', (argv, msg) => {
    expect(() => parseArgs(argv)).toThrow(msg);
  });
  it('main exits 1 naming the flag, for parse errors and option rules alike', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['join', '--master', 'mqtt://127.0.0.1:1', '--name', 'Not_Valid'])).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/^skiff-agent: --name: name: must be a DNS subdomain/);
      expect(await main(['join', '--discovery-timeout', '0s'])).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toContain('--discovery-timeout must be a duration');
      expect(await main(['join', '--master', 'mqtt://127.0.0.1:1', '--container-endpoint', 'ftp://x'])).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/^skiff-agent: --container-endpoint: containerEndpoint: must be unix:\/\/\/path\/to\.sock or tcp:\/\/host:port/);
    } finally {
      err.mockRestore();
    }
  });
});

describe('small parsers', () => {
  it.each([
    ['My_Pi.Local', 'my-pi.local'], ['--x--', 'x'], ['ÄÖ', 'node'], ['raspberrypi', 'raspberrypi'],
  ])('dnsSafeName(%s) = %s', (h, want) => expect(dnsSafeName(h)).toBe(want));
  it.each([
    ['a\nb\nc\n', 2, 'b\nc\n'], ['a\nb\nc', 1, 'c'], ['a\n', 5, 'a\n'], ['a\nb\n', 0, ''], ['x', undefined, 'x'],
  ])('tail(%j, %s)', (text, n, want) => expect(tail(text, n)).toBe(want));
  it.each([
    ['$(A)-$(B)', 'a-$(B)'], ['$$(A)', '$(A)'], ['$$', '$'], ['$A', '$A'], ['$(A', '$(A'],
  ])('expand(%s)', (s, want) => expect(expand(s, { A: 'a' })).toBe(want));
  it('parses a /proc stat line whose comm has spaces and parentheses', () => {
    const line = '4242 (my (weird) proc) S 1 4242 4242 0 -1 4194304 100 0 0 0 12 34 0 0 20 0 1 0 987654 1000000 250 18446744073709551615';
    expect(parseStat(line)).toMatchObject({ pid: 4242, state: 'S', ppid: 1, pgrp: 4242, cpuTicks: 46, startTime: 987654, rssPages: 250 });
    expect(parseStat('garbage')).toBeUndefined();
  });
  it('collects a process tree and its process group', () => {
    const p = (pid: number, ppid: number, pgrp = pid) => ({ pid, ppid, pgrp, state: 'S', cpuTicks: 0, startTime: 0, rssPages: 1 });
    const stats = [p(10, 1), p(11, 10, 10), p(12, 11, 12), p(13, 1, 10), p(20, 1)];
    expect(treeOf(stats, [10]).map((s) => s.pid).sort()).toEqual([10, 11, 12, 13]);
  });
  it('capacity and allocatable keep the documented reserve', () => {
    const f = { hostname: 'h', arch: 'arm64', os: 'linux', kernel: '6', cpus: 4, memoryBytes: 4 * 2 ** 30, agentVersion: '0', nodeVersion: 'v18' };
    expect(capacityOf(f)).toEqual({ cpu: '4', memory: '4194304Ki', pods: '110' });
    expect(allocatableOf(f)).toEqual({ cpu: '3900m', memory: `${4194304 - 209716}Ki`, pods: '110' });
    expect(allocatableOf({ ...f, cpus: 1, memoryBytes: 512 * 2 ** 20 }).memory).toBe(`${512 * 1024 - 64 * 1024}Ki`);
  });
});

describe('checkDesired', () => {
  const pod = (over: Record<string, unknown> = {}) => ({ metadata: { name: 'p', uid: 'u1' }, spec: { containers: [{ name: 'c', command: ['x'] }] }, ...over });
  it.each([
    [{ generation: 1, pods: [pod()] }, undefined],
    [{ generation: -1, pods: [] }, 'generation'],
    [{ generation: 1 }, 'pods: must be a list'],
    [{ generation: 1, pods: [pod(), pod()] }, 'duplicate'],
    [{ generation: 1, pods: [pod({ metadata: { name: 'p', uid: 'a/b' } })] }, 'metadata.uid'],
    [{ generation: 1, pods: [pod({ spec: { containers: [{ name: 'c', args: [1] }] } })] }, 'args'],
    [{ generation: 1, pods: [pod({ spec: { containers: [{ name: 'c' }], restartPolicy: 'Sometimes' } })] }, 'restartPolicy'],
    [{ generation: 1, pods: [], secrets: [] }, 'secrets'],
  ])('%j → %s', (v, problem) => {
    const r = checkDesired(v);
    if (problem === undefined) expect(r.ok).toBe(true);
    else expect(r.ok === false && r.error).toContain(problem);
  });
});

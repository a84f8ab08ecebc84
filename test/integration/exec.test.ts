/** `skiff exec` end to end: the CLI's main in-process → master → agent → a real process, and back. */
import { mkdtemp, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import type { Pod } from '../../protocol/index.js';
import { alive, eventually, isRunningReady, startCluster, type TestCluster } from '../helpers/cluster.js';

describe('exec', () => {
  let c: TestCluster;
  let workDir: string;
  let port: number;

  /** Runs `skiff ...` in-process; stdout and stderr kept apart. */
  const cli = async (args: string[], signal?: AbortSignal) => {
    const r = { code: -1, out: '', err: '' };
    const io = { stdout: (s: string) => void (r.out += s), stderr: (s: string) => void (r.err += s), readStdin: async () => '', env: {}, signal };
    r.code = await main(['--server', c.master.url, '--token', c.master.adminToken, 'exec', ...args], io);
    return r;
  };

  beforeAll(async () => {
    c = await startCluster(['x1']);
    workDir = await realpath(await mkdtemp(join(tmpdir(), 'skiff-exec-wd-')));
    await c.apply(`apiVersion: v1
kind: Pod
metadata: {name: box}
spec:
  containers:
  - name: main
    command: [sh, -c, 'exec sleep 1000']
    workingDir: ${JSON.stringify(workDir)}
    env: [{name: GREETING, value: hello}]
    ports: [{name: http, containerPort: 0}]
  - name: side
    command: [sh, -c, 'exec sleep 1000']
---
apiVersion: v1
kind: Pod
metadata: {name: finished}
spec:
  restartPolicy: Never
  containers: [{name: once, command: ['true']}]
`);
    const pods = await eventually(async () => {
      const ps = await c.pods();
      const box = ps.find((p) => p.metadata.name === 'box');
      const fin = ps.find((p) => p.metadata.name === 'finished');
      return box && isRunningReady(box) && fin?.status?.phase === 'Succeeded' && ps;
    }, 'box running and finished done', 20_000);
    port = (pods.find((p) => p.metadata.name === 'box') as Pod).status!.ports!.find((p) => p.containerName === 'main')!.port;
  }, 60_000);
  afterAll(async () => c?.stop());

  it('separates stdout and stderr and exits with the command exit code, as kubectl does', async () => {
    const r = await cli(['box', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toEqual({ code: 3, out: 'out\n', err: 'err\ncommand terminated with exit code 3\n' });
    const ok = await cli(['pod/box', '--', 'echo', 'fine']);
    expect(ok).toEqual({ code: 0, out: 'fine\n', err: '' });
  }, 20_000);

  it("runs with the container's env and workingDir", async () => {
    expect(port).toBeGreaterThan(0);
    const r = await cli(['box', '--', 'sh', '-c', 'echo $HOSTNAME $PORT $PORT_HTTP $GREETING; pwd']);
    expect(r).toEqual({ code: 0, out: `box ${port} ${port} hello\n${workDir}\n`, err: '' });
    // The other container has no workingDir and no GREETING: its own env, not its sibling's.
    const side = await cli(['box', '-c', 'side', '--', 'sh', '-c', 'echo "[$GREETING]"']);
    expect(side).toEqual({ code: 0, out: '[]\n', err: '' });
  }, 20_000);

  it('names what is wrong: unknown pod, unknown container, no command, a container not running, a missing executable', async () => {
    const ghost = await cli(['ghost', '--', 'true']);
    expect(ghost.code).toBe(1);
    expect(ghost.err).toMatch(/^error: .*ghost.*not found/);
    const noC = await cli(['box', '-c', 'nope', '--', 'true']);
    expect(noC).toMatchObject({ code: 1, out: '' });
    expect(noC.err).toBe('error: container "nope" is not in pod "box" (containers: main, side)\n');
    const noCmd = await cli(['box', '--']);
    expect(noCmd.code).toBe(1);
    expect(noCmd.err).toContain('skiff exec: a command is required after --');
    const stopped = await cli(['finished', '--', 'true']);
    expect(stopped.code).toBe(1);
    expect(stopped.err).toContain('container "once" is not running');
    const missing = await cli(['box', '--', 'no-such-binary-xyz']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('"no-such-binary-xyz"');
    expect(missing.err).toContain('executable file not found');
  }, 20_000);

  it('Ctrl-C cancels the command and leaves no process behind', async () => {
    const ac = new AbortController();
    let printed = '';
    const run = (async () => {
      const r = { code: -1, out: '', err: '' };
      const io = { stdout: (s: string) => void ((r.out += s), (printed += s)), stderr: (s: string) => void (r.err += s), readStdin: async () => '', env: {}, signal: ac.signal };
      r.code = await main(['--server', c.master.url, '--token', c.master.adminToken, 'exec', 'box', '--', 'sh', '-c', 'sleep 1000 & echo $$ $!; wait'], io);
      return r;
    })();
    // An exec that fails early ends `run`: its outcome is then the failure, not a wait for pids that never come.
    const early = run.then((r) => ({ ended: r }));
    const seen = await Promise.race([eventually(() => /^(\d+) (\d+)\n/.exec(printed), 'the shell and sleep pids', 10_000), early]);
    if ('ended' in seen) throw new Error(`exec ended before the cancel: ${JSON.stringify(seen.ended)}`);
    const pids = seen.slice(1).map(Number);
    expect(pids.every(alive)).toBe(true);
    ac.abort();
    expect((await run).code).toBe(130);
    await eventually(() => pids.every((p) => !alive(p)), `pids ${pids.join(', ')} gone after the cancel`, 10_000);
  }, 30_000);

  it('kills the command at its deadline (--timeout)', async () => {
    const started = Date.now();
    const r = await cli(['box', '--timeout', '1s', '--', 'sh', '-c', 'sleep 1000 & echo $!; wait']);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(r.code).toBe(1);
    expect(r.err).toContain('did not finish within 1s; killed');
    const pid = Number(r.out.trim());
    expect(pid).toBeGreaterThan(1);
    await eventually(() => !alive(pid), `sleep ${pid} gone after the deadline`, 5000);
  }, 20_000);
});

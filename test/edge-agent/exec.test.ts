/** The exec RPC on a real agent: stream tagging and order, large and multi-byte output, signals, state and param errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import type { RpcResponse } from '../../protocol/messages.js';
import { FakeMaster, JOIN_TOKEN, memoryLogger, podWith, sh, tempDir, until } from './helpers.js';

describe('edge agent: exec RPC', () => {
  let master: FakeMaster;
  let agent: Agent;
  const node = 'pi-exec';
  const pod = podWith('shell', sh('exec sleep 1000'));
  // Crashes once and then waits a minute in CrashLoopBackOff: a container that exists but is not running.
  const crashing = podWith('crashing', sh('exit 1'));

  /** Calls exec and waits for the message with `done`; returns every message of the stream. */
  const run = async (params: Record<string, unknown>): Promise<RpcResponse[]> => {
    const id = await master.call(node, 'exec', params);
    await until(() => master.rpc.get(id)?.some((r) => r.done || !r.ok), `exec ${id} done`);
    return master.rpc.get(id)!;
  };
  const text = (msgs: RpcResponse[], stream: string) => msgs.filter((m) => m.stream === stream).map((m) => m.chunk).join('');

  beforeAll(async () => {
    master = await new FakeMaster().start();
    agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: node, dataDir: tempDir(), address: '127.0.0.1', logger: memoryLogger(), crashLoop: { initialMs: 60_000 } });
    await until(() => agent.connected, 'connected');
    await master.desire(node, { generation: 1, pods: [pod, crashing] });
    await until(() => master.pods.get(pod.metadata.uid!)?.phase === 'Running', 'shell running');
    await until(() => master.pods.get(crashing.metadata.uid!)?.containerStatuses?.[0].state?.waiting?.reason === 'CrashLoopBackOff', 'crashing in back-off');
  }, 30_000);
  afterAll(async () => {
    await agent.stop();
    await master.close();
  });

  it('tags each chunk with its stream, keeps the order of writes, and ends with the exit code', async () => {
    const msgs = await run({ name: 'shell', command: ['sh', '-c', 'echo a; sleep 0.1; echo b >&2; sleep 0.1; echo c; exit 7'] });
    expect(msgs.filter((m) => m.chunk !== undefined).map((m) => [m.stream, m.chunk])).toEqual([
      ['stdout', 'a\n'],
      ['stderr', 'b\n'],
      ['stdout', 'c\n'],
    ]);
    expect(msgs[msgs.length - 1]).toMatchObject({ ok: true, done: true, result: { exitCode: 7 } });
  });

  it('carries big output in chunks of at most 64 KiB and multi-byte characters whole', async () => {
    // 300 KB of "é" (2 bytes each) written in odd-sized pieces, so reads split characters.
    const msgs = await run({ name: 'shell', command: ['node', '-e', "const s = 'é'.repeat(150000); const b = Buffer.from(s); for (let i = 0; i < b.length; i += 4097) process.stdout.write(b.subarray(i, i + 4097))"] });
    const out = text(msgs, 'stdout');
    expect(out.length).toBe(150_000);
    expect(out).toBe('é'.repeat(150_000));
    expect(Math.max(...msgs.map((m) => m.chunk?.length ?? 0))).toBeLessThanOrEqual(64 << 10);
    expect(msgs[msgs.length - 1].result).toEqual({ exitCode: 0 });
  });

  it('reports a signal death as 128 + the signal number', async () => {
    const msgs = await run({ name: 'shell', command: ['sh', '-c', 'kill -9 $$'] });
    expect(msgs[msgs.length - 1]).toMatchObject({ ok: true, done: true, result: { exitCode: 137, signal: 'SIGKILL' } });
  });

  it('refuses a container that is not running, and bad params, naming the field', async () => {
    const [notRunning] = await run({ name: 'crashing', command: ['true'] });
    expect(notRunning).toMatchObject({ ok: false, error: { code: 'SKIFF_ERR_UNAVAILABLE' } });
    expect(notRunning.error?.message).toContain('container "main" is not running');
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'shell' }, 'params.command: is required'],
      [{ name: 'shell', command: [] }, 'params.command: must name a command'],
      [{ name: 'shell', command: 'ls' }, 'params.command: must be a list'],
      [{ name: 'shell', command: ['ls'], timeoutSeconds: 0 }, 'params.timeoutSeconds: must be an integer ≥ 1'],
      [{ command: ['ls'] }, 'params.name: is required'],
    ];
    for (const [params, msg] of cases) {
      const [r] = await run(params);
      expect(r, JSON.stringify(params)).toMatchObject({ ok: false, error: { code: 'SKIFF_ERR_BAD_REQUEST' } });
      expect(r.error?.message).toContain(msg);
    }
  });
});

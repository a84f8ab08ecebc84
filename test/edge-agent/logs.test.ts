/** The logs RPC: text, tail, previous, follow + cancel, follow ending with the container, errors. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import { FakeMaster, JOIN_TOKEN, memoryLogger, podWith, sh, tempDir, until } from './helpers.js';

describe('edge agent: logs RPC', () => {
  let master: FakeMaster;
  let agent: Agent;
  const node = 'pi-logs';
  const answer = (id: string) => until(() => master.rpc.get(id)?.[0], `answer to ${id}`);

  beforeEach(async () => {
    master = await new FakeMaster().start();
    agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: node, dataDir: tempDir(), address: '127.0.0.1', logger: memoryLogger(), crashLoop: { initialMs: 60_000 } });
    await until(() => agent.connected, 'connected');
  });
  afterEach(async () => {
    await agent.stop();
    await master.close();
  });

  it('returns stdout and stderr, tails lines, reads the previous attempt, and names what is missing', async () => {
    const pod = podWith('talker', sh('echo hello; echo oops >&2; echo line3; exec sleep 1000'));
    const twice = podWith('twice', sh('echo attempt; exit 1'));
    await master.desire(node, { generation: 1, pods: [pod, twice] });
    await until(() => master.pods.get(pod.metadata.uid!)?.phase === 'Running', 'running');

    const first = await answer(await master.call(node, 'logs', { namespace: 'default', name: 'talker' }));
    expect(first).toMatchObject({ ok: true });
    // The shell may not have written all three lines by the first call; ask until it has.
    const text = await until(async () => {
      const r = await answer(await master.call(node, 'logs', { namespace: 'default', name: 'talker' }));
      return (r.result as string).includes('line3') && (r.result as string);
    }, 'all three lines');
    expect(text).toBe('hello\noops\nline3\n');
    const t1 = await answer(await master.call(node, 'logs', { namespace: 'default', name: 'talker', tailLines: 1 }));
    expect(t1.result).toBe('line3\n');

    // previous: the attempt before the current one.
    await until(() => master.pods.get(twice.metadata.uid!)?.containerStatuses?.[0].restartCount === 1, 'twice restarted once');
    const prev = await answer(await master.call(node, 'logs', { name: 'twice', previous: true }));
    expect(prev).toMatchObject({ ok: true, result: 'attempt\n' });
    const noPrev = await answer(await master.call(node, 'logs', { name: 'talker', previous: true }));
    expect(noPrev).toMatchObject({ ok: false, error: { code: 'SKIFF_ERR_NOT_FOUND' } });

    const noPod = await answer(await master.call(node, 'logs', { namespace: 'default', name: 'nope' }));
    expect(noPod).toMatchObject({ ok: false, error: { code: 'SKIFF_ERR_NOT_FOUND' } });
    expect(noPod.error?.message).toContain('nope');
    const noC = await answer(await master.call(node, 'logs', { name: 'talker', container: 'sidecar' }));
    expect(noC).toMatchObject({ ok: false, error: { code: 'SKIFF_ERR_NOT_FOUND' } });
    expect(noC.error?.message).toContain('sidecar');
    const badParams = await answer(await master.call(node, 'logs', { tailLines: 3 }));
    expect(badParams).toMatchObject({ ok: false, error: { code: 'SKIFF_ERR_BAD_REQUEST' } });
    const unknown = await answer(await master.call(node, 'reboot', {}));
    expect(unknown).toMatchObject({ ok: false, error: { code: 'SKIFF_ERR_BAD_REQUEST' } });
  });

  it('follow streams new lines until cancelled', async () => {
    const pod = podWith('ticker', sh('i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done'));
    await master.desire(node, { generation: 1, pods: [pod] });
    await until(() => master.pods.get(pod.metadata.uid!)?.phase === 'Running', 'running');
    const id = await master.call(node, 'logs', { name: 'ticker', follow: true });
    await until(() => (master.rpc.get(id) ?? []).map((r) => r.chunk ?? '').join('').includes('tick 5'), 'tick 5 streamed');
    const cancel = await master.call(node, 'cancel', { ref: id });
    expect(await answer(cancel)).toMatchObject({ ok: true });
    await until(() => master.rpc.get(id)?.some((r) => r.done), 'done after cancel');
    const n = master.rpc.get(id)!.length;
    const text = master.rpc.get(id)!.map((r) => r.chunk ?? '').join('');
    expect(text).toMatch(/^tick 0\ntick 1\n/);
    // Nothing more arrives after done: the ticker writes every 50 ms and the follower polled every 200 ms,
    // so two poll periods without a message show the stream really stopped (this checks an absence).
    await new Promise((r) => setTimeout(r, 450));
    expect(master.rpc.get(id)!.length).toBe(n);
  });

  it('follow ends with done when the container ends', async () => {
    const pod = podWith('short', sh('echo a; sleep 0.4; echo b'), { restartPolicy: 'Never' });
    await master.desire(node, { generation: 1, pods: [pod] });
    await until(() => master.pods.get(pod.metadata.uid!)?.phase === 'Running', 'running');
    const id = await master.call(node, 'logs', { name: 'short', follow: true });
    const msgs = await until(() => master.rpc.get(id)?.some((r) => r.done) && master.rpc.get(id)!, 'done when it ended');
    expect(msgs.map((r) => r.chunk ?? '').join('')).toBe('a\nb\n');
    expect(msgs.at(-1)).toMatchObject({ ok: true, done: true });
  });
});

/** Bad input never crashes the agent; a refused credential falls back to the join token once; join failures are clear. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import { encode } from '../../protocol/codec.js';
import { topics } from '../../protocol/topics.js';
import { FakeMaster, JOIN_TOKEN, memoryLogger, podWith, sh, tempDir, until } from './helpers.js';

describe('edge agent: bad input and refused credentials', () => {
  let master: FakeMaster;
  const agents: Agent[] = [];
  beforeEach(async () => {
    master = await new FakeMaster().start();
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    await master.close();
  });

  it('drops garbage on desired and rpc topics with one log line each, and keeps working', async () => {
    const logger = memoryLogger();
    const node = 'pi-garbage';
    const agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: node, dataDir: tempDir(), address: '127.0.0.1', logger });
    agents.push(agent);
    await until(() => agent.connected, 'connected');
    const garbage: (Buffer | string)[] = [
      Buffer.from([0xc1, 0xff, 0x00, 0x13]), // not msgpack
      '{"generation": ', // broken JSON
      '[1,2,3]', // not a map
      encode({ generation: 'seven', pods: [] }),
      encode({ generation: 1, pods: 'all of them' }),
      encode({ generation: 1, pods: [{ metadata: { name: 'x' }, spec: { containers: [] } }] }),
      encode({ generation: 1, pods: [{ metadata: { name: 'x', uid: '../../etc' }, spec: { containers: [{ name: 'c', command: ['true'] }] } }] }),
      encode({ generation: 1, pods: [{ metadata: { name: 'x', uid: 'u1' }, spec: { containers: [{ name: 'c', command: 'rm -rf /' }] } }] }),
      encode({ generation: 1, pods: [{ metadata: { name: 'x', uid: 'u1' }, spec: { containers: [{ name: 'BAD NAME' }] } }] }),
      encode(null),
    ];
    for (const g of garbage) await master.raw(topics.nodeDesired(node), g);
    await master.raw(topics.nodeDesired(node), Buffer.alloc(0)); // an empty (retained-clear) message: "no desired set yet"
    await master.raw(topics.nodeRpcReq(node, 'x1'), Buffer.from([0xc1]));
    await master.raw(topics.nodeRpcReq(node, 'x2'), encode({ id: 'x2', method: 'logs', params: 'nope' }));
    await master.raw(topics.nodeRpcReq(node, 'x3'), encode({ id: 'x3', method: 'logs', params: { name: 42 } }));

    // A valid desired set after all that still works.
    const pod = podWith('survivor', sh('exec sleep 1000'));
    await master.desire(node, { generation: 1, pods: [pod] });
    await until(() => master.pods.get(pod.metadata.uid!)?.phase === 'Running', 'the valid pod running');
    const dropped = logger.lines.filter((l) => l.includes('desired: dropped'));
    expect(dropped.length).toBe(garbage.length);
    expect(logger.lines.filter((l) => l.includes('rpc x1: dropped')).length).toBe(1);
    await until(() => master.rpc.get('x3')?.[0], 'x3 answered');
    expect(master.rpc.get('x3')![0]).toMatchObject({ ok: false, error: { code: 'SKIFF_ERR_BAD_REQUEST' } });
    expect(master.rpc.get('x2')![0]).toMatchObject({ ok: false, error: { code: 'SKIFF_ERR_BAD_REQUEST' } });
    expect(agent.generation).toBe(1);
  });

  it('when the broker refuses the stored credential, joins again with the token file once', async () => {
    const node = 'pi-deleted';
    const dataDir = tempDir();
    const tokenFile = path.join(tempDir(), 'join.token');
    fs.writeFileSync(tokenFile, JOIN_TOKEN + '\n', { mode: 0o600 });
    const agent = await startAgent({ master: master.url, tokenFile, name: node, dataDir, address: '127.0.0.1', logger: memoryLogger(), reconnect: { initialMs: 20, maxMs: 100 } });
    agents.push(agent);
    await until(() => agent.connected, 'connected');
    const first = master.credentials.get(node)!;
    // The master deletes the node: its credential stops working and its connection drops.
    master.credentials.delete(node);
    let joins = 0;
    agent.on('joined', () => joins++);
    master.kick(`skiff-agent-${node}`);
    await until(() => joins === 1 && agent.connected, 're-joined and reconnected');
    const second = master.credentials.get(node)!;
    expect(second).not.toBe(first);
    expect(fs.readFileSync(path.join(dataDir, 'credential'), 'utf8').trim()).toBe(second);
    expect(master.auths.filter((a) => a.clientId === `skiff-agent-${node}` && !a.ok).length).toBeGreaterThanOrEqual(1);
  });

  it('a token given as a value is dropped once the credential is stored: no re-join with it later', async () => {
    const node = 'pi-value';
    const logger = memoryLogger();
    const agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: node, dataDir: tempDir(), address: '127.0.0.1', logger, reconnect: { initialMs: 20, maxMs: 100 } });
    agents.push(agent);
    await until(() => agent.connected, 'connected');
    master.credentials.delete(node);
    const refused = new Promise<string>((r) => agent.once('authRefused', r));
    master.kick(`skiff-agent-${node}`);
    expect(await refused).toBeTruthy();
    expect(master.auths.filter((a) => a.clientId.startsWith('skiff-join-') && a.username === node).length).toBe(1);
    expect(logger.lines.find((l) => l.includes('refused this node'))).toContain('--token');
  });

  it('a refused credential without a token is reported clearly and retried (pods keep running)', async () => {
    const node = 'pi-orphan';
    const dataDir = tempDir();
    fs.writeFileSync(path.join(dataDir, 'credential'), 'stale-credential\n', { mode: 0o600 });
    const logger = memoryLogger();
    const agent = await startAgent({ master: master.url, name: node, dataDir, address: '127.0.0.1', logger, reconnect: { initialMs: 20, maxMs: 50 } });
    agents.push(agent);
    const msg = await new Promise<string>((resolve) => agent.once('authRefused', resolve));
    expect(msg).toMatch(/bad username or password|not authorized/i);
    expect(logger.lines.find((l) => l.includes('refused this node'))).toContain(path.join(dataDir, 'credential'));
    expect(agent.connected).toBe(false);
  });

  it('join: {ok: false} rejects with the master message; a bad token and silence are clear errors', async () => {
    master.joinAnswer = () => ({ ok: false, error: { code: 'SKIFF_ERR_JOIN_REJECTED', message: 'node name pi-x is taken' } });
    await expect(startAgent({ master: master.url, token: JOIN_TOKEN, name: 'pi-x', dataDir: tempDir(), logger: memoryLogger() })).rejects.toThrow('node name pi-x is taken');
    await expect(startAgent({ master: master.url, token: 'wrong-token-0123456789', name: 'pi-y', dataDir: tempDir(), logger: memoryLogger() })).rejects.toThrow(/refused the join token/);
    master.joinAnswer = () => undefined;
    await expect(startAgent({ master: master.url, token: JOIN_TOKEN, name: 'pi-z', dataDir: tempDir(), logger: memoryLogger(), joinTimeoutMs: 300 })).rejects.toThrow(/no answer .* within/);
  });
});

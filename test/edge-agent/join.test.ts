import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import { connectKey } from '../../protocol/join.js';
import { FakeMaster, JOIN_TOKEN, alive, memoryLogger, podWith, readText, sh, tempDir, until } from './helpers.js';

describe('edge agent: join and a first pod', () => {
  let master: FakeMaster;
  const agents: Agent[] = [];
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    await master?.close();
  });

  it('joins with the token, stores the credential 0600, and reconnects with it', async () => {
    master = await new FakeMaster().start();
    const dataDir = tempDir();
    const agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: 'pi-1', dataDir, address: '127.0.0.1', logger: memoryLogger() });
    agents.push(agent);
    await until(() => agent.connected && master.statuses.length > 0, 'agent connected with its credential');
    const cred = master.credentials.get('pi-1');
    expect(cred).toBeTruthy();
    const stat = fs.statSync(path.join(dataDir, 'credential'));
    expect(stat.mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(dataDir, 'credential'), 'utf8').trim()).toBe(cred);
    // The join token never goes over the wire: the joiner connects with its connect key (an HMAC of it).
    const join = master.auths.find((a) => a.clientId.startsWith('skiff-join-'));
    expect(join).toMatchObject({ username: 'pi-1', password: connectKey(JOIN_TOKEN), ok: true });
    expect(master.auths.some((a) => a.password === JOIN_TOKEN)).toBe(false);
    const main = master.auths.find((a) => a.clientId === 'skiff-agent-pi-1');
    expect(main).toMatchObject({ username: 'pi-1', password: cred, ok: true });
    const status = master.statuses.at(-1) as any;
    expect(status).toMatchObject({ node: 'pi-1', online: true, runtimes: ['process', 'wasi'] });
    expect(status.addresses).toContainEqual({ type: 'InternalIP', address: '127.0.0.1' });
    expect(status.capacity.memory).toMatch(/^\d+Ki$/);
    expect(status.capacity.pods).toBe('110');
    expect(['amd64', 'arm64', 'arm']).toContain(status.facts.arch);
  });

  it('runs a desired process pod and reports it Running with a Ready condition', async () => {
    master = await new FakeMaster().start();
    const dataDir = tempDir();
    const agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: 'pi-2', dataDir, address: '127.0.0.1', logger: memoryLogger() });
    agents.push(agent);
    const out = path.join(dataDir, 'out.txt');
    const pod = podWith('hello', sh(`echo $$ > ${out}; exec sleep 1000`));
    await until(() => agent.connected, 'connected');
    await master.desire('pi-2', { generation: 1, pods: [pod] });
    const pid = Number(await until(() => readText(out), 'the pod process to write its pid'));
    expect(alive(pid)).toBe(true);
    const st = await until(() => {
      const s = master.pods.get(pod.metadata.uid!);
      return s?.phase === 'Running' && s.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && s;
    }, 'a Running/Ready report');
    expect(st.containerStatuses?.[0]).toMatchObject({ name: 'main', ready: true, started: true, restartCount: 0 });
    expect(st.hostIP).toBe('127.0.0.1');
    expect(st.podIP).toBe('127.0.0.1');
    for (const t of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) expect(st.conditions?.find((c) => c.type === t)?.lastTransitionTime).toBeTruthy();
  });
});

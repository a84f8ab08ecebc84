/**
 * Process pods that run as another user (securityContext.runAsUser), the way Pod Security's baseline level admits
 * them: the process really runs as that user, owns its volumes (the Secret readable, 0600 on tmpfs), and cannot read
 * the agent's data dir — its node credential, the cache of desired pods. Needs root (the agent switches users);
 * the rules for which pods an agent can start so are checked for every case in memory, as any user.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import { runAsFor, volumeOwner } from '../../edge-agent/pods/user.js';
import { podSecretDir, secretBase } from '../../edge-agent/volumes/tmpfs.js';
import type { DesiredMessage } from '../../protocol/messages.js';
import type { KObject, Pod } from '../../protocol/types.js';
import { FakeMaster, JOIN_TOKEN, memoryLogger, podWith, readText, tempDir, until } from './helpers.js';

const root = { uid: 0, gid: 0 };
const pi = { uid: 1000, gid: 1000 };
const pod = (spec: Partial<Pod['spec']>, sc?: Pod['spec']['containers'][0]['securityContext']) => podWith('p', { command: ['true'], ...(sc ? { securityContext: sc } : {}) }, spec);

describe('which user a process container runs as', () => {
  it.each([
    ['no runAsUser: the agent itself', pod({}), root, {}],
    ['runAsUser, agent root: switches', pod({ securityContext: { runAsUser: 65534 } }), root, { user: { uid: 65534, gid: 65534 } }],
    ['runAsGroup given', pod({ securityContext: { runAsUser: 1001, runAsGroup: 100 } }), root, { user: { uid: 1001, gid: 100 } }],
    ["the container's over the pod's", pod({ securityContext: { runAsUser: 1001 } }, { runAsUser: 1002 }), root, { user: { uid: 1002, gid: 1002 } }],
    ['runAsUser = the agent: no switch', pod({ securityContext: { runAsUser: 1000, runAsGroup: 1000 } }), pi, {}],
    ['runAsUser, agent not root: refused', pod({ securityContext: { runAsUser: 65534 } }), pi, { refusal: 'container "main": runAsUser 65534 needs the agent to run as root to switch users (it runs as uid 1000)' }],
    ['runAsNonRoot as root: refused', pod({ securityContext: { runAsNonRoot: true } }), root, { refusal: 'container "main" has runAsNonRoot and would run as root (set securityContext.runAsUser)' }],
    ['runAsNonRoot, agent not root: its own user', pod({ securityContext: { runAsNonRoot: true } }), pi, {}],
  ] as const)('%s', (_what, p, agent, want) => {
    expect(runAsFor(p, p.spec.containers[0], agent)).toEqual(want);
  });

  it('volumes belong to the one user every container runs as, else to the agent', () => {
    expect(volumeOwner([{ uid: 5, gid: 5 }, { uid: 5, gid: 5 }])).toEqual({ uid: 5, gid: 5 });
    expect(volumeOwner([{ uid: 5, gid: 5 }, undefined])).toBeUndefined();
    expect(volumeOwner([{ uid: 5, gid: 5 }, { uid: 6, gid: 6 }])).toBeUndefined();
  });
});

describe.skipIf(process.getuid?.() !== 0)('a process pod with runAsUser, on a root agent', () => {
  let master: FakeMaster;
  let agent: Agent;
  let dir: string;
  const node = 'pi-user';
  let generation = 0;
  const desire = (d: Omit<DesiredMessage, 'generation'>) => master.desire(node, { generation: ++generation, ...d });

  beforeEach(async () => {
    master = await new FakeMaster().start();
    dir = tempDir();
    agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: node, dataDir: dir, address: '127.0.0.1', logger: memoryLogger() });
    await until(() => agent.connected, 'connected');
  });
  afterEach(async () => {
    await agent.stop();
    await master.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs as that user, reads its Secret, and cannot read the agent’s credential or cache', async () => {
    const script = [
      'out=$SKIFF_VOLUME_SCRATCH',
      'id -u > $out/uid',
      'cat $SKIFF_VOLUME_CREDS/password > $out/pw',
      `cat ${path.join(dir, 'credential')} > $out/stolen 2>/dev/null || echo denied > $out/stolen`,
      // The cache is written after the pod starts: wait until it exists (the data dir's x bit lets anyone stat a known name).
      `i=0; while [ ! -e ${path.join(dir, 'desired.msgpack')} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done`,
      `cat ${path.join(dir, 'desired.msgpack')} > $out/cache 2>/dev/null || echo denied > $out/cache`,
      `ls ${dir} > $out/listing 2>/dev/null || echo denied > $out/listing`,
      'echo done > $out/done; exec sleep 60',
    ].join('; ');
    const p = podWith('nobody', { command: ['/bin/sh', '-c', script], volumeMounts: [{ name: 'creds', mountPath: '/c' }, { name: 'scratch', mountPath: '/s' }] }, {
      securityContext: { runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true },
      volumes: [{ name: 'creds', secret: { secretName: 'db' } }, { name: 'scratch', emptyDir: {} }],
    });
    const secret: KObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { password: Buffer.from('hunter2').toString('base64') } };
    await desire({ pods: [p], secrets: { 'default/db': secret } });
    const scratch = path.join(dir, 'pods', p.metadata.uid!, 'volumes', 'scratch');
    await until(() => readText(path.join(scratch, 'done')) === 'done', 'the pod to finish its checks');
    expect(readText(path.join(scratch, 'uid'))).toBe('65534');
    expect(readText(path.join(scratch, 'pw'))).toBe('hunter2');
    // The files exist (root reads them): the pod was denied by their permissions, not by their absence.
    expect(fs.existsSync(path.join(dir, 'credential')) && fs.existsSync(path.join(dir, 'desired.msgpack'))).toBe(true);
    expect(readText(path.join(scratch, 'stolen'))).toBe('denied');
    expect(readText(path.join(scratch, 'cache'))).toBe('denied');
    expect(readText(path.join(scratch, 'listing'))).toBe('denied');
    const base = secretBase(dir);
    if (!('dir' in base)) throw new Error(base.why);
    const file = fs.statSync(path.join(podSecretDir(base.dir, p.metadata.uid!), 'creds', 'password'));
    expect({ uid: file.uid, mode: file.mode & 0o777 }).toEqual({ uid: 65534, mode: 0o600 });
  });
});

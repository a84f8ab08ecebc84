/**
 * Volumes of real process pods through the agent: a ConfigMap update reaches the mounted file while the env
 * keeps its value, Secret files are 0600, emptyDir survives a container restart, a missing ConfigMap holds
 * the pod in CreateContainerConfigError until it arrives, mounts inside workingDir are symlinks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import type { DesiredMessage } from '../../protocol/messages.js';
import type { KObject, Pod } from '../../protocol/types.js';
import { podSecretDir, secretBase } from '../../edge-agent/volumes/tmpfs.js';
import { FakeMaster, JOIN_TOKEN, memoryLogger, podWith, readText, sh, tempDir, until } from './helpers.js';

const configMap = (data: Record<string, string>): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' }, data });

describe('edge agent: volumes', () => {
  let master: FakeMaster;
  let agent: Agent;
  let dir: string;
  const node = 'pi-vol';
  let generation = 0;
  const desire = (d: Omit<DesiredMessage, 'generation'>) => master.desire(node, { generation: ++generation, ...d });
  const statusOf = (p: Pod) => master.pods.get(p.metadata.uid!);

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

  it('a ConfigMap update reaches the mounted file; the env var keeps its value until a restart', async () => {
    const out = path.join(dir, 'seen');
    // Every 100 ms the process writes "<file content>|<env value>" (a mounted file and an env var from the same key).
    const pod = podWith('reader', {
      ...sh(`while true; do echo "$(cat $SKIFF_VOLUME_CONFIG/mode)|$MODE" > ${out}.tmp; mv ${out}.tmp ${out}; sleep 0.1; done`),
      env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } }],
      volumeMounts: [{ name: 'config', mountPath: '/etc/reader' }],
    }, { volumes: [{ name: 'config', configMap: { name: 'settings' } }] });
    await desire({ pods: [pod], configMaps: { 'default/settings': configMap({ mode: 'fast' }) } });
    await until(() => readText(out) === 'fast|fast', 'the first content');
    const t0 = Date.now();
    await desire({ pods: [pod], configMaps: { 'default/settings': configMap({ mode: 'slow' }) } });
    await until(() => readText(out) === 'slow|fast', 'the updated file (env unchanged)', 5000);
    console.log(`ConfigMap update → file seen by the process: ${Date.now() - t0} ms (includes the process's 100 ms poll)`);
    expect(statusOf(pod)?.containerStatuses?.[0]?.restartCount).toBe(0);
    // The volume sits in the pod's data dir, kubelet-style.
    const vol = path.join(dir, 'pods', pod.metadata.uid!, 'volumes', 'config');
    expect(fs.readlinkSync(path.join(vol, 'mode'))).toBe('..data/mode');
  });

  it('Secret files are decoded and 0600; emptyDir keeps its files across a container restart', async () => {
    const pod = podWith('keeper', {
      // First run: record the secret and crash; the restart finds the note it left in the emptyDir.
      ...sh(`if [ -f $SKIFF_VOLUME_SCRATCH/note ]; then echo again >> $SKIFF_VOLUME_SCRATCH/note; exec sleep 60; fi; cp $SKIFF_VOLUME_CREDS/password $SKIFF_VOLUME_SCRATCH/note; exit 1`),
      volumeMounts: [{ name: 'creds', mountPath: '/run/creds' }, { name: 'scratch', mountPath: '/scratch' }],
    }, { volumes: [{ name: 'creds', secret: { secretName: 'db' } }, { name: 'scratch', emptyDir: {} }] });
    const secret: KObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { password: Buffer.from('s3cr3t\n').toString('base64') } };
    await desire({ pods: [pod], secrets: { 'default/db': secret } });
    const vols = path.join(dir, 'pods', pod.metadata.uid!, 'volumes');
    await until(() => readText(path.join(vols, 'scratch', 'note')) === 's3cr3t\nagain', 'the note after a restart');
    await until(() => statusOf(pod)?.containerStatuses?.[0]?.restartCount === 1, 'restartCount 1 reported');
    // The Secret is on tmpfs (/dev/shm), not on the board's disk: 0700 directory, 0600 file.
    const base = secretBase(dir);
    if (!('dir' in base)) throw new Error(`no tmpfs here: ${base.why}`);
    const creds = path.join(podSecretDir(base.dir, pod.metadata.uid!), 'creds');
    expect(fs.statSync(path.join(creds, 'password')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(creds).mode & 0o777).toBe(0o700);
    expect(fs.existsSync(path.join(vols, 'creds'))).toBe(false);
    // Deleting the pod takes its Secret out of memory too.
    await desire({ pods: [] });
    await until(() => !fs.existsSync(creds), 'the tmpfs volume removed with the pod');
  });

  it('a missing ConfigMap holds the pod in CreateContainerConfigError until it arrives; an optional one does not', async () => {
    const pod = podWith('waiter', { command: ['/bin/sh', '-c', 'exec sleep 60'], volumeMounts: [{ name: 'c', mountPath: '/c' }] }, { volumes: [{ name: 'c', configMap: { name: 'settings' } }] });
    const relaxed = podWith('relaxed', { command: ['/bin/sh', '-c', 'exec sleep 60'], volumeMounts: [{ name: 'c', mountPath: '/c' }] }, { volumes: [{ name: 'c', configMap: { name: 'other', optional: true } }] });
    await desire({ pods: [pod, relaxed] });
    const s = await until(() => statusOf(pod)?.reason === 'CreateContainerConfigError' && statusOf(pod), 'CreateContainerConfigError');
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses?.[0]?.state.waiting).toEqual({ reason: 'CreateContainerConfigError', message: 'volume "c": configmap "settings" not found' });
    await until(() => statusOf(relaxed)?.phase === 'Running', 'the optional one running');
    await desire({ pods: [pod, relaxed], configMaps: { 'default/settings': configMap({ a: '1' }) } });
    await until(() => statusOf(pod)?.phase === 'Running', 'running once the ConfigMap arrived');
  });

  it('links a mount inside workingDir, and removes the link with the pod', async () => {
    const wd = tempDir('skiff-wd-');
    const pod = podWith('linked', { ...sh('cat conf/mode > seen; exec sleep 60'), workingDir: wd, volumeMounts: [{ name: 'c', mountPath: 'conf' }] }, { volumes: [{ name: 'c', configMap: { name: 'settings' } }] });
    await desire({ pods: [pod], configMaps: { 'default/settings': configMap({ mode: 'linked' }) } });
    await until(() => readText(path.join(wd, 'seen')) === 'linked', 'the process read ./conf/mode');
    await desire({ pods: [] });
    await until(() => master.gone.has(pod.metadata.uid!), 'the pod gone');
    expect(fs.existsSync(path.join(wd, 'conf'))).toBe(false);
    fs.rmSync(wd, { recursive: true, force: true });
  });
});

/**
 * `skiff cp` to and from a process pod on another node, through the master: files and directories,
 * relative to the container's workingDir or at a volume's mountPath; large files intact; nothing outside
 * the pod's files (.., absolute paths elsewhere, symlinks out) and nothing past the bounds.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';
import { tempDir } from '../helpers/wait.js';
import { cliFor, type CliRun } from './cluster-cli.js';

describe('skiff cp', () => {
  let c: TestCluster;
  let cli: (args: string[]) => Promise<CliRun>;
  let wd: string;
  let local: string;
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  beforeAll(async () => {
    c = await startCluster(['pi-1', 'pi-2']);
    cli = cliFor(c.master);
    wd = join(c.dir, 'app');
    mkdirSync(wd);
    local = await tempDir('skiff-cp-local-');
    await c.apply(`apiVersion: v1
kind: Pod
metadata: {name: box}
spec:
  nodeSelector: {kubernetes.io/hostname: pi-2}
  terminationGracePeriodSeconds: 1
  volumes: [{name: data, emptyDir: {}}]
  containers:
    - name: main
      workingDir: ${wd}
      command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 0.2; done']
      volumeMounts: [{name: data, mountPath: /data}]
`);
    await eventually(async () => (await c.pods()).find((p) => p.metadata.name === 'box' && p.status?.phase === 'Running'), 'box Running');
  });
  afterAll(async () => c?.stop());

  it('a file into the workingDir and back; a large one intact', async () => {
    writeFileSync(join(local, 'notes.txt'), 'greenhouse notes\n');
    expect(await cli(['cp', join(local, 'notes.txt'), 'box:notes.txt'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(join(wd, 'notes.txt'), 'utf8')).toBe('greenhouse notes\n');
    expect(await cli(['cp', 'default/box:notes.txt', join(local, 'back.txt')])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(join(local, 'back.txt'), 'utf8')).toBe('greenhouse notes\n');
    const big = randomBytes(5 << 20);
    writeFileSync(join(local, 'big.bin'), big);
    expect((await cli(['cp', join(local, 'big.bin'), 'box:big.bin'])).code).toBe(0);
    expect((await cli(['cp', 'box:big.bin', join(local, 'big-back.bin')])).code).toBe(0);
    expect(sha(readFileSync(join(local, 'big-back.bin')))).toBe(sha(big));
  });

  it('a directory into a volume at its mountPath, and back out, as cp -r does', async () => {
    mkdirSync(join(local, 'conf/sub'), { recursive: true });
    writeFileSync(join(local, 'conf/a.yaml'), 'a: 1\n');
    writeFileSync(join(local, 'conf/sub/b.yaml'), 'b: 2\n');
    expect((await cli(['cp', join(local, 'conf'), 'box:/data'])).code).toBe(0);
    const [pod] = (await c.pods()).filter((p) => p.metadata.name === 'box');
    const volume = join(c.dir, 'pi-2', 'pods', pod.metadata.uid!, 'volumes', 'data');
    expect(readFileSync(join(volume, 'conf/sub/b.yaml'), 'utf8')).toBe('b: 2\n');
    expect((await cli(['cp', 'box:/data/conf', join(local, 'conf-copy')])).code).toBe(0);
    expect(readdirSync(join(local, 'conf-copy')).sort()).toEqual(['a.yaml', 'sub']);
    expect(readFileSync(join(local, 'conf-copy/sub/b.yaml'), 'utf8')).toBe('b: 2\n');
  });

  it('refuses anything outside the pod\'s files: .., other absolute paths, symlinks out', async () => {
    const refused = async (args: string[]) => {
      const r = await cli(['cp', ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      return r.stderr;
    };
    expect(await refused(['box:../../../../etc/passwd', join(local, 'x')])).toContain("is outside the pod's files: a process pod's files are its workingDir");
    expect(await refused(['box:/etc/passwd', join(local, 'x')])).toContain('is outside the pod');
    expect(await refused([join(local, 'notes.txt'), 'box:/etc/skiff-was-here'])).toContain('is outside the pod');
    symlinkSync('/etc', join(wd, 'escape'));
    expect(await refused(['box:escape/hostname', join(local, 'x')])).toContain('is outside the pod');
    expect(await refused([join(local, 'notes.txt'), 'box:escape/skiff'])).toContain('is outside the pod');
    expect(await refused(['box:missing.txt', join(local, 'x')])).toContain('missing.txt: no such file or directory');
  });

  it('refuses a copy past the bound before sending anything', async () => {
    writeFileSync(join(local, 'huge.bin'), '');
    truncateSync(join(local, 'huge.bin'), 65 << 20); // sparse: big to stat, cheap to make
    const up = await cli(['cp', join(local, 'huge.bin'), 'box:huge.bin']);
    expect(up).toMatchObject({ code: 1, stderr: 'error: more than 64 MiB: copy less at a time\n' });
    writeFileSync(join(wd, 'huge.bin'), '');
    truncateSync(join(wd, 'huge.bin'), 65 << 20);
    expect(await cli(['cp', 'box:huge.bin', join(local, 'h')])).toMatchObject({ code: 1, stderr: 'error: more than 64 MiB: copy less at a time\n' });
  });
});

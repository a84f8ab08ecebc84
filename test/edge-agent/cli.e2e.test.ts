/**
 * The real `skiff-agent` command in its own process: the agent and protocol are compiled into a temp dir
 * laid out like the package (bin/ + dist/), so the launcher runs exactly as installed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecord } from '../../edge-agent/drivers/process-record.js';
import { FakeMaster, JOIN_TOKEN, alive, podWith, readText, sh, tempDir, until } from './helpers.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Compiles edge-agent/main.ts (and what it imports) into DIR/dist and copies the launcher to DIR/bin. */
function buildPackage(): string {
  const dir = tempDir('skiff-agent-pkg-');
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ extends: path.join(repo, 'tsconfig.json'), compilerOptions: { outDir: path.join(dir, 'dist'), rootDir: repo, sourceMap: false, typeRoots: [path.join(repo, 'node_modules/@types')] }, files: [path.join(repo, 'edge-agent/main.ts')], include: [] }));
  execFileSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')], { stdio: 'pipe' });
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.copyFileSync(path.join(repo, 'bin/skiff-agent.js'), path.join(dir, 'bin/skiff-agent.js'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

describe('skiff-agent CLI (e2e)', () => {
  let pkg: string;
  beforeAll(() => {
    pkg = buildPackage();
  }, 120_000);
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  const run = (args: string[], env: NodeJS.ProcessEnv = process.env): Run => {
    const child = spawn(process.execPath, [path.join(pkg, 'bin/skiff-agent.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, out: () => out, err: () => err, exit };
  };

  it('--help prints usage; bad flags exit 1 naming the flag', async () => {
    const help = run(['--help']);
    expect(await help.exit).toBe(0);
    expect(help.out()).toContain('skiff-agent join [--master mqtts://HOST:8883] [--token-file FILE | --token JOIN_TOKEN]');
    const bad = run(['join', '--master', 'mqtt://127.0.0.1:1', '--lease-interval', 'often']);
    expect(await bad.exit).toBe(1);
    expect(bad.err()).toContain('--lease-interval must be a duration');
    const badAddr = run(['join', '--master', 'mqtt://127.0.0.1:1', '--address', 'not-an-ip', '--token', 't']);
    expect(await badAddr.exit).toBe(1);
    expect(badAddr.err()).toContain('--address');
  });

  it('joins, runs a pod; SIGTERM leaves the pod running and exits 0; stop --pods then empties the node', async () => {
    const master = await new FakeMaster().start();
    try {
      const dataDir = tempDir();
      const agent = run(['join', '--master', master.url, '--token', JOIN_TOKEN, '--name', 'cli-pi', '--data-dir', dataDir, '--address', '127.0.0.1', '--labels', 'zone=a']);
      await until(() => master.statuses.some((s) => s.node === 'cli-pi' && s.online === true), 'the CLI agent online', 20_000);
      const pidFile = path.join(dataDir, 'pid');
      await master.desire('cli-pi', { generation: 1, pods: [podWith('cli-pod', sh(`echo $$ > ${pidFile}; exec sleep 1000`))] });
      const pid = Number(await until(() => readText(pidFile), 'the pod pid'));
      agent.child.kill('SIGTERM');
      agent.child.kill('SIGINT'); // a second signal (a terminal's Ctrl-C reaches the whole group) changes nothing
      expect(await agent.exit).toBe(0);
      expect(agent.err()).toContain('pods keep running');
      expect(alive(pid)).toBe(true);
      expect(master.statuses.at(-1)).toMatchObject({ node: 'cli-pi', online: true });

      const stop = run(['stop', '--data-dir', dataDir, '--pods']);
      expect(await stop.exit).toBe(0);
      expect(stop.out()).toBe(`no skiff-agent was running with data dir ${dataDir}; stopped 1 pod process(es)\n`);
      expect(alive(pid)).toBe(false);
    } finally {
      await master.close();
    }
  }, 30_000);

  it('takes the join token from a file or SKIFF_JOIN_TOKEN: not on the command line, not inherited by pods; --token warns', async () => {
    const master = await new FakeMaster().start();
    try {
      const tokenFile = path.join(tempDir(), 'join.token');
      fs.writeFileSync(tokenFile, JOIN_TOKEN + '\n', { mode: 0o600 });
      for (const [name, args, env] of [
        ['tf-pi', ['--token-file', tokenFile], process.env],
        ['env-pi', [], { ...process.env, SKIFF_JOIN_TOKEN: JOIN_TOKEN }],
      ] as const) {
        const dataDir = tempDir();
        const agent = run(['join', '--master', master.url, ...args, '--name', name, '--data-dir', dataDir, '--address', '127.0.0.1'], env);
        await until(() => master.statuses.some((s) => s.node === name && s.online === true), `${name} online`, 20_000);
        expect(fs.readFileSync(`/proc/${agent.child.pid}/cmdline`, 'utf8')).not.toContain(JOIN_TOKEN);
        const envFile = path.join(dataDir, 'pod.env');
        const pod = podWith('env-pod', sh(`env > ${envFile}.tmp; mv ${envFile}.tmp ${envFile}; exec sleep 1000`));
        await master.desire(name, { generation: 1, pods: [pod] });
        const podEnv = await until(() => readText(envFile), 'the pod environment');
        expect(podEnv).toContain('HOSTNAME=env-pod');
        expect(podEnv).not.toContain(JOIN_TOKEN);
        expect(agent.err()).not.toContain('warning: --token');
        agent.child.kill('SIGTERM');
        expect(await agent.exit).toBe(0);
        // A stopped agent leaves its pods running (docs/lifecycle.md): end this one's process group here.
        const rec = readRecord(path.join(dataDir, 'pods', pod.metadata.uid!, 'main.pid'));
        if (rec) process.kill(-rec.pid, 'SIGKILL');
      }
      const withFlag = run(['join', '--master', master.url, '--token', JOIN_TOKEN, '--name', 'flag-pi', '--data-dir', tempDir(), '--address', '127.0.0.1']);
      await until(() => withFlag.err().includes('warning: --token is visible to every user in ps'), 'the --token warning', 20_000);
      withFlag.child.kill('SIGTERM');
      await withFlag.exit;
      const both = run(['join', '--master', master.url, '--token', JOIN_TOKEN, '--token-file', tokenFile]);
      expect(await both.exit).toBe(1);
      expect(both.err()).toContain('give the join token one way, not --token and --token-file');
    } finally {
      await master.close();
    }
  }, 60_000);

  it('a rejected join prints the master message and exits 1', async () => {
    const master = await new FakeMaster().start();
    try {
      master.joinAnswer = () => ({ ok: false, error: { code: 'SKIFF_ERR_JOIN_REJECTED', message: 'join token expired' } });
      const r = run(['join', '--master', master.url, '--token', JOIN_TOKEN, '--name', 'cli-no', '--data-dir', tempDir()]);
      expect(await r.exit).toBe(1);
      expect(r.err()).toContain('join token expired');
    } finally {
      await master.close();
    }
  }, 30_000);
});

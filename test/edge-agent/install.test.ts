/** flash, install and uninstall, fast, in temp directories (the boot in emulation is test/e2e/arm-flash.test.ts). */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleHeaderLine } from '../../protocol/bundle.js';
import { checkRootfs, hostsWith, nodeWarnings } from '../../edge-agent/install/board.js';
import { flash, install, uninstall } from '../../edge-agent/install/cli.js';
import { RootWriter } from '../../edge-agent/install/files.js';
import { unitText } from '../../edge-agent/install/unit.js';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'skiff-install-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A minimal board root: /etc, /usr, and a node. */
function rootfs(node = true): string {
  const r = temp();
  mkdirSync(join(r, 'etc'));
  mkdirSync(join(r, 'usr/bin'), { recursive: true });
  if (node) writeFileSync(join(r, 'usr/bin/node'), '');
  writeFileSync(join(r, 'etc/hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n');
  return r;
}

/** A small file that passes for a bundle. */
function bundle(version = '0.9.0'): string {
  const f = join(temp(), 'skiff-agent.mjs');
  writeFileSync(f, `#!/usr/bin/env node\n${bundleHeaderLine(version)}\nconsole.log('agent');\n`);
  return f;
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l) } };
}

describe('flash', () => {
  it('writes the board files with their modes; a second run is "unchanged"', async () => {
    const r = rootfs();
    const b = bundle();
    const args = ['--rootfs', r, '--master', 'mqtt://10.0.0.2:1883', '--token', 'T0KEN', '--hostname', 'pi-7', '--labels', 'zone=attic', '--bundle', b];
    const first = io();
    expect(await flash(args, {}, undefined, first.io)).toBe(0);
    expect(first.out.at(-1)).toBe(`flashed ${r}: the board joins mqtt://10.0.0.2:1883 as "pi-7" on first boot`);
    expect(first.out).toContain('updated /etc/hosts');
    const second = io();
    expect(await flash(args, {}, undefined, second.io)).toBe(0);
    expect(second.out).toEqual([`unchanged: ${r} already joins mqtt://10.0.0.2:1883 as "pi-7" on first boot`]);
    expect(statSync(join(r, 'etc/skiff/join.token')).mode & 0o777).toBe(0o600);
    expect(statSync(join(r, 'etc/skiff')).mode & 0o777).toBe(0o700);
    expect(statSync(join(r, 'var/lib/skiff-agent')).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(r, 'etc/hostname'), 'utf8')).toBe('pi-7\n');
    expect(readFileSync(join(r, 'etc/hosts'), 'utf8')).toBe('127.0.0.1\tlocalhost\n127.0.1.1\tpi-7\n');
    expect(readlinkSync(join(r, 'etc/systemd/system/multi-user.target.wants/skiff-agent.service'))).toBe('/etc/systemd/system/skiff-agent.service');
    const unit = readFileSync(join(r, 'etc/systemd/system/skiff-agent.service'), 'utf8');
    expect(unit).toContain('ExecStart=/usr/bin/node /usr/local/lib/skiff/skiff-agent.mjs join --master mqtt://10.0.0.2:1883 --token-file /etc/skiff/join.token --data-dir /var/lib/skiff-agent --name pi-7 --labels zone=attic\n');
    expect(unit).not.toContain('T0KEN');
    // A changed mode is put right, and said.
    chmodSync(join(r, 'etc/skiff/join.token'), 0o644);
    const third = io();
    await flash(args, {}, undefined, third.io);
    expect(third.out).toEqual(['updated /etc/skiff/join.token', `flashed ${r}: the board joins mqtt://10.0.0.2:1883 as "pi-7" on first boot`]);
  });

  it.each([
    [['--master', 'mqtt://m:1883', '--token', 't'], '--rootfs DIR is required'],
    [['--rootfs', 'ROOT', '--master', 'mqtt://m:1883'], 'a join token is required'],
    [['--rootfs', 'ROOT', '--master', 'mqtt://m:1883', '--token', 't', '--token-file', '/x'], 'give the join token one way, not --token and --token-file'],
    [['--rootfs', 'ROOT', '--master', 'http://m', '--token', 't'], '--master: must be a URL like mqtt://HOST:PORT'],
    [['--rootfs', 'ROOT', '--master', 'mqtt://m:1883', '--token', 't', '--hostname', 'Pi_1'], '--hostname: must be a DNS subdomain'],
    [['--rootfs', 'ROOT', '--master', 'mqtt://m:1883', '--token', 't', '--labels', 'kubernetes.io/hostname=x'], '--labels:'],
    [['--rootfs', 'ROOT', '--master', 'mqtt://m:1883', '--token', 't', '--name', 'x'], '--name is not a flag of flash'],
    [['--rootfs', 'ROOT', '--master', 'mqtt://m:1883', '--token', 't', '--bundle', '/etc/hostname'], 'not a skiff-agent bundle'],
  ])('refuses %j: %s', async (args, message) => {
    const r = rootfs();
    const a = args.map((x) => (x === 'ROOT' ? r : x));
    await expect(flash(a, {}, bundle(), io().io)).rejects.toThrow(message);
    expect(existsSync(join(r, 'usr/local/lib/skiff'))).toBe(false); // nothing written
  });

  it('takes the token from SKIFF_JOIN_TOKEN', async () => {
    const r = rootfs();
    await flash(['--rootfs', r, '--master', 'mqtt://m:1883', '--bundle', bundle()], { SKIFF_JOIN_TOKEN: 'from-env' }, undefined, io().io);
    expect(readFileSync(join(r, 'etc/skiff/join.token'), 'utf8')).toBe('from-env\n');
  });

  it('warns about a board without Node, or with an old one', async () => {
    const r = rootfs(false);
    const x = io();
    await flash(['--rootfs', r, '--master', 'mqtt://m:1883', '--token', 't', '--bundle', bundle()], {}, undefined, x.io);
    expect(x.err).toEqual(['warning: the board has no /usr/bin/node: install Node.js 18 or newer on it (apt install nodejs) or the agent cannot start']);
    const old = rootfs();
    mkdirSync(join(old, 'var/lib/dpkg'), { recursive: true });
    writeFileSync(join(old, 'var/lib/dpkg/status'), 'Package: libc6\nStatus: install ok installed\nVersion: 2.36\n\nPackage: nodejs\nStatus: install ok installed\nVersion: 12.22.12~dfsg-1~deb11u4\n');
    expect(await nodeWarnings(old)).toEqual(["the board's Node.js is 12.22.12~dfsg-1~deb11u4, older than 18: the agent needs Node.js 18 or newer"]);
    writeFileSync(join(old, 'var/lib/dpkg/status'), 'Package: nodejs\nStatus: install ok installed\nVersion: 18.19.0+dfsg-6~deb12u2\n');
    expect(await nodeWarnings(old)).toEqual([]);
  });
});

describe('the pieces', () => {
  it.each([
    ['a directory without /etc and /usr', (d: string) => d, 'not a root filesystem (no /etc, no /usr): give the mount point'],
    ['a boot partition', (d: string) => (writeFileSync(join(d, 'cmdline.txt'), ''), d), 'this looks like the boot partition'],
    ['a file', (d: string) => (writeFileSync(join(d, 'f'), ''), join(d, 'f')), 'not a directory'],
  ])('checkRootfs refuses %s', async (_what, make, message) => {
    await expect(checkRootfs(make(temp()))).rejects.toThrow(message);
  });

  it.each([
    ['127.0.0.1\tlocalhost\n127.0.1.1\told\n::1 localhost\n', '127.0.0.1\tlocalhost\n127.0.1.1\tpi\n::1 localhost\n'],
    ['127.0.0.1 localhost\n::1 localhost', '127.0.0.1 localhost\n127.0.1.1\tpi\n::1 localhost\n'],
    ['', '127.0.1.1\tpi\n'],
  ])('hostsWith(%j)', (hosts, want) => expect(hostsWith(hosts, 'pi')).toBe(want));

  it('the unit stops the agent only and restarts it by exit', () => {
    const u = unitText({ master: 'mqtts://master.local:8883' });
    for (const line of ['KillMode=process', 'Restart=always', 'Environment=SKIFF_AGENT_RESTART=exit', 'OOMPolicy=continue', 'TasksMax=infinity', 'Delegate=yes', 'WantedBy=multi-user.target'])
      expect(u.split('\n')).toContain(line);
    expect(u).toContain('ExecStart=/usr/bin/node /usr/local/lib/skiff/skiff-agent.mjs join --master mqtts://master.local:8883 --token-file /etc/skiff/join.token --data-dir /var/lib/skiff-agent\n');
  });

  it('RootWriter writes only what differs', async () => {
    const w = new RootWriter(temp());
    await w.file('/a/b.txt', 'x', 0o640);
    await w.link('/a/l', '/a/b.txt');
    await w.file('/a/b.txt', 'x', 0o640);
    await w.link('/a/l', '/a/b.txt');
    expect(w.changes.map((c) => `${c.action} ${c.path}`)).toEqual(['created /a/b.txt', 'created /a/l', 'unchanged /a/b.txt', 'unchanged /a/l']);
    await w.file('/a/b.txt', 'y', 0o640);
    expect(w.changes.at(-1)).toEqual({ path: '/a/b.txt', action: 'updated' });
  });
});

describe('install and uninstall (--root)', () => {
  it('installs under the root without systemctl, then uninstalls, keeping or purging the token and data', async () => {
    const r = rootfs();
    const x = io();
    expect(await install(['--root', r, '--master', 'mqtt://m:1883', '--token', 't', '--bundle', bundle()], {}, undefined, x.io)).toBe(0);
    expect(x.out).toContain(`--root ${r}: not running systemctl`);
    expect(x.out.at(-1)).toBe('installed: this machine joins mqtt://m:1883');
    expect(existsSync(join(r, 'etc/hostname'))).toBe(false); // install leaves the hostname alone
    const y = io();
    expect(await uninstall(['--root', r], y.io)).toBe(0);
    expect(y.out.at(-1)).toBe('uninstalled (kept /etc/skiff/join.token and /var/lib/skiff-agent: --purge removes them)');
    expect(existsSync(join(r, 'etc/systemd/system/skiff-agent.service'))).toBe(false);
    expect(existsSync(join(r, 'usr/local/lib/skiff'))).toBe(false);
    expect(existsSync(join(r, 'etc/skiff/join.token'))).toBe(true);
    const z = io();
    await uninstall(['--root', r, '--purge'], z.io);
    expect(existsSync(join(r, 'etc/skiff'))).toBe(false);
    expect(existsSync(join(r, 'var/lib/skiff-agent'))).toBe(false);
    const again = io();
    await uninstall(['--root', r], again.io);
    expect(again.out.at(-1)).toBe('unchanged: nothing was installed');
  });
});

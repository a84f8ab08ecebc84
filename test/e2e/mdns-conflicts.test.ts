/**
 * mDNS name conflicts on a real LAN (RFC 6762 §9): hosts in network namespaces on one bridge, a real avahi
 * browser on a third. Two masters on one host starting at the same moment (the §8.2 tie-break), and two
 * agents on two hosts announcing the same Service one after the other (the second finds the name taken):
 * every one of them is announced, the later ones as `NAME (2)`, and no library stack trace is printed.
 * Needs root, iproute2, avahi-daemon, avahi-utils, dbus: fails naming them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../bench/cluster-selfheal.js';
import { makeLan, requireLanTools, startAvahi, type Avahi, type Lan } from '../helpers/lan.js';
import { requireBuild, root } from '../helpers/procs.js';
import { tempDir } from '../helpers/wait.js';

/** A script run inside a namespace: announces what argv says, prints each announced name, stops on SIGTERM. */
const script = (dist: string) => `
import { announceMaster } from ${JSON.stringify(join(dist, 'master/discovery/announce.js'))};
import { publish } from ${JSON.stringify(join(dist, 'edge-agent/discovery/publisher.js'))};
const [kind, address, ...ports] = process.argv.slice(2);
const log = { debug() {}, info() {}, warn: (m) => console.error('warn ' + m), error: (m) => console.error('error ' + m) };
const running = ports.map((p) =>
  kind === 'master'
    ? announceMaster({ mqttPort: Number(p), bind: address, version: 'test' }, (m) => console.error('warn ' + m))
    : publish({ type: 'skiff', name: 'echo.default', port: Number(p), txt: { namespace: 'default', name: 'echo' } }, { host: 'skiff-' + p + '.local', interfaceAddress: address }, log));
for (const r of running) r.announced.then((name) => console.log(JSON.stringify({ name })));
process.on('SIGTERM', () => Promise.all(running.map((r) => r.stop())).then(() => process.exit(0)));
`;

describe('e2e: mDNS name conflicts are renamed, never fatal', () => {
  let dir: string;
  let lan: Lan | undefined;
  let avahi: Avahi | undefined;
  const procs: ChildProcess[] = [];

  /** Runs the script in `ns`; resolves with what it printed once `count` names are announced. */
  function announce(ns: string, args: string[], count: number): Promise<{ names: string[]; err: () => string }> {
    const child = spawn(lan!.exec(ns)[0], [...lan!.exec(ns).slice(1), process.execPath, join(dir, 'announce.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(child);
    const names: string[] = [];
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => names.push(...String(d).trim().split('\n').map((l) => (JSON.parse(l) as { name: string }).name)));
    return waitFor(() => names.length >= count && { names, err: () => err }, `${count} announced name(s) in ${ns}`, 15_000, 50);
  }

  beforeAll(async () => {
    requireBuild();
    requireLanTools();
    dir = await tempDir('skiff-mdns-');
    writeFileSync(join(dir, 'announce.mjs'), script(join(root, 'dist')));
    lan = makeLan(['a', 'b', 'client']);
    avahi = await startAvahi(lan.hosts.client.ns, dir);
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
    await avahi?.stop();
    lan?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('two masters on one host, started together: "Skiff master on HOST" and "Skiff master on HOST (2)"', async () => {
    const a = lan!.hosts.a;
    const run = await announce(a.ns, ['master', a.address, '1883', '1884'], 2);
    const base = `Skiff master on ${hostname()}`.replace(/\./g, '-');
    expect([...run.names].sort()).toEqual([base, `${base} (2)`]);
    const seen = await waitFor(() => {
      const r = avahi!.browse('_skiff-master._tcp').filter((x) => x.name.startsWith(base));
      return r.length === 2 && r;
    }, 'both masters seen by avahi', 15_000, 300);
    expect(seen.map((r) => `${r.name}:${r.port}`).sort()).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${base}:188[34]$`)), expect.stringMatching(new RegExp(`^${base} \\(2\\):188[34]$`))]));
    expect(new Set(seen.map((r) => r.port))).toEqual(new Set([1883, 1884]));
    expect(run.err()).toContain(`"${base}" is taken on this network; announcing this master as "${base} (2)"`);
    expect(run.err()).not.toMatch(/Service name is already in use|\n\s+at /);
  }, 40_000);

  it('the same Service announced by two clusters\' agents: "echo.default" and "echo.default (2)"', async () => {
    const { a, b } = lan!.hosts;
    const first = await announce(a.ns, ['agent', a.address, '30080'], 1);
    expect(first.names).toEqual(['echo.default']);
    const second = await announce(b.ns, ['agent', b.address, '30081'], 1);
    expect(second.names).toEqual(['echo.default (2)']);
    const seen = await waitFor(() => {
      const r = avahi!.browse('_skiff._tcp').filter((x) => x.name.startsWith('echo.default'));
      return r.length === 2 && r;
    }, 'both instances seen by avahi', 15_000, 300);
    expect(seen.map((r) => `${r.name} ${r.address}:${r.port}`).sort()).toEqual([`echo.default (2) ${b.address}:30081`, `echo.default ${a.address}:30080`]);
    expect(second.err()).toContain('_skiff._tcp instance "echo.default" is taken on this network; announcing it as "echo.default (2)"');
    expect(first.err() + second.err()).not.toMatch(/Service name is already in use|\n\s+at /);
  }, 40_000);
});

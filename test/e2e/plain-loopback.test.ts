/**
 * Issue 13: plain MQTT (1883) listens on loopback only unless `--insecure-listen`. A real master in a network
 * namespace of its own, probed from another namespace over a veth link: the plain port refuses the connection,
 * the TLS port (8883) answers with the cluster's certificate, and on the master's own loopback the plain port
 * works. Restarted with --insecure-listen, the plain port answers from the LAN too, and the master logs a
 * warning. Needs root and iproute2: fails with a clear message otherwise.
 */
import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMasterProc, stopProc, waitFor } from '../../bench/cluster-selfheal.js';
import { testEngine } from '../helpers/cluster.js';
import { makeNetLab, requireNetns, type NetLab } from '../helpers/netns.js';
import { requireBuild } from '../helpers/procs.js';
import { tempDir } from '../helpers/wait.js';

/** Connects from namespace `ns` to HOST:PORT (TLS when `ca` is given) and prints what happened. */
async function probe(lab: NetLab, ns: string, host: string, port: number, ca?: string): Promise<string> {
  const script = ca
    ? `const s=require('tls').connect({host:${JSON.stringify(host)},port:${port},ca:${JSON.stringify(ca)}},()=>{console.log('tls '+s.authorized);s.destroy()});s.on('error',e=>console.log(e.code||e.message))`
    : `const s=require('net').connect(${port},${JSON.stringify(host)},()=>{console.log('open');s.destroy()});s.on('error',e=>console.log(e.code))`;
  const [cmd, ...args] = [...lab.exec(ns), process.execPath, '-e', script];
  const { stdout } = await promisify(execFile)(cmd, args, { timeout: 15_000 });
  return stdout.trim();
}

describe('e2e: plain MQTT only on loopback (network namespaces)', () => {
  let dir: string;
  let lab: NetLab | undefined;
  let master: ChildProcess | undefined;

  beforeAll(async () => {
    requireBuild();
    requireNetns();
    dir = await tempDir('skiff-plain-');
    lab = makeNetLab(1);
  });
  afterAll(async () => {
    await stopProc(master);
    lab?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const start = async (extra: string[]) => {
    await stopProc(master);
    const log = join(dir, `master-${extra.length}.log`);
    master = startMasterProc({ dataDir: join(dir, 'master'), mqttPort: 1883, mqttsPort: 8883, bind: '0.0.0.0', engine: testEngine, prefix: [...lab!.exec(lab!.hub)], extra }, log);
    await waitFor(() => readFileSync(log, 'utf8').includes('started'), 'the master started', 20_000, 100);
    return log;
  };

  it('by default the plain port refuses the LAN; TLS answers it; loopback gets plain', async () => {
    await start([]);
    const h = lab!.hosts[0];
    const ca = readFileSync(join(dir, 'master', 'tls', 'ca.crt'), 'utf8');
    expect(await probe(lab!, h.ns, h.masterAddress, 1883)).toBe('ECONNREFUSED');
    expect(await probe(lab!, h.ns, h.masterAddress, 8883, ca)).toBe('tls true'); // the certificate names the LAN address
    expect(await probe(lab!, lab!.hub, '127.0.0.1', 1883)).toBe('open');
  });

  it('with --insecure-listen the plain port answers the LAN, with a warning in the log', async () => {
    const log = await start(['--insecure-listen']);
    const h = lab!.hosts[0];
    expect(await probe(lab!, h.ns, h.masterAddress, 1883)).toBe('open');
    expect(readFileSync(log, 'utf8')).toContain('--insecure-listen: plain MQTT is open beyond loopback');
  });
});

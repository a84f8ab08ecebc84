/**
 * The other direction of netns.ts' `relayInto`: makes a TCP port on the test machine's loopback (an in-process
 * master) reachable from inside network namespace `ns`, at 127.0.0.1:<port> there. A relay inside the namespace
 * listens on an ephemeral loopback port and forwards each connection over a Unix socket (the filesystem is
 * shared, the network is not) to the test process, which dials the real port. Nothing leaves loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

/** A running relay: `port` is where programs inside the namespace connect. */
export interface RelayOut {
  port: number;
  close(): Promise<void>;
}

/** Relays `ns`'s 127.0.0.1:<port> to this machine's 127.0.0.1:`hostPort`. */
export async function relayOut(ns: string, hostPort: number, dir: string): Promise<RelayOut> {
  const sock = join(dir, `relay-out-${ns}-${hostPort}.sock`);
  const open = new Set<Socket>();
  const outer: Server = createServer((c) => {
    const u = connect(hostPort, '127.0.0.1');
    open.add(c);
    c.on('close', () => open.delete(c));
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.pipe(u).pipe(c);
  });
  await new Promise<void>((r) => outer.listen(sock, () => r()));
  const script = `const net=require('net');const s=net.createServer(c=>{const u=net.connect(${JSON.stringify(sock)});c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());c.pipe(u).pipe(c)});s.listen(0,'127.0.0.1',()=>console.log(s.address().port))`;
  const inner: ChildProcess = spawn('nsenter', [`--net=/run/netns/${ns}`, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    inner.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    inner.once('exit', (code) => reject(new Error(`the relay into ${ns} exited with ${code}`)));
  });
  return {
    port,
    async close() {
      inner.kill('SIGKILL');
      for (const c of open) c.destroy();
      await new Promise<void>((r) => outer.close(() => r()));
    },
  };
}

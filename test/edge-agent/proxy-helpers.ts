/** Tiny real peers for proxy tests: named TCP/UDP backends on loopback and clients that ask who answered. */
import dgram from 'node:dgram';
import net from 'node:net';

/** A TCP backend that greets each connection with its name and a newline, then echoes. */
export interface TcpBackend {
  name: string;
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** Starts a named TCP backend on 127.0.0.1 (an ephemeral port). */
export async function tcpBackend(name: string): Promise<TcpBackend> {
  const sockets = new Set<net.Socket>();
  const b: TcpBackend = { name, port: 0, connections: 0, close: async () => undefined };
  const server = net.createServer((s) => {
    b.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.write(`${name}\n`);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  b.port = (server.address() as net.AddressInfo).port;
  b.close = () => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(() => r()));
  };
  return b;
}

/** An open client connection that knows which backend greeted it. */
export interface Conn {
  backend: string;
  socket: net.Socket;
  /** Sends `text` and resolves with the echo. */
  echo(text: string): Promise<string>;
}

/** Connects (optionally from `localAddress`) and reads the greeting line; rejects if the connection ends first. */
export function connect(host: string, port: number, localAddress?: string, timeoutMs = 3000): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    let buf = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no greeting from ${host}:${port} in ${timeoutMs} ms`)), timeoutMs);
    const onData = (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      const backend = buf.slice(0, nl);
      resolve({
        backend,
        socket,
        echo: (text) =>
          new Promise((res, rej) => {
            let got = '';
            const on = (x: Buffer) => {
              got += x.toString();
              if (got.length >= text.length) {
                socket.off('data', on);
                res(got);
              }
            };
            socket.on('data', on);
            socket.once('close', () => rej(new Error('closed before the echo')));
            socket.write(text);
          }),
      });
    };
    socket.on('data', onData);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`closed by ${host}:${port} before a greeting`));
    });
  });
}

/** Connects, reads the greeting and closes: which backend served one new connection. */
export async function whoServes(host: string, port: number, localAddress?: string): Promise<string> {
  const c = await connect(host, port, localAddress);
  c.socket.destroy();
  return c.backend;
}

/** Counts backends over `n` sequential connections. */
export async function spread(host: string, port: number, n: number, localAddress?: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const b = await whoServes(host, port, localAddress);
    out[b] = (out[b] ?? 0) + 1;
  }
  return out;
}

/** A UDP backend answering every datagram with `name:payload`. */
export async function udpBackend(name: string): Promise<{ port: number; close(): Promise<void> }> {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => s.send(`${name}:${m}`, r.port, r.address));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, close: () => new Promise((r) => s.close(() => r())) };
}

/** Sends one datagram from a fresh socket (or `from`) and resolves with the first reply. */
export function udpAsk(host: string, port: number, text: string, from?: dgram.Socket, timeoutMs = 2000): Promise<string> {
  const s = from ?? dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.off('message', on);
      if (!from) s.close();
      reject(new Error(`no UDP reply from ${host}:${port}`));
    }, timeoutMs);
    const on = (m: Buffer) => {
      clearTimeout(timer);
      s.off('message', on);
      if (!from) s.close();
      resolve(m.toString());
    };
    s.on('message', on);
    s.send(text, port, host);
  });
}

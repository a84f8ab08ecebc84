/**
 * Start-up and stop (master/index.ts, steps.ts, teardown.ts): a step that fails releases what the
 * earlier steps acquired and its error propagates; stop undoes everything in reverse, once.
 */
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startMaster } from '../../master/index.js';
import { Teardown } from '../../master/teardown.js';
import { silentLogger, type LogFields, type Logger } from '../../protocol/index.js';
import { testEngine } from '../helpers/cluster.js';
import { freePort } from '../helpers/procs.js';
import { tempDir } from '../helpers/wait.js';

function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string, f?: LogFields) => void lines.push(`${level} ${m}${f?.err ? `: ${(f.err as Error).message}` : ''}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const listen = (port: number, host = '127.0.0.1') =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, host, () => resolve(s));
  });
const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));

describe('Teardown', () => {
  it('releases in reverse order, once, and goes on past a release that fails', async () => {
    const log = memoryLogger();
    const down = new Teardown(log);
    const order: string[] = [];
    down.add('store', () => order.push('store'));
    down.add('broker', async () => {
      order.push('broker');
      throw new Error('stuck');
    });
    down.add('http', () => order.push('http'));
    const [a, b] = [down.run(), down.run()];
    expect(a).toBe(b);
    await a;
    await down.run();
    expect(order).toEqual(['http', 'broker', 'store']);
    expect(log.lines).toContain('error stopping broker failed: stuck');
  });
});

describe('startMaster', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('a busy HTTP port: the error propagates and the broker, timers and store started before it are released', async () => {
    const dir = await tempDir('skiff-start-');
    dirs.push(dir);
    const busy = await listen(0);
    const httpPort = (busy.address() as { port: number }).port;
    const mqttPort = await freePort();
    const log = memoryLogger();
    try {
      await expect(
        startMaster({ dataDir: join(dir, 'm'), mqttPort, mqttHost: '127.0.0.1', httpPort, httpHost: '127.0.0.1', mdns: false, engine: testEngine, logger: log }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await close(busy);
    }
    // The MQTT listener is closed: its port can be taken again.
    await close(await listen(mqttPort));
    // Every step before the failed one was undone, last first; nothing after it started.
    const stopped = log.lines.filter((l) => l.startsWith('debug stopped ')).map((l) => l.slice('debug stopped '.length));
    expect(stopped).toEqual(['routing', 'controllers', 'api', 'broker', 'audit log', 'informers', 'tls', 'store']);
    expect(log.lines).not.toContain('info started');
  });

  it('stop undoes every step in reverse order; a second stop waits for the first', async () => {
    const dir = await tempDir('skiff-start-');
    dirs.push(dir);
    const log = memoryLogger();
    const master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, mqttHost: '127.0.0.1', httpPort: 0, httpHost: '127.0.0.1', mdns: false, engine: testEngine, logger: log });
    const lines = log.lines.filter((l) => l !== 'info issued the server certificate' && l !== 'info created the encryption config for Secrets at rest');
    expect(lines.slice(0, 2)).toEqual(['info leading', 'info started']);
    expect(log.lines).toContain('info created the encryption config for Secrets at rest');
    const [a, b] = [master.stop(), master.stop()];
    expect(a).toBe(b);
    await a;
    await master.stop();
    const tail = log.lines.slice(log.lines.indexOf('info stopping'));
    expect(tail).toEqual(['info stopping', ...['http', 'routing', 'controllers', 'api', 'broker', 'audit log', 'informers', 'tls', 'store'].map((s) => `debug stopped ${s}`), 'info stopped']);
    await close(await listen(master.mqttPort));
  });

  it('a bad config is refused before anything starts', async () => {
    await expect(startMaster({ logLevel: 'loud' as never, logger: silentLogger })).rejects.toThrow(/logLevel: must be one of debug, info, warn, error/);
  });
});

/**
 * A port someone else holds (the test holds it: an ephemeral port, then passed as the flag): `skiff master`
 * and `skiff up` exit 1 at once, naming the port and the flag that moves it — the process ends by itself, so
 * nothing a half-done start-up took (listeners, the broker's timers, the store) is left holding it open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { requireBuild, skiffBin } from '../helpers/procs.js';
import { tempDir } from '../helpers/wait.js';

/** Runs `skiff ARGS` to its end (SIGKILL after `limitMs`, which the test then sees as a null code). */
function run(args: string[], env: Record<string, string>, limitMs = 15_000): Promise<{ code: number | null; ms: number; out: string; err: string }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [skiffBin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: Date.now() - t0, out, err });
    }),
  );
}

describe('e2e: a busy port', () => {
  let squatter: Server;
  let busy: number;
  let dir: string;
  beforeAll(async () => {
    requireBuild();
    dir = await tempDir('skiff-busy-');
    squatter = createServer();
    // On every address, so the master's 0.0.0.0 listener collides too.
    await new Promise<void>((r) => squatter.listen(0, () => r()));
    busy = (squatter.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => squatter.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['MQTT', ['--mqtt-port', 'BUSY', '--http-port=-1'], '--mqtt-port'],
    ['HTTP', ['--mqtt-port', '0', '--http-port', 'BUSY'], '--http-port'],
  ])('skiff master with the %s port in use exits 1 at once, naming the port and its flag', async (what, flags, flag) => {
    const r = await run(['master', '--data-dir', join(dir, `m-${what}`), '--bind', '127.0.0.1', '--no-mdns', ...flags.map((f) => (f === 'BUSY' ? String(busy) : f))], {});
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: ${what} port ${busy} is in use (${flag} to choose another)`);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.ms).toBeLessThan(10_000);
  }, 20_000);

  it('skiff up with the MQTT port in use says so at once, never a negative wait', async () => {
    const r = await run(['up', '--data-dir', join(dir, 'up'), '--mqtt-port', String(busy), '--http-port', '0'], { HOME: dir });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`MQTT port ${busy} is in use (--mqtt-port to choose another)`);
    expect(r.err).toMatch(/^error: the master exited \(1\) while waiting for/);
    expect(r.err).not.toMatch(/after -|gave up/);
    expect(r.ms).toBeLessThan(10_000);
  }, 20_000);
});

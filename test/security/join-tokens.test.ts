/**
 * Issue 13, join tokens with an expiry and a use count (`skiff token create --join --ttl --uses`): listed,
 * revocable; a used-up or expired one is refused with a message saying so — to the joiner and in the master's
 * log — and creates nothing; the bootstrap token keeps working.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as cli } from '../../cli/main.js';
import { startMaster, type Master } from '../../master/index.js';
import type { Logger } from '../../protocol/index.js';
import { testEngine } from '../helpers/cluster.js';
import { joinAs } from '../helpers/join.js';
import { eventually, tempDir } from '../helpers/wait.js';

describe('join tokens with a TTL and a use count (issue 13)', () => {
  let master: Master;
  let dir: string;
  /** The master's log lines, message and fields (an error as its message). */
  const lines: string[] = [];
  const line = (msg: string, f?: Record<string, unknown>) => void lines.push(`${msg} ${JSON.stringify(f ?? {}, (_k, v) => (v instanceof Error ? v.message : v))}`);
  const log: Logger & { lines: string[] } = { lines, debug: line, info: line, warn: line, error: line };
  const run = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await cli(['--server', master.tlsUrl, '--certificate-authority', join(dir, 'm', 'tls', 'ca.crt'), '--token', master.adminToken, ...args], { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), readStdin: async () => '', env: {} });
    return { code, out: out.join(''), err: err.join('') };
  };
  const nodeExists = async (name: string) => (await run('get', 'node', name)).code === 0;

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, mqttsPort: 0, mqttHost: '127.0.0.1', httpPort: -1, engine: testEngine, mdns: false, logger: log });
  });
  afterAll(async () => {
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a token with --uses 1 joins one node; the next join is refused as used up, and logged', async () => {
    const created = await run('token', 'create', '--join', 'kiosk', '--uses', '1');
    expect(created.code).toBe(0);
    expect(created.err).toContain('join token "kiosk" created (expires ');
    const token = created.out.trim();
    expect(token).toMatch(/^skiff1:sha256:[0-9a-f]{64}::[A-Za-z0-9_-]{43}$/);
    await joinAs(master.tlsUrl, token, 'kiosk-1');
    await expect(joinAs(master.tlsUrl, token, 'kiosk-2', { joinTimeoutMs: 5000 })).rejects.toMatchObject({
      code: 'SKIFF_ERR_JOIN_REJECTED',
      message: expect.stringContaining('the join token "kiosk" has been used up (1 of 1 joins)'),
    });
    expect(await nodeExists('kiosk-1')).toBe(true);
    expect(await nodeExists('kiosk-2')).toBe(false);
    expect(log.lines.some((l) => l.includes('join refused') && l.includes('has been used up'))).toBe(true);
  });

  it('an expired token is refused as expired; list shows the states; revoke and the bootstrap token', async () => {
    const token = (await run('token', 'create', '--join', 'short', '--ttl', '1s')).out.trim();
    await eventually(async () => (await run('token', 'list', '--join')).out.match(/^short\s+0s\s+0\/-\s+expired\s/m), 'the token expired');
    await expect(joinAs(master.tlsUrl, token, 'late-1', { joinTimeoutMs: 5000 })).rejects.toThrow(/the join token "short" expired at \d{4}-\d\d-\d\dT/);
    expect(log.lines.some((l) => l.includes('join refused') && l.includes('short') && l.includes('expired at'))).toBe(true);
    expect(await nodeExists('late-1')).toBe(false);

    const lasting = (await run('token', 'create', '--join', 'lasting', '--ttl', '0', '--uses', '3')).out.trim();
    const list = (await run('token', 'list', '--join')).out;
    expect(list).toMatch(/^NAME\s+TTL\s+USES\s+STATE\s+AGE$/m);
    expect(list).toMatch(/^bootstrap\s+<forever>\s+\d+\/-\s+valid\s/m);
    expect(list).toMatch(/^kiosk\s+\S+\s+1\/1\s+used up\s/m);
    expect(list).toMatch(/^lasting\s+<forever>\s+0\/3\s+valid\s/m);
    expect(await run('token', 'revoke', '--join', 'lasting')).toMatchObject({ code: 0, out: 'join token "lasting" revoked\n' });
    await expect(joinAs(master.tlsUrl, lasting, 'revoked-1', { joinTimeoutMs: 5000 })).rejects.toMatchObject({ code: 'SKIFF_ERR_UNAUTHORIZED' });
    expect((await run('token', 'revoke', 'kiosk')).err).toContain('"kiosk" is a join token: skiff token revoke --join kiosk');
    expect((await run('token', 'revoke', '--join', 'bootstrap')).err).toContain('skiff token rotate-join');
    await joinAs(master.tlsUrl, master.joinToken, 'boot-1'); // the bootstrap token: no TTL, no use count
    await joinAs(master.tlsUrl, master.joinToken, 'boot-2');
  });

  it('refuses bad flags with the flag named', async () => {
    expect((await run('token', 'create', '--join', '--ttl', 'soon')).err).toContain('--ttl: must be a duration');
    expect((await run('token', 'create', '--join', '--uses', '0')).err).toContain('--uses: must be at least 1');
    expect((await run('token', 'create', 'x', '--uses', '2')).err).toContain('--ttl and --uses go with --join');
  });
});

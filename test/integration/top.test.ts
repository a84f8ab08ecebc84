/** `skiff top nodes|pods` from the samples agents send, through the CLI in-process. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { eventually, isRunningReady, startCluster, type TestCluster } from '../helpers/cluster.js';

describe('top', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['metered'], {}, { metricsIntervalMs: 300 });
  }, 60_000);
  afterAll(async () => c?.stop());

  it('shows node and pod usage like kubectl top', async () => {
    await c.apply(`apiVersion: v1\nkind: Pod\nmetadata: {name: hog}\nspec: {containers: [{name: hog, command: [node, -e, "const a = Buffer.alloc(64 * 1024 * 1024, 1); setInterval(() => a[0]++, 1000)"]}]}\n`);
    await eventually(async () => (await c.pods()).some((p) => p.metadata.name === 'hog' && isRunningReady(p)), 'hog running');
    let out = '';
    const io = { stdout: (s: string) => void (out += s), stderr: (s: string) => void (out += s), readStdin: async () => '', env: {} };
    const cli = (...a: string[]) => main(['--server', c.master.url, '--token', c.master.adminToken, ...a], io);
    await eventually(async () => {
      out = '';
      return (await cli('top', 'pods')) === 0 && /^hog\s+\d+m\s+(\d+)Mi$/m.test(out) && Number(/^hog\s+\d+m\s+(\d+)Mi$/m.exec(out)![1]) >= 64;
    }, 'top pods shows hog with ≥ 64Mi', 20_000, 200);
    expect(out).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)$/m);
    out = '';
    expect(await cli('top', 'nodes')).toBe(0);
    expect(out).toMatch(/^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\)\nmetered\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\n$/);
    out = '';
    expect(await cli('top', 'deployments')).toBe(1);
    expect(out).toContain('skiff top: expected nodes or pods, got "deployments"');
  }, 60_000);
});

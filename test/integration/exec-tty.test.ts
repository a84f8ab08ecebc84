/**
 * `skiff exec -it POD -- sh` end to end: the CLI's main in-process with a terminal played by the test (raw
 * bytes in, bytes out, a size, resizes) → master relay → agent → `sh` on a real pty (util-linux script) in a
 * process pod, and back. A real TTY (`tty` names /dev/pts/N), the size and a resize, Ctrl-C interrupting the
 * remote foreground command, Ctrl-D ending the shell, the exit code; `-i` without a terminal; a WASI pod refused.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import type { CliTerminal } from '../../cli/types.js';
import { eventually, isRunningReady, startCluster, type TestCluster } from '../helpers/cluster.js';

/** A terminal for the CLI: what it writes is collected, what the test types is its input. */
class FakeTerminal implements CliTerminal {
  readonly input = new PassThrough();
  out = '';
  err = '';
  raw: boolean[] = [];
  rows = 24;
  cols = 80;
  private resized = new Set<() => void>();
  constructor(readonly isTTY: boolean) {}
  setRawMode(on: boolean): void {
    this.raw.push(on);
  }
  write(data: Uint8Array, done: () => void): void {
    this.out += Buffer.from(data).toString();
    done();
  }
  writeErr(data: Uint8Array): void {
    this.err += Buffer.from(data).toString();
  }
  size() {
    return this.isTTY ? { rows: this.rows, cols: this.cols } : undefined;
  }
  onResize(fn: () => void): () => void {
    this.resized.add(fn);
    return () => this.resized.delete(fn);
  }
  /** The window changed size (SIGWINCH). */
  resize(rows: number, cols: number): void {
    [this.rows, this.cols] = [rows, cols];
    for (const fn of this.resized) fn();
  }
  type(s: string): void {
    this.input.write(s);
  }
}

describe('exec -it', () => {
  let c: TestCluster;

  const cli = (args: string[], terminal: FakeTerminal) => {
    const r = { code: -1, out: '', err: '' };
    const io = { stdout: (s: string) => void (r.out += s), stderr: (s: string) => void (r.err += s), readStdin: async () => '', env: {}, terminal };
    const done = main(['--server', c.master.url, '--token', c.master.adminToken, 'exec', ...args], io).then((code) => ((r.code = code), r));
    return done;
  };

  beforeAll(async () => {
    c = await startCluster(['t1']);
    await c.apply(`apiVersion: v1
kind: Pod
metadata: {name: shell}
spec:
  containers: [{name: main, command: [sh, -c, 'exec sleep 100000'], env: [{name: GREETING, value: hi}]}]
`);
    await eventually(async () => (await c.pods()).some((p) => p.metadata.name === 'shell' && isRunningReady(p)), 'shell running', 20_000);
  }, 60_000);
  afterAll(async () => c?.stop());

  it('runs sh on a real terminal of the local size: tty, a resize, Ctrl-C to the remote command, the exit code', async () => {
    const t = new FakeTerminal(true);
    t.rows = 33;
    t.cols = 101;
    const run = cli(['-it', 'shell', '--', 'sh'], t);
    await eventually(() => t.raw.includes(true), 'raw mode on');
    t.type('tty; stty size; echo "env=$GREETING"\n');
    await eventually(() => /\/dev\/pts\/\d+/.test(t.out) && t.out.includes('33 101') && t.out.includes('env=hi'), 'tty, size and env answered');
    t.resize(40, 120);
    t.type('stty size\n');
    await eventually(() => t.out.includes('40 120'), 'the new size inside');
    // Ctrl-C is a byte: the remote terminal turns it into SIGINT for its foreground command, the shell lives.
    t.type('sleep 1000\n');
    await new Promise((r) => setTimeout(r, 500));
    t.type('\x03');
    t.type('echo "after=$?"\n');
    await eventually(() => t.out.includes('after=130'), 'sleep interrupted by the remote Ctrl-C').catch((err: Error) => {
      throw new Error(`${err.message}; the terminal showed: ${JSON.stringify(t.out)}`);
    });
    t.type('exit 3\n');
    const r = await run;
    expect(r.code).toBe(3);
    expect(r.err).toBe('command terminated with exit code 3\n');
    expect(t.raw).toEqual([true, false]); // the local terminal back to its mode
  }, 30_000);

  it('Ctrl-D at the prompt ends the shell with 0', async () => {
    const t = new FakeTerminal(true);
    const run = cli(['-it', 'shell', '--', 'sh'], t);
    await eventually(() => t.raw.includes(true), 'raw mode on');
    t.type('echo ready\n');
    // The terminal echoes the line typed, then the shell prints the answer: "ready" twice.
    await eventually(() => (t.out.match(/ready/g) ?? []).length >= 2, 'the shell answered').catch((err: Error) => {
      throw new Error(`${err.message}; the terminal showed: ${JSON.stringify(t.out)}`);
    });
    t.type('\x04');
    expect((await run).code).toBe(0);
  }, 30_000);

  it('-i without a terminal passes stdin and keeps stdout and stderr apart; -t on a pipe goes on without one, as kubectl', async () => {
    const t = new FakeTerminal(false);
    const run = cli(['-i', '-t', 'shell', '--', 'sh', '-c', 'cat; echo oops >&2; tty || exit 4'], t);
    t.input.end('line one\nline two\n');
    const r = await run;
    expect(r.err).toContain('Unable to use a TTY - input is not a terminal or the right kind of file');
    expect(t.out).toBe('line one\nline two\nnot a tty\n');
    expect(t.err).toBe('oops\n');
    expect(r.code).toBe(4);
    expect(t.raw).toEqual([]);
  }, 30_000);

  it('a WASI pod has nothing to exec into: refused with the reason', async () => {
    await c.apply(`apiVersion: v1
kind: Pod
metadata: {name: module}
spec:
  runtimeClassName: wasi
  containers: [{name: m, image: 'file:///nonexistent/m.wasm'}]
`);
    // Once its agent holds the pod (it reports the container's state), the refusal is the agent's reason for WASI;
    // asked sooner, the bound pod may not have reached the agent yet and the answer would be "not found on this node".
    await eventually(async () => (await c.pods()).find((p) => p.metadata.name === 'module')?.status?.containerStatuses?.length, 'the agent reported the pod');
    const t = new FakeTerminal(true);
    const r = await cli(['-it', 'module', '--', 'sh'], t);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not (running|supported)/);
    expect(t.raw.at(-1) ?? false).toBe(false);
  }, 30_000);
});

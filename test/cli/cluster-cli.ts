/**
 * Running the real `skiff` CLI in-process against a real in-process master (test/helpers/cluster.ts):
 * `cli('get', 'pods')` resolves with the exit code and what was printed. HOME is a temp dir, so no
 * user config leaks in; `opts.env` adds to the environment, `opts.signal` is Ctrl-C.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import type { Master } from '../../master/index.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  signal?: AbortSignal;
  /** Called with everything printed so far, after each write. */
  onStdout?(all: string): void;
  /** Without --server/--token: the connection comes from the environment or a config file. */
  bare?: boolean;
}

/** A CLI bound to `master`. */
export function cliFor(master: Master): (args: string[], opts?: CliOptions) => Promise<CliRun> {
  const home = mkdtempSync(join(tmpdir(), 'skiff-cli-home-'));
  return async (args, opts = {}) => {
    let stdout = '';
    let stderr = '';
    const conn = opts.bare ? [] : ['--server', master.url, '--token', master.adminToken];
    const code = await main([...conn, ...args], {
      stdout: (s) => {
        stdout += s;
        opts.onStdout?.(stdout);
      },
      stderr: (s) => void (stderr += s),
      readStdin: async () => opts.stdin ?? '',
      env: { HOME: home, PATH: process.env.PATH, ...opts.env },
      signal: opts.signal,
    });
    return { code, stdout, stderr };
  };
}

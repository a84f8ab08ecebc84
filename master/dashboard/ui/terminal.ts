/**
 * The terminal behind the exec panel, in its own chunk (xterm.js is the largest part of the dashboard
 * and most visits never open it). `TermSession` is the seam: `LineExecSession` runs one `exec` per typed
 * line (what the API offers today); a TTY session (stdin and resize over the same API topic) will
 * implement the same three methods.
 */
import { Terminal } from '@xterm/xterm';
import type { Session } from './api.js';

/** What the terminal needs from whatever runs commands. */
export interface TermSession {
  /** Keys the user typed (raw, as xterm.js hands them over). */
  input(data: string): void;
  /** The terminal's size changed. */
  resize(cols: number, rows: number): void;
  dispose(): void;
}

/** Where the commands run. */
export interface ExecTarget {
  namespace: string;
  name: string;
  container: string;
}

const prompt = '\x1b[32m$\x1b[0m ';

/** A line editor in the browser: Enter runs the line with `exec`, Ctrl-C cancels a running command. */
export class LineExecSession implements TermSession {
  private line = '';
  private cancel?: () => void;

  constructor(
    private readonly api: Session,
    private readonly target: ExecTarget,
    private readonly write: (s: string) => void,
  ) {
    write(`exec into ${target.namespace}/${target.name} (container ${target.container})\r\n${prompt}`);
  }

  input(data: string): void {
    for (const ch of data) {
      if (ch === '\x03') this.interrupt();
      else if (this.cancel) continue; // no stdin yet: keys typed while a command runs are dropped
      else if (ch === '\r') this.run();
      else if (ch === '\x7f') {
        if (this.line) {
          this.line = this.line.slice(0, -1);
          this.write('\b \b');
        }
      } else if (ch >= ' ') {
        this.line += ch;
        this.write(ch);
      }
    }
  }

  resize(): void {
    // a line-mode exec has no TTY to resize
  }

  dispose(): void {
    this.cancel?.();
  }

  private run(): void {
    const cmd = this.line.trim();
    this.line = '';
    this.write('\r\n');
    if (!cmd) return this.write(prompt);
    this.cancel = this.api.stream(
      'exec',
      { ...this.target, command: ['sh', '-c', cmd] },
      (res) => {
        if (typeof res.chunk === 'string') this.write((res.stream === 'stderr' ? '\x1b[31m' : '') + res.chunk.replace(/\r?\n/g, '\r\n') + (res.stream === 'stderr' ? '\x1b[0m' : ''));
        const code = (res.result as { exitCode?: number } | undefined)?.exitCode;
        if (code !== undefined && code !== 0) this.write(`\x1b[33m[exit ${code}]\x1b[0m\r\n`);
      },
      (err) => {
        if (err) this.write(`\x1b[31m${err.message}\x1b[0m\r\n`);
        this.cancel = undefined;
        this.write(prompt);
      },
    );
  }

  private interrupt(): void {
    if (this.cancel) {
      this.cancel();
      this.cancel = undefined;
      this.write('^C\r\n' + prompt);
    } else {
      this.line = '';
      this.write('^C\r\n' + prompt);
    }
  }
}

/** Opens a terminal in `el` on a line-mode exec session; returns its disposer. */
export function openTerminal(el: HTMLElement, api: Session, target: ExecTarget): () => void {
  const term = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 13, rows: 24, theme: { background: '#111418' } });
  term.open(el);
  const session: TermSession = new LineExecSession(api, target, (s) => term.write(s));
  const sub = term.onData((d) => session.input(d));
  const rs = term.onResize(({ cols, rows }) => session.resize(cols, rows));
  term.focus();
  return () => {
    sub.dispose();
    rs.dispose();
    session.dispose();
    term.dispose();
  };
}

/**
 * Progress of a long CLI operation (rollout status, drain; fleet upgrades and image pulls later), as
 * kubectl shows it: each new status line once, in plain text (`Waiting for deployment "web" rollout to
 * finish: 1 of 3 updated replicas are available...`). On a terminal the current line also carries a
 * spinner and the time waited, redrawn in place; when stdout is not a terminal (a script, a pipe, CI, a
 * log file) there is no spinner, no redraw and no control character — only the plain lines.
 */
import type { CliIO } from './types.js';

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Redraws of the live line: 10 a second. */
const tickMs = 100;

/** One operation's progress. */
export class Progress {
  private last = '';
  private live = '';
  private since = 0;
  private frame = 0;
  private timer?: ReturnType<typeof setInterval>;
  private readonly tty: boolean;

  constructor(
    private readonly io: CliIO,
    opts: { tty?: boolean } = {},
  ) {
    this.tty = opts.tty ?? io.isTTY === true;
  }

  /** A status line: printed when it differs from the previous one; on a terminal it stays live (spinner, time waited) until the next. */
  update(text: string): void {
    if (text === this.last) return;
    this.last = text;
    if (!this.tty) return this.io.stdout(text + '\n');
    this.settle();
    this.live = text;
    this.since = Date.now();
    this.timer ??= setInterval(() => this.draw(), tickMs);
    this.draw();
  }

  /** A line that is not a status (`evicting pod default/web-1`): printed once, above the live line. */
  note(text: string): void {
    if (!this.tty) return this.io.stdout(text + '\n');
    this.erase();
    this.io.stdout(text + '\n');
    if (this.live) this.draw();
  }

  /** The outcome: the live line is settled and `text` (if any) printed; the progress is over. */
  done(text?: string): void {
    this.stop();
    if (text !== undefined && text !== this.last) this.io.stdout(text + '\n');
    this.last = text ?? this.last;
  }

  /** Ends the redraws, leaving the last status as a plain line. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty) this.settle();
  }

  /** Replaces the live line by its plain text (what a non-terminal would have shown). */
  private settle(): void {
    if (!this.live) return;
    this.erase();
    this.io.stdout(this.live + '\n');
    this.live = '';
  }

  private erase(): void {
    if (this.live) this.io.stdout('\r\x1b[K');
  }

  private draw(): void {
    if (!this.live) return;
    const waited = Math.floor((Date.now() - this.since) / 1000);
    this.frame = (this.frame + 1) % frames.length;
    this.io.stdout(`\r\x1b[K${frames[this.frame]} ${this.live}${waited > 0 ? ` (${waited}s)` : ''}`);
  }
}

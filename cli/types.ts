/** Small interfaces shared by the CLI's commands. */
import type { ApiResponse } from '../protocol/index.js';

/** Where a command reads and writes: process streams in `bin/skiff.js`, buffers in tests. */
export interface CliIO {
  /** Writes to standard output (no newline added). */
  stdout(text: string): void;
  /** Writes to standard error (no newline added). */
  stderr(text: string): void;
  /** Reads all of standard input (for `apply -f -`). */
  readStdin(): Promise<string>;
  /** Environment variables (SKIFF_SERVER, SKIFF_TOKEN, SKIFF_CONFIG, HOME). */
  env: Record<string, string | undefined>;
  /** Aborted on Ctrl-C: ends `get -w` and `logs -f` cleanly. */
  signal?: AbortSignal;
  /** Clock in ms since epoch, for AGE columns (tests pin it). */
  now?(): number;
  /** True when stdout is a terminal: progress gets a live line (cli/progress.ts); false or absent: plain lines only. */
  isTTY?: boolean;
  /** The terminal, for an interactive command (`exec -it`); absent where there is none to hand over (tests that need none). */
  terminal?: CliTerminal;
}

/** Standard input and output as bytes, and the terminal's mode and size: what `exec -i/-t` hands to the remote command. */
export interface CliTerminal {
  /** Standard input as it comes (paused until read). */
  input: NodeJS.ReadableStream;
  /** Standard input is a terminal (raw mode and a size exist). */
  isTTY: boolean;
  /** Raw mode: every key, Ctrl-C and Ctrl-D included, goes to the remote terminal as a byte. */
  setRawMode(on: boolean): void;
  /** Writes to standard output; `done` once it was taken (flow control). */
  write(data: Uint8Array, done: () => void): void;
  /** Writes to standard error. */
  writeErr(data: Uint8Array): void;
  /** The terminal's size, when standard output is one. */
  size(): { rows: number; cols: number } | undefined;
  /** Calls `fn` on every change of the terminal's size (SIGWINCH); returns the unsubscribe. */
  onResize(fn: () => void): () => void;
}

/** The request/response API as commands see it. */
export interface Api {
  /** Sends one request and resolves with its `result`; rejects with a SkiffError. */
  request<T = unknown>(verb: string, params?: Record<string, unknown>): Promise<T>;
  /**
   * Sends a streaming request (watch, logs -f) and calls `onMessage` for every response until one has
   * `done: true` or `signal` aborts (a `cancel` is then sent).
   */
  stream(verb: string, params: Record<string, unknown>, onMessage: (res: ApiResponse) => void, signal?: AbortSignal, onOpen?: (id: string) => void): Promise<void>;
  /** Sends a request that gets no answer (a piece into an open stream: `input`). */
  notify(verb: string, params: Record<string, unknown>): void;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** Where to reach the master and as whom. */
export interface Connection {
  server: string;
  user: string;
  token?: string;
  /** The cluster CA (PEM) an mqtts:// master must present a certificate of; without it the system's CAs. */
  ca?: string;
  /** How long to wait for the connection and for each answer, ms. */
  timeoutMs: number;
}

/** What every command receives. */
export interface CommandContext {
  io: CliIO;
  /** Opens the API connection lazily, so `--help` and local errors never touch the network. */
  api(): Promise<Api>;
  /** Where and as whom the API connects (flags, environment, context), resolved without connecting. */
  connection(): Connection;
  now(): number;
}

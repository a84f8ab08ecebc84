/**
 * The master's logger: pino, created once at start-up and handed to every part (as `ctx.log` or a
 * constructor option). JSON lines (`--log-format json`: `level` as a name, ISO `time`, `msg`,
 * fields) or the text line the agent prints too (protocol/log.ts), on stderr; stdout keeps the banner.
 *
 * The text format is a few lines here rather than pino-pretty: pino-pretty brings thirteen packages
 * and runs as a worker-thread transport (lines written just before exit can be lost), while this
 * writes each line synchronously in the same shape as the agent's.
 */
import { pino } from 'pino';
import { formatLogLine, type LogLevel, type Logger } from '../protocol/index.js';

/** How log lines are written. */
export type LogFormat = 'text' | 'json';

/** Where lines go (tests pass their own; default: stderr). */
export interface LogSink {
  write(line: string): void;
}

/** What `createLogger` needs. */
export interface LogOptions {
  format: LogFormat;
  /** The least severe level written; `silent` writes nothing. */
  level: LogLevel | 'silent';
  sink?: LogSink;
}

/** pino fields the text line leaves out: the line already shows time and level; pid and host are the machine's. */
const textOmits = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** A pino destination that turns each JSON line into the text line. */
function textSink(out: LogSink): LogSink {
  return {
    write(json: string) {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(json) as Record<string, unknown>;
      } catch {
        out.write(json);
        return;
      }
      const fields = Object.fromEntries(Object.entries(o).filter(([k]) => !textOmits.has(k)));
      out.write(formatLogLine(String(o.time), String(o.level), String(o.msg ?? ''), fields) + '\n');
    },
  };
}

const stderrSink: LogSink = { write: (line) => void process.stderr.write(line) };

/** Creates the master's one logger. */
export function createLogger(opts: LogOptions): Logger {
  const sink = opts.sink ?? (opts.format === 'json' ? pino.destination({ fd: 2, sync: true }) : stderrSink);
  const p = pino(
    {
      level: opts.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names, not pino's numbers: `jq 'select(.level == "warn")'` reads as it says.
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.format === 'json' ? sink : textSink(sink),
  );
  return {
    debug: (msg, f) => (f ? p.debug(f, msg) : p.debug(msg)),
    info: (msg, f) => (f ? p.info(f, msg) : p.info(msg)),
    warn: (msg, f) => (f ? p.warn(f, msg) : p.warn(msg)),
    error: (msg, f) => (f ? p.error(f, msg) : p.error(msg)),
  };
}

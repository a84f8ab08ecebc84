/**
 * The logger shape master and agent share, and the one text line format both print. The master
 * implements it on pino (JSON or this text); the agent with a few lines of its own (no pino on the
 * boards: see docs/operations.md, "Logs").
 */

/** Structured fields of a log line: `{node: 'pi-1'}`, `{err}`, `{component: 'scheduler'}`. */
export type LogFields = Record<string, unknown>;

/** A levelled logger: one message, optional structured fields. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** The levels, least severe first. */
export const logLevels = ['debug', 'info', 'warn', 'error'] as const;

/** A log level. */
export type LogLevel = (typeof logLevels)[number];

/** A logger that drops everything (tests, tools that embed the master). */
export const silentLogger: Logger = Object.freeze({ debug() {}, info() {}, warn() {}, error() {} });

/** A logger that adds `fields` to every line of `log` (a component's own logger). */
export function withFields(log: Logger, fields: LogFields): Logger {
  const merge = (f?: LogFields) => (f ? { ...fields, ...f } : fields);
  return {
    debug: (m, f) => log.debug(m, merge(f)),
    info: (m, f) => log.info(m, merge(f)),
    warn: (m, f) => log.warn(m, merge(f)),
    error: (m, f) => log.error(m, merge(f)),
  };
}

/** `key=value`: a string quoted as JSON when it holds spaces, quotes or `=` (logfmt's rule); an error as its message; anything else as JSON. */
function fieldValue(v: unknown): string {
  if (typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string') v = (v as { message: string }).message;
  if (typeof v !== 'string') return JSON.stringify(v) ?? String(v);
  return v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
}

/**
 * One text line: `2026-11-27T12:00:00.000Z warn scheduler: message key=value ...`. The `component`
 * field prefixes the message; an error (`err`) prints its message.
 */
export function formatLogLine(time: string, level: string, msg: string, fields: LogFields = {}): string {
  const { component, ...rest } = fields;
  const prefix = typeof component === 'string' && component ? `${component}: ` : '';
  const tail = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}=${fieldValue(v)}`)
    .join('');
  return `${time} ${level} ${prefix}${msg}${tail}`;
}

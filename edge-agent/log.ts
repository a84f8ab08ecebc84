/**
 * The agent's logger: `2026-11-27T12:00:00.000Z warn desired: dropped a payload ...` on stderr, the
 * same line shape as the master's text logs (protocol/log.ts). No pino here: the agent must start
 * fast on a Pi and run on Node 18 (see docs/operations.md, "Logs").
 */
import { formatLogLine, logLevels, type LogLevel, type Logger } from '../protocol/log.js';

export type { Logger } from '../protocol/log.js';

const rank = (l: LogLevel) => logLevels.indexOf(l);
const isLevel = (s: string | undefined): s is LogLevel => (logLevels as readonly string[]).includes(s ?? '');

/** A logger writing to stderr at or above `min` (SKIFF_LOG_LEVEL=debug shows everything). */
export function consoleLogger(min: LogLevel = isLevel(process.env.SKIFF_LOG_LEVEL) ? process.env.SKIFF_LOG_LEVEL : 'info'): Logger {
  const line = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (rank(level) >= rank(min)) process.stderr.write(formatLogLine(new Date().toISOString(), level, msg, fields) + '\n');
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/** A logger that prefixes every line with a component name (`desired: ...`). */
export function scoped(log: Logger, component: string): Logger {
  return {
    debug: (m, f) => log.debug(`${component}: ${m}`, f),
    info: (m, f) => log.info(`${component}: ${m}`, f),
    warn: (m, f) => log.warn(`${component}: ${m}`, f),
    error: (m, f) => log.error(`${component}: ${m}`, f),
  };
}

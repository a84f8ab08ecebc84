/** The agent's one-line logger: `2026-11-27T12:00:00.000Z warn desired: dropped a payload ...` on stderr. */

/** Where the agent writes its log lines; tests pass their own to capture or silence them. */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

type Level = keyof Logger;
const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A logger writing to stderr at or above `min` (SKIFF_LOG_LEVEL=debug shows everything). */
export function consoleLogger(min: Level = (process.env.SKIFF_LOG_LEVEL as Level) in order ? (process.env.SKIFF_LOG_LEVEL as Level) : 'info'): Logger {
  const line = (level: Level) => (msg: string) => {
    if (order[level] >= order[min]) process.stderr.write(`${new Date().toISOString()} ${level} ${msg}\n`);
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/** A logger that prefixes every line with a component name (`desired: ...`). */
export function scoped(log: Logger, component: string): Logger {
  return {
    debug: (m) => log.debug(`${component}: ${m}`),
    info: (m) => log.info(`${component}: ${m}`),
    warn: (m) => log.warn(`${component}: ${m}`),
    error: (m) => log.error(`${component}: ${m}`),
  };
}

import winston, { type Logger } from 'winston';
import { redactSecrets, redactValue } from './redact.js';

export const DEFAULT_LOG_LEVEL = 'info';

export interface LoggerOptions {
  /** winston level. Default `DEFAULT_LOG_LEVEL` (`info`). */
  readonly level?: string;
  /** `json` lines, or `pretty` (timestamp, level, message, fields). Default `pretty`. */
  readonly format?: 'json' | 'pretty';
  /** Where lines go. Default: a stderr console transport, so that stdout stays for results. */
  readonly transports?: winston.transport[];
  readonly silent?: boolean;
}

/** Strips credentials of connection strings from every message and field before any transport sees them. */
export const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    info[key] = key === 'message' && typeof info[key] === 'string' ? redactSecrets(info[key]) : redactValue(info[key]);
  }
  return info;
});

/** The library's default winston logger. Pass your own to `Migrator` to route logs elsewhere. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const format =
    options.format === 'json'
      ? winston.format.combine(redactFormat(), winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          redactFormat(),
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.printf(({ timestamp, level, message, ...fields }) => {
            const extra = Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
            return `${String(timestamp)} ${level} ${String(message)}${extra}`;
          }),
        );
  return winston.createLogger({
    level: options.level ?? DEFAULT_LOG_LEVEL,
    silent: options.silent ?? false,
    format,
    transports: options.transports ?? [new winston.transports.Console({ stderrLevels: Object.keys(winston.config.npm.levels) })],
  });
}

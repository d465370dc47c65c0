/**
 * The CLI's log: one line per event, filtered by level, as plain text (the
 * message alone; warnings and errors on stderr) or as JSON lines.
 */
import type { CliIo } from './io.js'

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export type LogFormat = 'text' | 'json'

export interface Log {
  error(message: string): void
  warn(message: string): void
  info(message: string): void
  debug(message: string): void
}

export function createLog(io: CliIo, level: LogLevel = 'info', format: LogFormat = 'text'): Log {
  const threshold = LOG_LEVELS.indexOf(level)
  const write = (at: LogLevel) => (message: string) => {
    if (LOG_LEVELS.indexOf(at) > threshold) return
    const line =
      format === 'json' ? JSON.stringify({ time: new Date().toISOString(), level: at, msg: message }) : message
    if (at === 'error' || at === 'warn') io.err(line)
    else io.out(line)
  }
  return { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug') }
}

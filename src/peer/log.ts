/**
 * The named loggers of a peer's parts (`sharedmem:sync`, `sharedmem:dialer`, …). Without a
 * `logger` option they are @libp2p/logger's (the `debug` module: `DEBUG=sharedmem:*`); with one
 * (pino, or anything with its five methods), every line goes to the app's logger instead, at its
 * level, so the app's logs carry the peer's.
 */
import { format } from 'node:util'
import type { Logger } from '@libp2p/interface'
import { logger as debugLogger } from '@libp2p/logger'
import type { PeerLogger } from '../contract.js'

/** A part's logger: libp2p's (a call logs at debug level; `error`, `trace`) with `warn` and `info`. */
export interface PartLog extends Logger {
  warn(formatter: string, ...args: unknown[]): void
  info(formatter: string, ...args: unknown[]): void
}

/** Makes the logger of a named part. */
export type PartLogs = (component: string) => PartLog

/** The loggers of a peer's parts: @libp2p/logger's, or adapters to `app` when given. */
export function partLogs(app?: PeerLogger): PartLogs {
  return app === undefined ? debugLog : (component) => appLog(app, component)
}

function debugLog(component: string): PartLog {
  const log = debugLogger(component)
  // The debug module has no levels but these; a warning is shown with the errors (`<name>:error`).
  return Object.assign(log, { warn: log.error, info: log })
}

/**
 * `%e` (an error) is @libp2p/logger's own format; the others are Node's (`%s`, `%d`, `%j`, `%o`).
 * The line is formatted here, so that any logger of the pino shape gets one plain message.
 */
function line(formatter: unknown, args: unknown[]): string {
  const text = typeof formatter === 'string' ? formatter.replaceAll('%e', '%s') : String(formatter)
  return format(text, ...args.map((a) => (a instanceof Error ? a.message : a)))
}

function appLog(app: PeerLogger, component: string): PartLog {
  // A child carries the component as a field (pino's way); without one, the line names it.
  const target = app.child?.({ component }) ?? app
  const prefix = app.child === undefined ? `${component}: ` : ''
  const at =
    (level: keyof PeerLogger & ('trace' | 'debug' | 'info' | 'warn' | 'error')) =>
    (formatter: unknown, ...args: unknown[]): void => {
      target[level](prefix + line(formatter, args))
    }
  const log = Object.assign(at('debug'), {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    trace: at('trace'),
    enabled: true,
    newScope: (name: string) => appLog(app, `${component}:${name}`)
  })
  return log
}

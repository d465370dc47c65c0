/**
 * The `sharedmem` command. `main(argv)` parses the arguments, runs the command
 * and resolves the exit code; only the CLI writes to the console.
 *
 * The flags of `peer` and `server`, their environment variables and config-file keys come
 * from one table (settings.ts). Precedence: flag, then environment, then config file, then default.
 */
import { readFileSync } from 'node:fs'
import { Command, type Option } from 'commander'
import { DEFAULT_HTTP_PORT, DEFAULT_SERVER_PEER_PORT } from '../constants.js'
import { ErrorCode, SharedMemError } from '../errors.js'
import { DEFAULT_URL } from '../http/client.js'
import { writeSwarmKey } from '../peer/swarm-key.js'
import { applyConfigFile } from './config-file.js'
import type { CliIo } from './io.js'
import { runPeer } from './peer.js'
import { addSettings, port, settingOption } from './settings.js'
import { runStatus } from './status.js'

/** Errors that say a flag (or a setting of the environment or config file) is wrong. */
const FLAG_ERRORS = new Set<string>([ErrorCode.INVALID_ARGUMENT, ErrorCode.INVALID_ADDRESS])

/** The line after a flag error: where every flag is explained (instead of the whole help text). */
const helpHint = (command: string): string => `see \`${command} --help\``

const consoleIo: CliIo = { out: (line) => console.log(line), err: (line) => console.error(line) }

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

/** An option that can also come from SHAREDMEM_<FLAG>. */
function option(flags: string, description: string, parse?: (value: string, previous: unknown) => unknown): Option {
  return settingOption({ flags, description, parse })
}

export async function main(argv: string[] = process.argv, io: CliIo = consoleIo): Promise<number> {
  let exitCode = 0
  /** The command running, whose --help a flag error points to. */
  let command = 'sharedmem'
  const program = new Command()
    .name('sharedmem')
    .description(
      'Shared memory for Node.js processes across CPUs and servers: a peer-to-peer replicated key/value store.'
    )
    .version(version())
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .showHelpAfterError(helpHint('sharedmem'))
    .hook('preAction', (_program, action) => {
      command = `sharedmem ${action.name()}`
      applyConfigFile(action)
    })

  addSettings(program.command('peer').showHelpAfterError(helpHint('sharedmem peer')))
    .description('run a standalone peer (add --http <port> for the HTTP API and test page)')
    .addOption(option('--http <port>', 'serve the HTTP API and the test page on this port', port))
    .action(async (opts) => {
      exitCode = await runPeer(opts, io)
    })

  addSettings(program.command('server').showHelpAfterError(helpHint('sharedmem server')))
    .description('run a standalone peer with the HTTP API and test page (the classic way: sharedmem server -p 3000)')
    .addOption(option('-p, --port <port>', 'HTTP port', port).default(DEFAULT_HTTP_PORT))
    .action(async (opts) => {
      exitCode = await runPeer(
        { ...opts, http: opts.port, httpFlag: '-p', listen: opts.listen ?? [String(DEFAULT_SERVER_PEER_PORT)] },
        io
      )
    })

  program
    .command('status')
    .showHelpAfterError(helpHint('sharedmem status'))
    .description("print a running peer's status (read over its HTTP API)")
    .addOption(option('--http <url>', `the peer's HTTP API (default: ${DEFAULT_URL})`))
    .addOption(option('--token <token>', 'bearer token of the HTTP API'))
    .option('--json', 'print the status as JSON')
    .action(async (opts) => {
      exitCode = await runStatus(opts, io)
    })

  program
    .command('keygen')
    .showHelpAfterError(helpHint('sharedmem keygen'))
    .description('write a new private swarm key to <file> (mode 0600); give it to every peer with --swarm-key')
    .argument('<file>', 'where to write the key; an existing file is never overwritten')
    .action(async (file: string) => {
      await writeSwarmKey(file)
      io.out(
        `wrote a new swarm key to ${file}; copy it to every peer of the swarm and start them with --swarm-key ${file}`
      )
    })

  try {
    await program.parseAsync(argv)
  } catch (err) {
    const e = err as { code?: string; exitCode?: number }
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0
    if (typeof e.exitCode === 'number' && e.code?.startsWith('commander.')) return e.exitCode
    io.err(err instanceof SharedMemError ? `error: ${err.message} (${err.code})` : `error: ${(err as Error).message}`)
    if (err instanceof SharedMemError && FLAG_ERRORS.has(err.code)) io.err(helpHint(command))
    return 1
  }
  return exitCode
}

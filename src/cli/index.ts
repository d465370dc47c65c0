/**
 * The `sharedmem` command. `main(argv)` parses the arguments, runs the command
 * and resolves the exit code; only the CLI writes to the console.
 *
 * Every flag of `peer` and `server` can also come from an environment variable
 * (SHAREDMEM_ and the flag in upper snake case: --swarm-key → SHAREDMEM_SWARM_KEY)
 * and from a JSON config file (--config, keys as the flags: "swarm-key" or
 * "swarmKey"). Precedence: flag, then environment, then config file, then default.
 */
import { readFileSync } from 'node:fs'
import { Command, InvalidArgumentError, Option } from 'commander'
import { DEFAULT_HTTP_PORT, DEFAULT_PEER_PORT, DEFAULT_SERVER_PEER_PORT, DEFAULT_SWARM } from '../constants.js'
import { ErrorCode, invalidArgument, SharedMemError } from '../errors.js'
import { DEFAULT_URL } from '../http/client.js'
import { writeSwarmKey } from '../peer/swarm-key.js'
import type { CliIo } from './io.js'
import { LOG_LEVELS } from './log.js'
import { runPeer } from './peer.js'
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

function number(check: (n: number) => boolean, expected: string) {
  return (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !check(n)) throw new InvalidArgumentError(`expected ${expected}`)
    return n
  }
}
const port = number((n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number 0–65535')
const positive = number((n) => Number.isFinite(n) && n > 0, 'a positive number')
const nonNegative = number((n) => Number.isFinite(n) && n >= 0, 'a number ≥ 0')

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').filter(Boolean)]
}

/** An option that can also come from SHAREDMEM_<FLAG>. */
function option(flags: string, description: string, parse?: (value: string, previous: never) => unknown): Option {
  const opt = new Option(flags, description)
  const long = opt.long?.replace(/^--/, '') ?? ''
  opt.env(`SHAREDMEM_${long.toUpperCase().replace(/-/g, '_')}`)
  if (parse !== undefined) opt.argParser(parse as (value: string, previous: never) => never)
  return opt
}

/** Flags shared by `peer` and `server`. */
function peerOptions(cmd: Command): Command {
  const options = [
    option(
      '-l, --listen <addr>',
      `address to listen on: multiaddr, port (on 127.0.0.1) or host:port; repeatable (default: ${DEFAULT_PEER_PORT} for peer, a free port for server)`,
      collect
    ),
    option(
      '-b, --bootstrap <addr>',
      'peer to join through: multiaddr (with or without /p2p/<id>) or host:port; repeatable or comma-separated',
      collect
    ),
    option(
      '-r, --rendezvous <dir>',
      'directory where the peers of this host find each other with no bootstrap address; "off" turns it off (default: <tmpdir>/sharedmem-<uid>)'
    ),
    option('-i, --identity <file>', 'identity key file, created (mode 0600) if missing, so restarts keep the peer id'),
    option('-d, --data-dir <dir>', 'keep the replica (and the identity key) in this directory, across restarts'),
    option(
      '--fsync-interval <ms>',
      'with --data-dir: write and fsync stored updates this often; 0 = at once (default: 100)',
      nonNegative
    ),
    option(
      '--durable-writes',
      'with --data-dir: acknowledge a write only once it is fsynced (within --fsync-interval)'
    ),
    option('-s, --swarm <name>', 'swarm name: only peers with the same name share data').default(DEFAULT_SWARM),
    option(
      '-k, --swarm-key <file>',
      'private swarm key file (from sharedmem keygen): only peers with the same key connect'
    ),
    option(
      '--allow-peer <id>',
      'peer id allowed to connect (others are refused); repeatable or comma-separated',
      collect
    ),
    option(
      '--sign-messages',
      'sign every gossip message and accept writes only from their signer (all peers must agree)'
    ),
    option('--http-host <host>', 'interface the HTTP API binds to').default('127.0.0.1'),
    option('--token <token>', 'bearer token the HTTP API requires (default: none)'),
    option(
      '--cors <origin>',
      'origin allowed to call the HTTP API from a browser; repeatable (default: CORS off)',
      collect
    ),
    option(
      '--max-entries <n>',
      'most live entries local writes may create; a save of a new key beyond it fails with ERR_STORE_FULL (default: no cap)',
      positive
    ),
    option(
      '--max-clock-skew <ms>',
      "largest lead of a remote write's timestamp over this host's clock; later ones are refused (default: 60000)",
      positive
    ),
    option('--sync-interval <ms>', 'time between periodic sync rounds with a random peer (default: 10000)', positive),
    option(
      '--tombstone-ttl <ms>',
      'how long removed and expired entries are kept before they are collected: the tombstone horizon (default: 86400000, 24 h)',
      positive
    ),
    option(
      '--collect-interval <ms>',
      'how often removed and expired entries older than --tombstone-ttl are collected (default: 60000)',
      positive
    ),
    option(
      '--status-interval <s>',
      'log a status line (peers, entries, last sync) this often; 0 = never',
      nonNegative
    ).default(60),
    option('--log-level <level>', 'least severe log lines printed')
      .choices([...LOG_LEVELS])
      .default('info'),
    option('--log-format <format>', 'log lines as plain text or JSON').choices(['text', 'json']).default('text'),
    new Option(
      '-c, --config <file>',
      'JSON file with any of these settings (keys as the flags); flags and environment win'
    ),
    option('--test-faults', 'serve the test-only fault injection endpoint').hideHelp()
  ]
  for (const opt of options) cmd.addOption(opt)
  return cmd
}

/** Fills every setting not given by a flag or the environment from the --config file. */
function applyConfigFile(cmd: Command): void {
  const file = cmd.getOptionValue('config') as string | undefined
  if (file === undefined) return
  let config: unknown
  try {
    config = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw invalidArgument(`cannot read the config file ${file}: ${(err as Error).message}`)
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw invalidArgument(`the config file ${file} must hold a JSON object`)
  }
  for (const [key, value] of Object.entries(config)) {
    const name = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
    const opt = cmd.options.find((o) => o.attributeName() === name && name !== 'config')
    if (opt === undefined) throw invalidArgument(`unknown setting "${key}" in ${file}`)
    const source = cmd.getOptionValueSource(name)
    if (source === 'cli' || source === 'env') continue
    let parsed: unknown = value
    if (opt.isBoolean()) {
      if (typeof value !== 'boolean') throw invalidArgument(`"${key}" in ${file} must be true or false`)
    } else {
      const text = Array.isArray(value) ? value.join(',') : String(value)
      if (opt.argChoices !== undefined && !opt.argChoices.includes(text)) {
        throw invalidArgument(`"${key}" in ${file} must be one of ${opt.argChoices.join(', ')}`)
      }
      parsed = opt.parseArg === undefined ? text : opt.parseArg(text, undefined as never)
    }
    cmd.setOptionValueWithSource(name, parsed, 'config')
  }
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

  peerOptions(program.command('peer').showHelpAfterError(helpHint('sharedmem peer')))
    .description('run a standalone peer (add --http <port> for the HTTP API and test page)')
    .addOption(option('--http <port>', 'serve the HTTP API and the test page on this port', port))
    .action(async (opts) => {
      exitCode = await runPeer(opts, io)
    })

  peerOptions(program.command('server').showHelpAfterError(helpHint('sharedmem server')))
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

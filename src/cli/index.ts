/**
 * The `sharedmem` command. `main(argv)` parses the arguments, runs the command
 * and resolves the exit code; only this module writes to the console.
 */
import { readFileSync } from 'node:fs'
import { Command, InvalidArgumentError, Option } from 'commander'
import { DEFAULT_HTTP_PORT, DEFAULT_PEER_PORT, DEFAULT_SWARM } from '../constants.js'
import { SharedMemError } from '../errors.js'
import { writeSwarmKey } from '../peer/swarm-key.js'
import { runPeer } from './peer.js'

export interface CliIo {
  out: (line: string) => void
  err: (line: string) => void
}

const consoleIo: CliIo = { out: (line) => console.log(line), err: (line) => console.error(line) }

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

function port(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0–65535')
  return n
}

function positive(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number')
  return n
}

function nonNegative(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number ≥ 0')
  return n
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').filter(Boolean)]
}

/** Flags shared by `peer` and `server`. */
function peerOptions(cmd: Command): Command {
  return cmd
    .option(
      '-l, --listen <addr>',
      `address to listen on: multiaddr, port (on 127.0.0.1) or host:port; repeatable (default: ${DEFAULT_PEER_PORT})`,
      collect
    )
    .option(
      '-b, --bootstrap <addr>',
      'peer to join through: multiaddr (with or without /p2p/<id>) or host:port; repeatable or comma-separated',
      collect
    )
    .option('-i, --identity <file>', 'identity key file, created (mode 0600) if missing, so restarts keep the peer id')
    .option('-d, --data-dir <dir>', 'keep the replica (and the identity key) in this directory, across restarts')
    .option(
      '--fsync-interval <ms>',
      'with --data-dir: write and fsync stored updates this often; 0 = at once (default: 100)',
      nonNegative
    )
    .option('-s, --swarm <name>', 'swarm name: only peers with the same name share data', DEFAULT_SWARM)
    .option(
      '-k, --swarm-key <file>',
      'private swarm key file (from sharedmem keygen): only peers with the same key connect'
    )
    .option(
      '--allow-peer <id>',
      'peer id allowed to connect (others are refused); repeatable or comma-separated',
      collect
    )
    .option(
      '--sign-messages',
      'sign every gossip message and accept writes only from their signer (all peers must agree)'
    )
    .option('--http-host <host>', 'interface the HTTP API binds to', '127.0.0.1')
    .addOption(
      new Option('--token <token>', 'bearer token the HTTP API requires (default: none)').env('SHAREDMEM_TOKEN')
    )
    .option(
      '--cors <origin>',
      'origin allowed to call the HTTP API from a browser; repeatable (default: CORS off)',
      collect
    )
    .option('--sync-interval <ms>', 'time between periodic sync rounds with a random peer (default: 10000)', positive)
    .option(
      '--status-interval <s>',
      'log a status line (peers, entries, last sync) this often; 0 = never',
      nonNegative,
      60
    )
    .addOption(new Option('--test-faults', 'serve the test-only fault injection endpoint').hideHelp())
}

export async function main(argv: string[] = process.argv, io: CliIo = consoleIo): Promise<number> {
  let exitCode = 0
  const program = new Command()
    .name('sharedmem')
    .description(
      'Shared memory for Node.js processes across CPUs and servers: a peer-to-peer replicated key/value store.'
    )
    .version(version())
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .showHelpAfterError()

  peerOptions(program.command('peer'))
    .description('run a standalone peer (add --http <port> for the HTTP API and test page)')
    .option('--http <port>', 'serve the HTTP API and the test page on this port', port)
    .action(async (opts) => {
      exitCode = await runPeer(opts, io)
    })

  peerOptions(program.command('server'))
    .description('run a standalone peer with the HTTP API and test page (the classic way: sharedmem server -p 3000)')
    .option('-p, --port <port>', 'HTTP port', port, DEFAULT_HTTP_PORT)
    .action(async (opts) => {
      exitCode = await runPeer({ ...opts, http: opts.port }, io)
    })

  program
    .command('keygen')
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
    return 1
  }
  return exitCode
}

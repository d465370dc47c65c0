/**
 * The settings of `sharedmem peer` and `sharedmem server`, in one table: every option of
 * `createPeer` (PeerOptions) has a row, and from each row come its flag, its environment variable
 * (SHAREDMEM_ and the flag in upper snake case: --swarm-key → SHAREDMEM_SWARM_KEY) and its
 * config-file keys (the flag, its camelCase form, or the createPeer name). The table is a record
 * over `keyof PeerOptions`, so an option added to the contract without a row does not compile.
 * Precedence: flag, then environment, then config file, then default.
 */
import { type Command, InvalidArgumentError, Option } from 'commander'
import * as d from '../constants.js'
import type { PeerOptions } from '../contract.js'
import { LOG_LEVELS } from './log.js'

/** One setting: a commander flag, what it does, how its text becomes a value. */
export interface Setting {
  /** Commander flags, e.g. `-l, --listen <addr>`; a flag without `<…>` is a switch. */
  flags: string
  description: string
  parse?: (value: string, previous: unknown) => unknown
  default?: unknown
  choices?: readonly string[]
  /** Left out of --help (test-only settings). */
  hidden?: boolean
}

/** An option only an embedded peer can take: why the command has no flag for it. */
export interface EmbeddedOnly {
  embeddedOnly: string
}

function number(check: (n: number) => boolean, expected: string) {
  return (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !check(n)) throw new InvalidArgumentError(`expected ${expected}`)
    return n
  }
}
export const port = number((n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number 0–65535')
const positive = number((n) => Number.isFinite(n) && n > 0, 'a positive number')
const count = number((n) => Number.isInteger(n) && n > 0, 'a positive integer')
const nonNegative = number((n) => Number.isFinite(n) && n >= 0, 'a number ≥ 0')

function collect(value: string, previous: unknown): string[] {
  return [...((previous as string[] | undefined) ?? []), ...value.split(',').filter(Boolean)]
}

const ms = (flag: string, what: string, def: number, parse = positive): Setting => ({
  flags: `${flag} <ms>`,
  description: `${what} (default: ${def})`,
  parse
})
const limit = (flag: string, what: string, def: number): Setting => ({
  flags: `${flag} <n>`,
  description: `${what} (default: ${def})`,
  parse: count
})

/** Every option of createPeer: its setting, or why only an embedded peer can take it. */
export const PEER_SETTINGS: { [K in keyof PeerOptions]-?: Setting | EmbeddedOnly } = {
  listen: {
    flags: '-l, --listen <addr>',
    description: `address to listen on: multiaddr, port (on 127.0.0.1) or ip:port; repeatable (default: ${d.DEFAULT_PEER_PORT} for peer, a free port for server)`,
    parse: collect
  },
  bootstrap: {
    flags: '-b, --bootstrap <addr>',
    description:
      'peer to join through: multiaddr (with or without /p2p/<id>) or host:port; repeatable or comma-separated',
    parse: collect
  },
  rendezvous: {
    flags: '-r, --rendezvous <dir>',
    description:
      'directory where the peers of this host find each other with no bootstrap address; "off" turns it off (default: <tmpdir>/sharedmem-<uid>)'
  },
  rendezvousInterval: ms(
    '--rendezvous-interval',
    'how often the rendezvous directory is read again',
    d.DEFAULT_RENDEZVOUS_INTERVAL
  ),
  swarm: {
    flags: '-s, --swarm <name>',
    description: 'swarm name: only peers with the same name share data',
    default: d.DEFAULT_SWARM
  },
  identity: {
    flags: '-i, --identity <file>',
    description: 'identity key file, created (mode 0600) if missing, so restarts keep the peer id'
  },
  privateKey: { embeddedOnly: 'a key object: the command keeps its key in --identity (or --data-dir)' },
  swarmKey: {
    flags: '-k, --swarm-key <file>',
    description: 'private swarm key file (from sharedmem keygen): only peers with the same key connect'
  },
  allowPeers: {
    flags: '--allow-peer <id>',
    description: 'peer id allowed to connect (others are refused); repeatable or comma-separated',
    parse: collect
  },
  signMessages: {
    flags: '--sign-messages',
    description: 'sign every gossip message and accept writes only from their signer (all peers must agree)'
  },
  maxValueBytes: limit('--max-value-bytes', 'largest value, as encoded MessagePack bytes', d.DEFAULT_MAX_VALUE_BYTES),
  maxValueDepth: limit('--max-value-depth', 'deepest nesting of a value', d.DEFAULT_MAX_VALUE_DEPTH),
  maxKeyLength: limit('--max-key-length', 'longest collection, key or counter name', d.DEFAULT_MAX_KEY_LENGTH),
  maxEntries: {
    flags: '--max-entries <n>',
    description:
      'most live entries local writes may create; a save of a new key beyond it fails with ERR_STORE_FULL (default: no cap)',
    parse: positive
  },
  maxClockSkew: ms(
    '--max-clock-skew',
    "largest lead of a remote write's timestamp over this host's clock; later ones are refused",
    d.DEFAULT_MAX_CLOCK_SKEW
  ),
  clockProbeInterval: ms(
    '--clock-probe-interval',
    "how often each swarm peer's clock is measured",
    d.DEFAULT_CLOCK_PROBE_INTERVAL
  ),
  maxBatchEntries: limit('--max-batch-entries', 'entries per gossip message', d.DEFAULT_MAX_BATCH_ENTRIES),
  maxBatchBytes: limit(
    '--max-batch-bytes',
    "soft byte limit of one gossip message's entries",
    d.DEFAULT_MAX_BATCH_BYTES
  ),
  maxMessageBytes: limit(
    '--max-message-bytes',
    'largest gossip message accepted, in bytes',
    d.DEFAULT_MAX_MESSAGE_BYTES
  ),
  maxOutboundBuffer: limit(
    '--max-outbound-buffer',
    'bytes of gossip queued for one slow receiver before messages to it are dropped (sync repairs them)',
    d.DEFAULT_MAX_OUTBOUND_BUFFER
  ),
  maxMessageEntries: limit(
    '--max-message-entries',
    'most updates one received message may carry',
    d.DEFAULT_MAX_MESSAGE_ENTRIES
  ),
  tombstoneTtl: ms(
    '--tombstone-ttl',
    'how long removed and expired entries are kept before they are collected: the tombstone horizon',
    d.DEFAULT_TOMBSTONE_TTL
  ),
  collectInterval: ms(
    '--collect-interval',
    'how often removed and expired entries older than --tombstone-ttl are collected',
    d.DEFAULT_COLLECT_INTERVAL
  ),
  memberTimeout: ms(
    '--member-timeout',
    'running time a swarm member may stay silent before it is retired (give every peer the same)',
    d.DEFAULT_MEMBER_TIMEOUT
  ),
  redialInterval: ms(
    '--redial-interval',
    'how often unconnected bootstrap peers are dialled again',
    d.DEFAULT_REDIAL_INTERVAL
  ),
  dialTimeout: ms('--dial-timeout', 'time limit of one dial', d.DEFAULT_DIAL_TIMEOUT),
  announceInterval: ms(
    '--announce-interval',
    'how often the peer announces its addresses to the swarm',
    d.DEFAULT_ANNOUNCE_INTERVAL
  ),
  syncInterval: ms('--sync-interval', 'time between periodic sync rounds with a random peer', d.DEFAULT_SYNC_INTERVAL),
  syncTimeout: ms('--sync-timeout', 'time limit of one sync round', d.DEFAULT_SYNC_TIMEOUT),
  dataDir: {
    flags: '-d, --data-dir <dir>',
    description: 'keep the replica (and the identity key) in this directory, across restarts'
  },
  durableWrites: {
    flags: '--durable-writes',
    description: 'with --data-dir: acknowledge a write only once it is fsynced (within --fsync-interval)'
  },
  fsyncInterval: ms(
    '--fsync-interval',
    'with --data-dir: write and fsync stored updates this often; 0 = at once',
    d.DEFAULT_FSYNC_INTERVAL,
    nonNegative
  ),
  compactBytes: limit(
    '--compact-bytes',
    'with --data-dir: log size past which a snapshot is written, in bytes',
    d.DEFAULT_COMPACT_BYTES
  ),
  onLoadProgress: { embeddedOnly: 'a callback: the command logs the progress of a load' },
  logger: { embeddedOnly: "a logger object: the command's own log takes --log-level and --log-format" },
  faults: { embeddedOnly: 'test-only fault injection: the command has the hidden --test-faults' },
  now: { embeddedOnly: 'a clock function, for tests' }
}

/** Settings of the command itself: its HTTP API and its log. */
export const COMMAND_SETTINGS: readonly Setting[] = [
  { flags: '--http-host <host>', description: 'interface the HTTP API binds to', default: '127.0.0.1' },
  { flags: '--token <token>', description: 'bearer token the HTTP API requires (default: none)' },
  {
    flags: '--cors <origin>',
    description: 'origin allowed to call the HTTP API from a browser; repeatable (default: CORS off)',
    parse: collect
  },
  {
    flags: '--status-interval <s>',
    description: 'log a status line (peers, entries, last sync) this often; 0 = never',
    parse: nonNegative,
    default: 60
  },
  { flags: '--log-level <level>', description: 'least severe log lines printed', choices: LOG_LEVELS, default: 'info' },
  {
    flags: '--log-format <format>',
    description: 'log lines as plain text or JSON',
    choices: ['text', 'json'],
    default: 'text'
  },
  { flags: '--test-faults', description: 'serve the test-only fault injection endpoint', hidden: true }
]

/** The PeerOptions rows that have a flag. */
export function peerSettingRows(): Array<[keyof PeerOptions, Setting]> {
  return Object.entries(PEER_SETTINGS).flatMap(([key, row]) =>
    'flags' in row ? [[key as keyof PeerOptions, row] as [keyof PeerOptions, Setting]] : []
  )
}

/** The commander option of a setting, with its SHAREDMEM_ variable. */
export function settingOption(setting: Setting): Option {
  const opt = new Option(setting.flags, setting.description)
  opt.env(envName(opt))
  if (setting.parse !== undefined) opt.argParser(setting.parse as unknown as (value: string, previous: never) => never)
  if (setting.choices !== undefined) opt.choices([...setting.choices])
  if (setting.default !== undefined) opt.default(setting.default)
  if (setting.hidden === true) opt.hideHelp()
  return opt
}

/** SHAREDMEM_ and the long flag in upper snake case. */
export function envName(opt: Option): string {
  return `SHAREDMEM_${(opt.long ?? '').replace(/^--/, '').toUpperCase().replace(/-/g, '_')}`
}

/** Adds every setting of the table, and --config, to `cmd` (`peer` or `server`). */
export function addSettings(cmd: Command): Command {
  for (const [, row] of peerSettingRows()) cmd.addOption(settingOption(row))
  for (const row of COMMAND_SETTINGS) cmd.addOption(settingOption(row))
  cmd.addOption(
    new Option(
      '-c, --config <file>',
      'JSON file with any of these settings (keys as the flags); flags and environment win'
    )
  )
  return cmd
}

/** The createPeer options the parsed settings (`cmd.opts()`) give: the rows' values, by their PeerOptions name. */
export function peerOptionsOf(values: Record<string, unknown>): PeerOptions {
  const options: Record<string, unknown> = {}
  for (const [key, row] of peerSettingRows()) {
    const value = values[new Option(row.flags).attributeName()]
    if (value !== undefined) options[key] = value
  }
  return options as PeerOptions
}

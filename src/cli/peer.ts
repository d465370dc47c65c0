/**
 * `sharedmem peer` / `sharedmem server`: runs a standalone peer until SIGINT or
 * SIGTERM, printing its addresses on start and joins and leaves as they happen.
 */
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { DEFAULT_PEER_PORT } from '../constants.js'
import type { PeerStatus } from '../contract.js'
import { AddressInUseError, ErrorCode, invalidArgument, SharedMemError } from '../errors.js'
import { startHttpServer } from '../http/index.js'
import { createPeer } from '../peer/create.js'
import { Faults } from '../peer/faults.js'
import type { CliIo } from './io.js'
import { createLog, type LogFormat, type LogLevel } from './log.js'
import { syncState, watchBootstrap } from './reachability.js'
import { peerOptionsOf } from './settings.js'

/**
 * The parsed settings of `peer` / `server` (settings.ts): those the command reads itself, and the
 * table's others, passed on to createPeer by their PeerOptions name.
 */
export interface PeerCommandOptions {
  [setting: string]: unknown
  listen?: string[]
  identity?: string
  swarm: string
  http?: number
  /** The flag that set `http`, named when its port is in use. @default '--http' */
  httpFlag?: string
  httpHost: string
  statusInterval: number
  swarmKey?: string
  dataDir?: string
  durableWrites?: boolean
  token?: string
  cors?: string[]
  testFaults?: boolean
  logLevel?: LogLevel
  logFormat?: LogFormat
}

/** Progress of a long sync is logged every this many entries. */
const PROGRESS_STEP = 100_000

export async function runPeer(opts: PeerCommandOptions, io: CliIo): Promise<number> {
  const log = createLog(io, opts.logLevel, opts.logFormat)
  if (opts.durableWrites === true && opts.dataDir === undefined) {
    throw invalidArgument('--durable-writes needs --data-dir: without one, no write can be made durable')
  }
  // Listen for signals before anything is printed: a supervisor may signal as soon as it reads "ready".
  const signal = Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')])
  const faults = opts.testFaults === true ? new Faults() : undefined
  const swarmKey = opts.swarmKey === undefined ? undefined : await readSwarmKey(opts.swarmKey)
  const peer = await createPeer({
    ...peerOptionsOf(opts),
    listen: opts.listen ?? [String(DEFAULT_PEER_PORT)],
    swarmKey,
    onLoadProgress: (loaded) => log.info(`loading ${opts.dataDir}: ${loaded} entries so far`),
    faults
  }).catch((err: unknown) => {
    throw inCliTerms(err, '--listen <port>')
  })
  let http: Awaited<ReturnType<typeof startHttpServer>> | undefined
  try {
    if (opts.http !== undefined) {
      http = await startHttpServer(peer, {
        host: opts.httpHost,
        port: opts.http,
        token: opts.token,
        corsOrigins: opts.cors,
        faults
      })
    }
  } catch (err) {
    await peer.stop()
    throw inCliTerms(err, `${opts.httpFlag ?? '--http'} <port>`)
  }
  log.info(`sharedmem peer ${peer.peerId} (swarm "${opts.swarm}")`)
  for (const addr of peer.addresses) log.info(`listening ${addr}`)
  const rendezvous = peer.status().rendezvous
  log.info(rendezvous === null ? 'same-host discovery off' : `rendezvous ${rendezvous}`)
  if (http !== undefined) {
    log.info(`http ${http.url}`)
    log.info(`test page ${http.url}/testapp`)
  }
  const stored = peer.status().persistence
  if (stored !== undefined) {
    const dropped =
      stored.droppedBytes > 0 ? `; dropped ${stored.droppedBytes} bytes of a torn record (a crash mid-write)` : ''
    log.info(`loaded ${stored.loadedEntries} entries from ${stored.dataDir} in ${stored.loadMs} ms${dropped}`)
    if (stored.skipped + stored.skippedRecords > 0) {
      log.warn(
        `left out ${stored.skipped} unreadable entries and ${stored.skippedRecords} unreadable records of ${stored.dataDir} (first: ${stored.skipReason}); other peers may still hold them`
      )
    }
  }
  if (opts.identity === undefined && opts.dataDir === undefined) {
    log.info('note: no --identity file or --data-dir, so this peer gets a new id at each start')
  }
  for (const line of warnings(
    peer.addresses,
    swarmKey !== undefined,
    opts.http === undefined ? undefined : opts.httpHost,
    opts.token !== undefined
  )) {
    log.warn(line)
  }
  peer.on('peer:join', (id) => log.info(`join ${id}`))
  peer.on('peer:leave', (id) => log.info(`leave ${id}`))
  watchBootstrap(peer, log)
  const logged = new Map<string, number>()
  peer.on('sync:progress', ({ peer: other, sent, received }) => {
    const step = Math.floor((sent + received) / PROGRESS_STEP)
    if (step > (logged.get(other) ?? 0)) {
      logged.set(other, step)
      log.info(`sync progress with ${other}: received ${received}, sent ${sent}`)
    }
  })
  peer.on('reject', (e) => {
    // Once per reason: a hostile peer must not be able to flood the log.
    if (e.first)
      log.warn(`rejected ${e.source} input (${e.reason}): ${e.message}; further ones are only counted in status`)
  })
  peer.on('clock', (e) => {
    const off = `${Math.abs(e.offsetMs)} ms ${e.offsetMs > 0 ? 'ahead of' : 'behind'} the swarm's (${e.peers} peers measured)`
    if (e.skewed) log.error(`this host's clock is ${off}: saves and removes are refused until it is fixed`)
    else log.warn(`this host's clock agrees with the swarm's again (${off}): saves and removes resume`)
  })
  peer.on('sync', (e) => {
    logged.delete(e.peer)
    if (e.inSync) {
      log.debug(`sync with ${e.peer}: in sync (${e.durationMs} ms)`)
      return
    }
    if (e.deferred) {
      log.debug(`sync with ${e.peer}: ${e.buckets} buckets differed while writes arrived; transfer deferred`)
      return
    }
    log.info(
      `sync with ${e.peer}: ${e.buckets} buckets differed, received ${e.received}, sent ${e.sent} in ${e.durationMs} ms`
    )
  })
  const statusTimer =
    opts.statusInterval > 0
      ? setInterval(() => log.info(statusLine(peer.status())), opts.statusInterval * 1000)
      : undefined
  // Ready once its first sync round ended (or it had no one to meet): a supervisor waiting for it
  // (pm2's wait_ready, which listens for process.send('ready')) sends it traffic only then.
  const ready = peer.ready().then(
    () => true,
    () => false
  )
  if (await Promise.race([ready, signal.then(() => false)])) {
    log.info('ready')
    process.send?.('ready')
  }

  const [name] = await signal
  log.info(`stopping (${String(name ?? 'signal')})`)
  clearInterval(statusTimer)
  await http?.close()
  await peer.stop()
  log.info('stopped')
  return 0
}

/** One line of status for the log: peers, entries, counters, last sync, sync state. */
export function statusLine(status: PeerStatus, now = Date.now()): string {
  const { lastSyncAt } = status.sync
  const last = lastSyncAt === 0 ? 'never synced' : `last sync ${Math.round((now - lastSyncAt) / 1000)} s ago`
  return `status: ${status.peers.length} peers, ${status.entries} entries, ${status.counters} counters, ${last}, ${syncState(status)}`
}

/** True for an address that only this host can reach. */
export function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || host === 'localhost'
}

/** Loud warnings for a peer reachable beyond this host without protection. */
export function warnings(addresses: string[], hasSwarmKey: boolean, httpHost?: string, hasToken = false): string[] {
  const out: string[] = []
  const exposed = addresses.filter((a) => {
    const host = /^\/(?:ip4|ip6|dns4?|dns6)\/([^/]+)/.exec(a)?.[1] ?? ''
    return !isLoopback(host)
  })
  if (exposed.length > 0 && !hasSwarmKey) {
    out.push(`WARNING: listening on ${exposed.join(', ')} without a swarm key: anyone who reaches it can join`)
    out.push(
      'WARNING: the swarm, read every value and overwrite any. Create a key with `sharedmem keygen` and use --swarm-key.'
    )
  }
  if (httpHost !== undefined && !isLoopback(httpHost) && !hasToken) {
    out.push(`WARNING: the HTTP API listens on ${httpHost} without --token: anyone who reaches it can read and write.`)
  }
  return out
}

/** A port in use, said with the flag that chooses another (`flag`); any other error as it is. */
function inCliTerms(err: unknown, flag: string): unknown {
  const change = `choose another with ${flag}`
  if (err instanceof AddressInUseError) return new AddressInUseError(err.host, err.port, change, { cause: err })
  const e = err as { code?: unknown; address?: unknown; port?: unknown }
  if (e.code === 'EADDRINUSE' && typeof e.port === 'number') {
    return new AddressInUseError(String(e.address), e.port, change, { cause: err })
  }
  return err
}

async function readSwarmKey(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file)
  } catch (err) {
    throw new SharedMemError(ErrorCode.INVALID_ARGUMENT, `cannot read the swarm key ${file}`, { cause: err })
  }
}

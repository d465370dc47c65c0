/**
 * `sharedmem peer` / `sharedmem server`: runs a standalone peer until SIGINT or
 * SIGTERM, printing its addresses on start and joins and leaves as they happen.
 */
import { once } from 'node:events'
import { DEFAULT_PEER_PORT } from '../constants.js'
import { startHttpServer } from '../http/server.js'
import type { PeerStatus } from '../index.js'
import { Faults } from '../peer/faults.js'
import { createPeer } from '../peer/peer.js'
import type { CliIo } from './index.js'

export interface PeerCommandOptions {
  listen?: string[]
  bootstrap?: string[]
  identity?: string
  swarm: string
  http?: number
  httpHost: string
  syncInterval?: number
  statusInterval: number
  testFaults?: boolean
}

/** Progress of a long sync is logged every this many entries. */
const PROGRESS_STEP = 100_000

export async function runPeer(opts: PeerCommandOptions, io: CliIo): Promise<number> {
  // Listen for signals before anything is printed: a supervisor may signal as soon as it reads "ready".
  const signal = Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')])
  const faults = opts.testFaults === true ? new Faults() : undefined
  const peer = await createPeer({
    listen: opts.listen ?? [String(DEFAULT_PEER_PORT)],
    bootstrap: opts.bootstrap ?? [],
    identity: opts.identity,
    swarm: opts.swarm,
    syncInterval: opts.syncInterval,
    faults
  })
  let http: Awaited<ReturnType<typeof startHttpServer>> | undefined
  try {
    if (opts.http !== undefined) http = await startHttpServer(peer, { host: opts.httpHost, port: opts.http, faults })
  } catch (err) {
    await peer.stop()
    throw err
  }
  io.out(`sharedmem peer ${peer.peerId} (swarm "${opts.swarm}")`)
  for (const addr of peer.addresses) io.out(`listening ${addr}`)
  if (http !== undefined) {
    io.out(`http ${http.url}`)
    io.out(`test page ${http.url}/testapp`)
  }
  if (opts.identity === undefined) io.out('note: no --identity file, so this peer gets a new id at each start')
  peer.on('peer:join', (id) => io.out(`join ${id}`))
  peer.on('peer:leave', (id) => io.out(`leave ${id}`))
  const logged = new Map<string, number>()
  peer.on('sync:progress', ({ peer: other, sent, received }) => {
    const step = Math.floor((sent + received) / PROGRESS_STEP)
    if (step > (logged.get(other) ?? 0)) {
      logged.set(other, step)
      io.out(`sync progress with ${other}: received ${received}, sent ${sent}`)
    }
  })
  peer.on('sync', (e) => {
    logged.delete(e.peer)
    if (e.inSync && e.droppedStale === 0) return
    const stale = e.droppedStale > 0 ? `; dropped ${e.droppedStale} entries older than the tombstone horizon` : ''
    io.out(
      `sync with ${e.peer}: ${e.buckets} buckets differed, received ${e.received}, sent ${e.sent} in ${e.durationMs} ms${stale}`
    )
  })
  const statusTimer =
    opts.statusInterval > 0
      ? setInterval(() => io.out(statusLine(peer.status())), opts.statusInterval * 1000)
      : undefined
  io.out('ready')

  const [name] = await signal
  io.out(`stopping (${String(name ?? 'signal')})`)
  clearInterval(statusTimer)
  await http?.close()
  await peer.stop()
  io.out('stopped')
  return 0
}

/** One line of status for the log: peers, entries, counters, last sync, sync state. */
export function statusLine(status: PeerStatus, now = Date.now()): string {
  const { lastSyncAt, inSync } = status.sync
  const last = lastSyncAt === 0 ? 'never synced' : `last sync ${Math.round((now - lastSyncAt) / 1000)} s ago`
  return `status: ${status.peers.length} peers, ${status.entries} entries, ${status.counters} counters, ${last}, ${inSync ? 'in sync' : 'syncing'}`
}

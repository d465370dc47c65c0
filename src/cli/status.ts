/**
 * `sharedmem status`: a running peer's status, read over its HTTP API and
 * printed as a table (or as JSON).
 */

import type { PeerStatus } from '../contract.js'
import { connect, DEFAULT_URL } from '../http/client.js'
import type { CliIo } from './io.js'
import { describeBootstrap, syncState } from './reachability.js'

export interface StatusCommandOptions {
  http?: string
  token?: string
  json?: boolean
}

export async function runStatus(opts: StatusCommandOptions, io: CliIo): Promise<number> {
  const headers: Record<string, string> = opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` }
  const status = await connect(opts.http ?? DEFAULT_URL, { headers }).status()
  if (opts.json === true) io.out(JSON.stringify(status, null, 2))
  else io.out(formatStatus(status))
  return 0
}

const ago = (at: number, now: number): string => (at === 0 ? 'never' : `${duration(now - at)} ago`)

function duration(ms: number): string {
  const s = Math.max(Math.round(ms / 1000), 0)
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${Math.round(s / 3600)} h`
}

function bytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`
}

/** The status as an aligned two-column table. */
export function formatStatus(s: PeerStatus, now = Date.now()): string {
  const rows: Array<[string, string]> = [
    ['peer id', s.peerId],
    ['swarm', s.swarm],
    ['addresses', s.addresses.join('\n') || '(none)'],
    ['peers', s.peers.length === 0 ? '0' : `${s.peers.length}: ${s.peers.join(', ')}`],
    ['bootstrap', s.bootstrap.addresses.map(describeBootstrap).join('\n') || '(none)'],
    ['entries', `${s.entries} in ${s.collections} collections, ${s.dead} tombstones`],
    ['counters', String(s.counters)],
    ['digest', s.digest],
    [
      'sync',
      `${syncState(s)}; last round ${ago(s.sync.lastSyncAt, now)}; ${s.sync.rounds} rounds, ${s.sync.failures} failed`
    ],
    [
      'sync traffic',
      `sent ${s.sync.entriesSent} entries (${bytes(s.sync.bytesSent)}), received ${s.sync.entriesReceived} (${bytes(s.sync.bytesReceived)})`
    ],
    [
      'gossip',
      `in ${s.gossip.messagesIn}, out ${s.gossip.messagesOut}, rejected ${s.gossip.rejected}, lag ~${Math.round(s.gossip.lagMs)} ms`
    ],
    ['operations', `${s.operations.reads} reads, ${s.operations.writes} writes`],
    [
      'rejections',
      Object.entries(s.rejections)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    ],
    ['uptime', duration(now - s.startedAt)]
  ]
  if (s.persistence !== undefined) {
    const p = s.persistence
    const skipped =
      p.skipped > 0 || p.skippedRecords > 0
        ? `\nleft out unreadable: ${p.skipped} entries, ${p.skippedRecords} records (first: ${p.skipReason})`
        : ''
    rows.push([
      'data dir',
      `${p.dataDir}: loaded ${p.loadedEntries} entries in ${p.loadMs} ms; log ${bytes(p.logBytes)}; last fsync ${ago(p.lastFsyncAt, now)}${skipped}`
    ])
  }
  const width = Math.max(...rows.map(([k]) => k.length))
  return rows
    .map(([k, v]) =>
      v
        .split('\n')
        .map((line, i) => `${(i === 0 ? k : '').padEnd(width)}  ${line}`)
        .join('\n')
    )
    .join('\n')
}

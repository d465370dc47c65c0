/**
 * Prometheus metrics of a peer (prom-client), computed from `status()` at each
 * scrape: nothing runs between scrapes. Served at GET /metrics.
 */
import { Counter, Gauge, Registry } from 'prom-client'
import type { PeerStatus, SharedMemPeer } from '../contract.js'

/** A registry of the peer's metrics, and `scrape()`, which renders them from one status snapshot. */
export function createMetrics(peer: SharedMemPeer): { contentType: string; scrape: () => Promise<string> } {
  const registry = new Registry()
  // One status snapshot per scrape, shared by every metric.
  let snapshot: PeerStatus | undefined
  const status = (): PeerStatus => {
    snapshot ??= peer.status()
    return snapshot
  }
  /** A counter whose total the peer keeps: set it at scrape time. */
  const total = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset()
        this.inc(read())
      }
    })
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read())
      }
    })

  new Gauge({
    name: 'sharedmem_collection_entries',
    help: 'Stored entries (tombstones included) per collection',
    labelNames: ['collection'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [collection, n] of Object.entries(peer.collectionSizes())) this.set({ collection }, n)
    }
  })
  gauge('sharedmem_entries', 'Entries holding a value, all collections', () => status().entries)
  gauge('sharedmem_tombstones', 'Tombstones not yet collected', () => status().dead)
  gauge('sharedmem_counters', 'Counters', () => status().counters)
  gauge('sharedmem_peers', 'Connected peers of this swarm', () => status().peers.length)
  gauge('sharedmem_connections', 'Open libp2p connections', () => status().connections)
  gauge('sharedmem_in_sync', '1 when this peer believes itself in sync', () => (status().sync.inSync ? 1 : 0))
  gauge(
    'sharedmem_replication_lag_seconds',
    'Moving average of the age of remote writes on arrival',
    () => status().gossip.lagMs / 1000
  )
  gauge(
    'sharedmem_last_sync_timestamp_seconds',
    'When a sync round last completed',
    () => status().sync.lastSyncAt / 1000
  )
  gauge(
    'sharedmem_clock_skewed',
    "1 while this peer's clock lies further than maxClockSkew from its swarm's (saves and removes are refused)",
    () => (status().clock.skewed ? 1 : 0)
  )
  gauge(
    'sharedmem_clock_offset_seconds',
    "How far this peer's wall clock is ahead of its swarm's (negative: behind)",
    () => status().clock.offsetMs / 1000
  )
  gauge('sharedmem_process_resident_memory_bytes', 'Resident set size of this process', () => process.memoryUsage.rss())
  total('sharedmem_reads_total', 'Reads served', () => status().operations.reads)
  total('sharedmem_writes_total', 'Writes served', () => status().operations.writes)
  total('sharedmem_gossip_messages_in_total', 'Gossip messages received', () => status().gossip.messagesIn)
  total('sharedmem_gossip_messages_out_total', 'Gossip messages published', () => status().gossip.messagesOut)
  total(
    'sharedmem_gossip_unsent_isolated_total',
    'Updates not published because no peer was connected (sync delivers them)',
    () => status().gossip.unsentIsolated
  )
  total('sharedmem_gossip_rejected_total', 'Gossip messages or entries refused', () => status().gossip.rejected)
  total('sharedmem_sync_rounds_total', 'Sync rounds completed', () => status().sync.rounds)
  total('sharedmem_sync_failures_total', 'Sync rounds that failed', () => status().sync.failures)
  total(
    'sharedmem_sync_deferred_total',
    'Sync rounds that deferred their transfer while writes were arriving',
    () => status().sync.deferred
  )
  total('sharedmem_sync_bytes_sent_total', 'Bytes of sync frames sent', () => status().sync.bytesSent)
  total('sharedmem_sync_bytes_received_total', 'Bytes of sync frames received', () => status().sync.bytesReceived)
  total('sharedmem_sync_entries_sent_total', 'Entries sent by sync', () => status().sync.entriesSent)
  total('sharedmem_sync_entries_received_total', 'Entries received by sync', () => status().sync.entriesReceived)
  new Counter({
    name: 'sharedmem_rejections_total',
    help: 'Refusals of network input by source and reason',
    labelNames: ['source', 'reason'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [key, n] of Object.entries(status().rejections)) {
        const [source, reason] = key.split(':')
        this.inc({ source, reason }, n)
      }
    }
  })
  return {
    contentType: registry.contentType,
    async scrape() {
      snapshot = undefined
      return registry.metrics()
    }
  }
}

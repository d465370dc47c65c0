import { afterAll, beforeAll, expect, it } from 'vitest'
import { type HttpServer, type PeerStatus, type SharedMemPeer, startHttpServer } from '../../src/index.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

/** How far b's wall clock lags a's: what a's replication lag measures (well within maxClockSkew). */
const B_BEHIND = 2000

let a: SharedMemPeer
let b: SharedMemPeer
let server: HttpServer
beforeAll(async () => {
  a = await startPeer()
  b = await startPeer({ bootstrap: [a.addresses[0]], now: () => Date.now() - B_BEHIND })
  await waitFor(() => a.status().peers.length === 1 && b.status().peers.length === 1, 'a and b to see each other')
  server = await startHttpServer(a, { port: 0 })
})
afterAll(async () => {
  await server?.close()
  await stopAll()
})

/** Parses Prometheus text exposition format strictly enough to fail on anything malformed. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  const types = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line)
    if (meta !== null) {
      if (meta[1] === 'TYPE') {
        expect(['counter', 'gauge']).toContain(meta[3])
        types.set(meta[2], meta[3])
      }
      continue
    }
    const sample =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+]+|NaN)$/.exec(line)
    expect(sample, `malformed line: ${line}`).not.toBeNull()
    samples.set(`${sample?.[1]}${sample?.[2] ?? ''}`, Number(sample?.[3]))
  }
  for (const name of samples.keys()) expect(types.has(name.replace(/\{.*$/, ''))).toBe(true)
  return samples
}

async function scrape(): Promise<Map<string, number>> {
  const response = await fetch(server.url.replace(/\/sharedmem$/, '/metrics'))
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toContain('text/plain')
  return parse(await response.text())
}

/** A scrape, with a's status read just before and just after it. */
async function scrapeBetween(): Promise<{
  early: PeerStatus
  metrics: Map<string, number>
  late: PeerStatus
  /** This process's resident set just before and just after the scrape: it moves as the collector runs. */
  rss: [number, number]
}> {
  const early = a.status()
  const rssEarly = process.memoryUsage.rss()
  const metrics = await scrape()
  return { early, metrics, late: a.status(), rss: [rssEarly, process.memoryUsage.rss()] }
}

/** Checks that a metric lies between what status() reported before and after the scrape. */
function between(
  { early, metrics, late }: Awaited<ReturnType<typeof scrapeBetween>>,
  name: string,
  read: (s: PeerStatus) => number
): number {
  const value = metrics.get(name)
  expect(value, name).toBeGreaterThanOrEqual(read(early))
  expect(value, name).toBeLessThanOrEqual(read(late))
  return value as number
}

it('serves Prometheus text whose counters move by the operations made and whose gauges are what status() says', async () => {
  const before = await scrape()
  expect(before.get('sharedmem_peers')).toBe(1)
  // b writes first, so that its stamps carry its own (lagging) clock, not one learnt from a.
  await b.save({ collection: 'flags', key: 'f', variable: true })
  await waitFor(() => a.status().entries === 1, 'the remote write')
  await a.save({ collection: 'users', key: 'k1', variable: 1 })
  await a.save({ collection: 'users', key: 'k2', variable: 2 })
  await a.remove({ collection: 'users', key: 'k2' })
  await a.increment({ counter: 'n' })
  await waitFor(() => b.status().dead === 1 && b.status().counters === 1, "a's writes to reach b")
  a.getSync({ collection: 'users', key: 'k1' })
  await a.get({ collection: 'flags', key: 'f' })
  a.getCounterSync({ counter: 'n' })
  const scraped = await scrapeBetween()
  const after = scraped.metrics
  const moved = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0)
  // Exactly the operations made on a: 2 saves, 1 remove, 1 increment; 3 reads. b's write is not a's.
  expect(moved('sharedmem_writes_total')).toBe(4)
  expect(moved('sharedmem_reads_total')).toBe(3)
  // Gauges: what status() reports (a holds k1, f and k2's tombstone; counter n).
  expect(after.get('sharedmem_entries')).toBe(2)
  expect(after.get('sharedmem_tombstones')).toBe(1)
  expect(after.get('sharedmem_counters')).toBe(1)
  expect(after.get('sharedmem_collection_entries{collection="users"}')).toBe(2)
  expect(after.get('sharedmem_collection_entries{collection="flags"}')).toBe(1)
  expect(after.get('sharedmem_peers')).toBe(1)
  between(scraped, 'sharedmem_connections', (s) => s.connections)
  // Only gossip from b moves the lag, and b writes nothing more: in seconds, and about B_BEHIND behind.
  const lag = after.get('sharedmem_replication_lag_seconds') as number
  expect(lag).toBe(a.status().gossip.lagMs / 1000)
  expect(lag).toBeGreaterThanOrEqual(B_BEHIND / 1000 / 100 / 2)
  expect(lag).toBeLessThan(B_BEHIND / 1000)
  // This very process's resident set (the server runs in it), not a heap figure: read during the
  // scrape, so near what the process read just before and after it (a check made later met a
  // collection that had returned 30 MB meanwhile).
  const rss = after.get('sharedmem_process_resident_memory_bytes') as number
  expect(rss).toBeGreaterThan(Math.min(...scraped.rss) * 0.8)
  expect(rss).toBeLessThan(Math.max(...scraped.rss) * 1.25)
  const messagesIn = between(scraped, 'sharedmem_gossip_messages_in_total', (s) => s.gossip.messagesIn)
  const messagesOut = between(scraped, 'sharedmem_gossip_messages_out_total', (s) => s.gossip.messagesOut)
  expect(messagesIn).toBeGreaterThan(before.get('sharedmem_gossip_messages_in_total') ?? 0)
  expect(messagesOut).toBeGreaterThan(before.get('sharedmem_gossip_messages_out_total') ?? 0)

  await a.syncNow()
  const synced = await scrapeBetween()
  const rounds = between(synced, 'sharedmem_sync_rounds_total', (s) => s.sync.rounds)
  expect(rounds).toBeGreaterThan(after.get('sharedmem_sync_rounds_total') ?? 0)
  const sent = between(synced, 'sharedmem_sync_bytes_sent_total', (s) => s.sync.bytesSent)
  expect(sent).toBeGreaterThan(after.get('sharedmem_sync_bytes_sent_total') ?? 0)
  between(synced, 'sharedmem_sync_bytes_received_total', (s) => s.sync.bytesReceived)
  between(synced, 'sharedmem_sync_entries_sent_total', (s) => s.sync.entriesSent)
  between(synced, 'sharedmem_sync_entries_received_total', (s) => s.sync.entriesReceived)
  between(synced, 'sharedmem_sync_failures_total', (s) => s.sync.failures)
  between(synced, 'sharedmem_last_sync_timestamp_seconds', (s) => s.sync.lastSyncAt / 1000)
  expect(synced.metrics.get('sharedmem_in_sync')).toBe(synced.late.sync.inSync ? 1 : 0)
})

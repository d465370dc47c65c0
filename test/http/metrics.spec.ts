import { afterAll, beforeAll, expect, it } from 'vitest'
import { type HttpServer, type SharedMemPeer, startHttpServer } from '../../src/index.js'
import { startPeers, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

let a: SharedMemPeer
let b: SharedMemPeer
let server: HttpServer
beforeAll(async () => {
  ;[a, b] = await startPeers(2)
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

it('serves Prometheus text whose counters move when writes happen', async () => {
  const before = await scrape()
  expect(before.get('sharedmem_peers')).toBe(1)
  await a.save({ collection: 'users', key: 'k1', variable: 1 })
  await a.save({ collection: 'users', key: 'k2', variable: 2 })
  await a.increment({ counter: 'n' })
  a.getSync({ collection: 'users', key: 'k1' })
  await b.save({ collection: 'flags', key: 'f', variable: true })
  await waitFor(() => a.getSync({ collection: 'flags', key: 'f' }) === true, 'the remote write')
  const after = await scrape()
  expect((after.get('sharedmem_writes_total') ?? 0) - (before.get('sharedmem_writes_total') ?? 0)).toBe(3)
  expect((after.get('sharedmem_reads_total') ?? 0) - (before.get('sharedmem_reads_total') ?? 0)).toBeGreaterThanOrEqual(
    2
  )
  expect(after.get('sharedmem_collection_entries{collection="users"}')).toBe(2)
  expect(after.get('sharedmem_collection_entries{collection="flags"}')).toBe(1)
  expect(after.get('sharedmem_gossip_messages_out_total')).toBeGreaterThan(
    before.get('sharedmem_gossip_messages_out_total') ?? 0
  )
  expect(after.get('sharedmem_gossip_messages_in_total')).toBeGreaterThan(
    before.get('sharedmem_gossip_messages_in_total') ?? 0
  )
  expect(after.get('sharedmem_replication_lag_seconds')).toBeGreaterThanOrEqual(0)
  expect(after.get('sharedmem_process_resident_memory_bytes')).toBeGreaterThan(0)
  await a.syncNow()
  const synced = await scrape()
  expect(synced.get('sharedmem_sync_rounds_total')).toBeGreaterThan(0)
  expect(synced.get('sharedmem_sync_bytes_sent_total')).toBeGreaterThan(0)
})

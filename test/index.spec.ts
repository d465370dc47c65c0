import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type {
  Callback,
  ChangeEvent,
  ChangeOrigin,
  CollectionConfig,
  ConnectOptions,
  CounterChangeConfig,
  CounterConfig,
  GossipStats,
  HttpServer,
  HttpServerOptions,
  Json,
  KeyConfig,
  PeerEvents,
  PeerOptions,
  PeerStatus,
  PersistenceStatus,
  RejectEvent,
  RemoteSharedMem,
  SaveConfig,
  SaveOptions,
  SharedMem,
  SharedMemPeer,
  SyncProgressEvent,
  SyncRoundEvent,
  SyncStatus
} from '../src/index.js'
import * as sharedmem from '../src/index.js'
import type { FaultSettings } from '../src/testing.js'
import * as testing from '../src/testing.js'

const SRC = fileURLToPath(new URL('../src', import.meta.url))

/** Every value the package exports; a change here is a change of the public API. */
const VALUE_EXPORTS = [
  'DEFAULT_ANNOUNCE_INTERVAL',
  'DEFAULT_CLOCK_PROBE_INTERVAL',
  'DEFAULT_COLLECT_INTERVAL',
  'DEFAULT_COMPACT_BYTES',
  'DEFAULT_DIAL_TIMEOUT',
  'DEFAULT_FSYNC_INTERVAL',
  'DEFAULT_HTTP_BODY_LIMIT',
  'DEFAULT_HTTP_PORT',
  'DEFAULT_HTTP_REQUEST_TIMEOUT',
  'DEFAULT_HTTP_WATCH_BUFFER_BYTES',
  'DEFAULT_HTTP_WATCH_DRAIN_TIMEOUT',
  'DEFAULT_HTTP_WATCH_KEEP_ALIVE',
  'DEFAULT_LISTEN',
  'DEFAULT_MAX_BATCH_BYTES',
  'DEFAULT_MAX_BATCH_ENTRIES',
  'DEFAULT_MAX_CLOCK_SKEW',
  'DEFAULT_MAX_KEY_LENGTH',
  'DEFAULT_MAX_MESSAGE_BYTES',
  'DEFAULT_MAX_MESSAGE_ENTRIES',
  'DEFAULT_MAX_OUTBOUND_BUFFER',
  'DEFAULT_MAX_VALUE_BYTES',
  'DEFAULT_MAX_VALUE_DEPTH',
  'DEFAULT_MEMBER_TIMEOUT',
  'DEFAULT_PEER_PORT',
  'DEFAULT_REDIAL_INTERVAL',
  'DEFAULT_RENDEZVOUS_INTERVAL',
  'DEFAULT_SWARM',
  'DEFAULT_SYNC_INTERVAL',
  'DEFAULT_SYNC_TIMEOUT',
  'DEFAULT_TOMBSTONE_TTL',
  'DEFAULT_URL',
  'ErrorCode',
  'HTTP_STATUS',
  'SharedMemError',
  'connect',
  'createPeer',
  'isErrorCode',
  'startHttpServer'
]

/** Every value of `sharedmem/testing`: helpers and bounds for tests, none of which the main entry exports. */
const TESTING_EXPORTS = [
  'DEFAULT_ANNOUNCED_ADDRS_PER_PEER',
  'DEFAULT_ANNOUNCED_DIALS_IN_FLIGHT',
  'DEFAULT_ANNOUNCED_DIAL_BACKOFF',
  'DEFAULT_ANNOUNCED_DIAL_BACKOFF_MAX',
  'DEFAULT_ANNOUNCED_DIAL_BURST',
  'DEFAULT_ANNOUNCED_DIAL_INTERVAL',
  'DEFAULT_ANNOUNCED_PEERS_REMEMBERED',
  'DEFAULT_ANNOUNCED_PEER_TTL',
  'DEFAULT_ANNOUNCE_SENDERS_TRACKED',
  'DEFAULT_ANNOUNCE_SENDER_BURST',
  'DEFAULT_DIAL_FAILURES_REMEMBERED',
  'DEFAULT_HTTP_DRAIN_BYTES',
  'DEFAULT_START_CLOCK_WAIT',
  'DEFAULT_SYNC_SCAN_BATCH',
  'DEFAULT_SYNC_WINDOW',
  'Faults'
]

/** Relative imports (`import … from './x.js'`, type-only included) of every module under src/. */
function importGraph(): Map<string, string[]> {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const text = readFileSync(join(SRC, file), 'utf8')
    const targets = [...text.matchAll(/^(?:import|export)\b[^;]*?from '(\.{1,2}\/[^']+)'/gms)].map((m) =>
      relative(SRC, resolve(SRC, dirname(file), (m[1] as string).replace(/\.js$/, '.ts')))
    )
    graph.set(file, targets)
  }
  return graph
}

/** The first import circle found, as a list of modules, or undefined. */
function findCircle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node]
    state.set(node, 'open')
    path.push(node)
    for (const next of graph.get(node) ?? []) {
      const circle = visit(next)
      if (circle !== undefined) return circle
    }
    path.pop()
    state.set(node, 'done')
    return undefined
  }
  for (const node of graph.keys()) {
    const circle = visit(node)
    if (circle !== undefined) return circle
  }
  return undefined
}

describe('the public contract', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(sharedmem).sort()).toEqual(VALUE_EXPORTS)
  })

  it('keeps test-only helpers behind sharedmem/testing', () => {
    expect(Object.keys(testing).sort()).toEqual(TESTING_EXPORTS)
    for (const name of TESTING_EXPORTS) expect(sharedmem).not.toHaveProperty(name)
  })

  it('exports the documented types', () => {
    // Compile-time: each name above must resolve; these lines pin a few shapes too.
    expectTypeOf<SharedMemPeer>().toExtend<SharedMem>()
    expectTypeOf<RemoteSharedMem>().toExtend<SharedMem>()
    expectTypeOf<SharedMem['save']>().parameter(0).toEqualTypeOf<SaveConfig>()
    expectTypeOf<SaveConfig['options']>().toEqualTypeOf<SaveOptions | undefined>()
    expectTypeOf<SharedMem['get']>().parameter(0).toEqualTypeOf<KeyConfig>()
    expectTypeOf<SharedMem['getArray']>().parameter(0).toEqualTypeOf<CollectionConfig>()
    expectTypeOf<SharedMem['increment']>().parameter(0).toEqualTypeOf<CounterChangeConfig>()
    expectTypeOf<SharedMem['resetCounter']>().parameter(0).toEqualTypeOf<CounterConfig>()
    expectTypeOf<SharedMem['get']>().parameter(1).toEqualTypeOf<Callback<Json> | undefined>()
    expectTypeOf<PeerEvents['change']>().toEqualTypeOf<[event: ChangeEvent]>()
    expectTypeOf<PeerEvents['reject']>().toEqualTypeOf<[event: RejectEvent]>()
    expectTypeOf<PeerEvents['sync']>().toEqualTypeOf<[event: SyncRoundEvent]>()
    expectTypeOf<PeerEvents['sync:progress']>().toEqualTypeOf<[event: SyncProgressEvent]>()
    expectTypeOf<PeerStatus['gossip']>().toEqualTypeOf<GossipStats>()
    expectTypeOf<PeerStatus['persistence']>().toEqualTypeOf<PersistenceStatus | undefined>()
    expectTypeOf<PeerStatus['sync']>().toExtend<SyncStatus>()
    expectTypeOf<ChangeEvent['origin']>().toEqualTypeOf<ChangeOrigin>()
    expectTypeOf(sharedmem.createPeer).parameter(0).toEqualTypeOf<PeerOptions | undefined>()
    expectTypeOf(sharedmem.connect).parameter(1).toEqualTypeOf<ConnectOptions | undefined>()
    expectTypeOf(sharedmem.startHttpServer).returns.resolves.toEqualTypeOf<HttpServer>()
    expectTypeOf<HttpServerOptions>().toBeObject()
    expectTypeOf<FaultSettings>().toBeObject()
    // get<T>: the caller names the type it expects, as with keyv's, lru-cache's and ioredis' get<T>().
    const peer = {} as SharedMemPeer
    const remote = {} as RemoteSharedMem
    expectTypeOf(peer.get<{ first: string }>).returns.resolves.toEqualTypeOf<{ first: string } | null>()
    expectTypeOf(remote.get<number>).returns.resolves.toEqualTypeOf<number | null>()
    expectTypeOf(peer.getSync<string[]>).returns.toEqualTypeOf<string[] | null>()
    expectTypeOf(peer.get).returns.resolves.toEqualTypeOf<Json>()
    // No internals of the sync service in its public event.
    expectTypeOf<SyncRoundEvent>().not.toHaveProperty('remoteRow')
    expectTypeOf<SyncRoundEvent>().not.toHaveProperty('startedAt')
    expect(typeof sharedmem.createPeer).toBe('function')
  })

  it('has no import circles: every arrow between modules points one way', () => {
    const graph = importGraph()
    expect(findCircle(graph)).toBeUndefined()
    expect(graph.get('index.ts')).toContain('contract.ts')
  })
})

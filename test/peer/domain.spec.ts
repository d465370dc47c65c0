/**
 * The whole domain through every path. Names and values are drawn from all of Unicode
 * (unpaired surrogates, astral characters, combining marks, NUL, empty and maximal
 * lengths), numbers at and beyond the safe-integer and float edges, and every option
 * inside, at and beyond its bounds. Each input goes through the embedded API, `connect()`
 * and raw HTTP, and must either be refused by all three with the same typed error,
 * changing nothing, or round-trip exactly on all three. Then everything accepted must
 * reach a second peer by gossip, a late joiner by a sync round, and survive a restart
 * from the data directory, with equal digests everywhere.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  connect,
  ErrorCode,
  type HttpServer,
  type RemoteSharedMem,
  type SharedMemPeer,
  startHttpServer
} from '../../src/index.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

const MAX_KEY = 64
const MAX_BYTES = 4096
const MAX_DEPTH = 8
const limits = { maxKeyLength: MAX_KEY, maxValueBytes: MAX_BYTES, maxValueDepth: MAX_DEPTH }
const SEED = Number(process.env.DOMAIN_SEED ?? Date.now() % 2 ** 31)
const RUNS = 120

/** Codes a refusal of bad input may carry; anything else (ERR_REMOTE, ERR_INTERNAL …) is a defect. */
const INPUT_CODES = new Set<string>([
  ErrorCode.INVALID_ARGUMENT,
  ErrorCode.INVALID_NAME,
  ErrorCode.INVALID_VALUE,
  ErrorCode.VALUE_TOO_LARGE,
  ErrorCode.VALUE_TOO_DEEP,
  ErrorCode.COUNTER_OVERFLOW
])

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))
const name: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }) },
  { weight: 2, arbitrary: fc.tuple(fc.string({ maxLength: 4 }), loneSurrogate).map(([a, b]) => a + b) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      'x'.repeat(MAX_KEY),
      'x'.repeat(MAX_KEY + 1),
      '😀'.repeat(MAX_KEY / 2),
      '😀'.repeat(MAX_KEY / 2 + 1),
      '\u0000',
      'a\u0000b',
      'e\u0301\u0302',
      '\ufffd',
      '\ud83d\ude00',
      '__proto__',
      'constructor',
      'toString',
      ' ',
      '\u202e'
    )
  },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, 42, true, ['k'], { k: 1 }) }
)

const edgeNumber = fc.constantFrom(
  0,
  -0,
  1,
  -1,
  0.1,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  -(Number.MAX_SAFE_INTEGER + 2),
  2 ** 32,
  -(2 ** 31) - 1,
  2 ** 64,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  Number.EPSILON,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY
)
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 16 }),
  fc.tuple(fc.string({ maxLength: 3 }), loneSurrogate).map(([a, b]) => a + b),
  edgeNumber,
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom<unknown>(undefined, () => 1, Symbol('s'), 10n, new Date(0), new Map(), /re/)
)
const { value: valueArb } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), loneSurrogate), tie('value'), {
      maxKeys: 4
    })
  )
}))
/** Values at the depth and size limits, and just beyond them. */
const nested = (depth: number): unknown => (depth === 0 ? 1 : [nested(depth - 1)])
const edgeValue = fc.constantFrom<unknown>(
  nested(MAX_DEPTH),
  nested(MAX_DEPTH + 1),
  'x'.repeat(MAX_BYTES - 3),
  'x'.repeat(MAX_BYTES - 2),
  { ['__proto__']: 1 },
  JSON.parse('{"__proto__":{"isAdmin":true}}'),
  { constructor: 1, toString: 'x' }
)
const variable = fc.oneof({ weight: 5, arbitrary: valueArb }, { weight: 1, arbitrary: edgeValue })

const LONG = 3600_000
const options: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(undefined, null, {}, [], 'soon', 5, { expiresIn: null }),
  fc.record({
    expiresIn: fc.oneof(
      fc.integer({ min: LONG, max: 10 * 365 * 24 * LONG }),
      fc.constantFrom<unknown>(0, -0, -1, 0.5, 1e-300, 8.64e15, 1e16, 1e300, Number.MAX_SAFE_INTEGER),
      fc.constantFrom<unknown>(Number.NaN, Number.POSITIVE_INFINITY, '1000', true, [1000])
    )
  })
)

type Op =
  | { verb: 'save'; config: { collection: unknown; key: unknown; variable: unknown; options?: unknown } }
  | { verb: 'remove'; config: { collection: unknown; key: unknown } }
  | { verb: 'increment' | 'decrement'; config: { counter: unknown } }
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({ collection: name, key: name, variable, options }, { requiredKeys: ['collection', 'key', 'variable'] })
      .map((config) => ({ verb: 'save' as const, config }))
  },
  {
    weight: 1,
    arbitrary: fc.record({ collection: name, key: name }).map((config) => ({ verb: 'remove' as const, config }))
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('increment' as const, 'decrement' as const), name)
      .map(([verb, counter]) => ({ verb, config: { counter } }))
  }
)

/** A config JSON carries exactly (so raw HTTP can send it): nothing lost or changed by JSON.stringify. */
function jsonExact(config: unknown): boolean {
  let text: string | undefined
  try {
    text = JSON.stringify(config)
  } catch {
    return false
  }
  if (text === undefined) return false
  const same = (a: unknown, b: unknown): boolean => {
    if (typeof a === 'number') return Object.is(a, b)
    if (a === null || typeof a !== 'object') return a === b
    if (Array.isArray(a) !== Array.isArray(b) || b === null || typeof b !== 'object') return false
    if (!Array.isArray(a) && Object.getPrototypeOf(a) !== Object.prototype) return false
    const ka = Object.keys(a)
    const kb = Object.keys(b)
    return ka.length === kb.length && ka.every((k) => same((a as never)[k], (b as never)[k]))
  }
  return same(config, JSON.parse(text))
}

/** What a read gives back for a saved value: JSON's view of it (`-0` is 0). */
const readBack = (v: unknown): unknown => JSON.parse(JSON.stringify(v))

type Outcome = { ok: true; result: unknown } | { ok: false; code: string }
async function outcome(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, result: await run() }
  } catch (err) {
    return { ok: false, code: String((err as { code?: unknown }).code) }
  }
}

let dir: string
let a: SharedMemPeer
let b: SharedMemPeer
let server: HttpServer
let client: RemoteSharedMem
const raw = async (verb: string, body: string): Promise<unknown> => {
  const response = await fetch(`${server.url}/${verb}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(10_000)
  })
  const payload = (await response.json()) as { result?: unknown; error?: { code: string; message: string } }
  if (payload.error !== undefined) throw Object.assign(new Error(payload.error.message), { code: payload.error.code })
  return payload.result
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sharedmem-domain-'))
  a = await startPeer({ ...limits, dataDir: join(dir, 'a'), rendezvous: false })
  b = await startPeer({ ...limits, bootstrap: [a.addresses[0]], rendezvous: false })
  await waitFor(() => a.status().peers.length === 1 && b.status().peers.length === 1, 'a and b to meet')
  server = await startHttpServer(a, { port: 0 })
  client = connect(server.url)
})
afterAll(async () => {
  await server?.close()
  await stopAll()
  await rm(dir, { recursive: true, force: true })
})

describe(`the whole domain through every path (seed ${SEED}; replay with DOMAIN_SEED=${SEED})`, () => {
  /** Saved keys whose expiry (if any) lies far ahead, with the value a read must give. */
  const saved = new Map<string, { collection: string; key: string; value: unknown }>()
  const counters = new Set<string>()

  it('refuses each input alike on every path, changing nothing, or round-trips it exactly', async () => {
    await fc.assert(
      fc.asyncProperty(op, async (input) => {
        const paths: Array<[string, () => Promise<unknown>]> = [
          ['embedded', () => (a[input.verb] as (c: unknown) => Promise<unknown>).call(a, input.config)],
          ['connect', () => (client[input.verb] as (c: unknown) => Promise<unknown>)(input.config)]
        ]
        if (jsonExact(input.config)) paths.push(['http', () => raw(input.verb, JSON.stringify(input.config))])
        const results: Array<[string, Outcome]> = []
        for (const [path, run] of paths) {
          const before = a.status().digest
          const result = await outcome(run)
          results.push([path, result])
          if (!result.ok) {
            expect(INPUT_CODES, `${path}: ${result.code}`).toContain(result.code)
            expect(a.status().digest, `${path} refused, yet changed the replica`).toBe(before)
          } else if (input.verb === 'save') {
            const { collection, key } = input.config as { collection: string; key: string }
            const expiresIn = (input.config.options as { expiresIn?: unknown } | undefined)?.expiresIn
            if (typeof expiresIn === 'number' && expiresIn < LONG) continue // may be gone already
            const want = readBack(input.config.variable)
            expect(a.getSync({ collection, key }), `${path}: getSync`).toEqual(want)
            expect(await client.get({ collection, key }), `${path}: connect get`).toEqual(want)
            expect(await raw('get', JSON.stringify({ collection, key })), `${path}: http get`).toEqual(want)
            const all = await client.getArray({ collection })
            expect(Object.hasOwn(all, key) && all[key], `${path}: getArray`).toEqual(want)
            saved.set(JSON.stringify([collection, key]), { collection, key, value: want })
          } else if (input.verb === 'remove') {
            const { collection, key } = input.config as { collection: string; key: string }
            expect(a.getSync({ collection, key })).toBeNull()
            saved.delete(JSON.stringify([collection, key]))
          } else {
            const { counter } = input.config as { counter: string }
            expect(result.result, `${path}: the new value`).toBe(a.getCounterSync({ counter }))
            counters.add(counter)
          }
        }
        // Every path answers alike: all accept, or all refuse. The peer's own two doors (embedded,
        // HTTP) give the same code; connect() checks types before sending but not the peer's
        // configured limits, so with two faults in one input it may name the other one.
        const shape = (r: Outcome): string => (r.ok ? 'ok' : 'refused')
        const seen = JSON.stringify(results.map(([p, r]) => [p, r.ok ? 'ok' : r.code]))
        expect(new Set(results.map(([, r]) => shape(r))).size, seen).toBe(1)
        const peerCodes = results.filter(([p, r]) => p !== 'connect' && !r.ok).map(([, r]) => (r.ok ? '' : r.code))
        expect(new Set(peerCodes).size, seen).toBeLessThanOrEqual(1)
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true }
    )
  })

  it('what was accepted reaches a peer by gossip, a late joiner by sync, and a restart from disk', async () => {
    const digest = a.status().digest
    await waitFor(() => b.status().digest === a.status().digest, 'gossip to converge b')
    const check = (peer: SharedMemPeer, where: string): void => {
      for (const { collection, key, value } of saved.values()) {
        expect(peer.getSync({ collection, key }), `${where}: ${JSON.stringify([collection, key])}`).toEqual(value)
      }
      for (const counter of counters) {
        expect(peer.getCounterSync({ counter }), `${where}: counter ${JSON.stringify(counter)}`).toBe(
          a.getCounterSync({ counter })
        )
      }
      for (const collection of a.collections()) {
        expect(peer.getArraySync({ collection }), `${where}: getArray ${JSON.stringify(collection)}`).toEqual(
          a.getArraySync({ collection })
        )
      }
    }
    check(b, 'gossip')
    const late = await startPeer({ ...limits, bootstrap: [a.addresses[0]], rendezvous: false })
    await waitFor(
      () => late.status().digest === digest,
      `a late joiner to converge by sync (a holds ${JSON.stringify(a.collectionSizes())})`
    )
    check(late, 'sync')
    const before = new Map(a.collections().map((c) => [c, a.getArraySync({ collection: c })]))
    await server.close()
    await a.stop()
    a = await startPeer({ ...limits, dataDir: join(dir, 'a'), rendezvous: false })
    expect(a.status().digest).toBe(digest)
    for (const [collection, all] of before) expect(a.getArraySync({ collection })).toEqual(all)
    server = await startHttpServer(a, { port: 0 })
  })
})

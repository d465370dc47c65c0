import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { VERB_ENTRIES } from '../../src/http/verbs.js'
import { killAll, runNode, startPeerProcess } from '../fixtures/processes.js'

afterAll(killAll)

const SEED_CLIENT = fileURLToPath(new URL('../fixtures/seed/perfectapi-client.cjs', import.meta.url))

interface Step {
  name: string
  err: unknown
  result: unknown
}

describe('the perfectapi client of the ancestor (npm perfectapi, the real package)', () => {
  it('is perfectapi 0.0.20 from npm, not an imitation', () => {
    const require = createRequire(import.meta.url)
    expect((require('perfectapi/package.json') as { version: string }).version).toBe('0.0.20')
  })

  it("runs the ancestor README's code unchanged against `sharedmem server`, with every verb", async () => {
    const server = await startPeerProcess([], { command: 'server' })
    const url = server.url.replace('127.0.0.1', 'localhost') // as the ancestor's README wrote it
    const run = await runNode([SEED_CLIENT, url], { timeout: 30_000 })
    await server.stop()
    expect(run.code, run.stderr + run.stdout).toBe(0)
    const steps = run.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Step)
    const myuser = { email: 'steve@perfectapi.com', last: 'campbell', first: 'steve' }
    expect(steps).toEqual([
      { name: 'save', err: null, result: true },
      { name: 'get', err: null, result: myuser },
      { name: 'save', err: null, result: true },
      { name: 'getArray', err: null, result: { 'steve@perfectapi.com': myuser, ttl: 'short-lived' } },
      { name: 'get', err: null, result: null },
      { name: 'increment', err: null, result: 1 },
      { name: 'increment', err: null, result: 2 },
      { name: 'decrement', err: null, result: 1 },
      { name: 'decrement', err: null, result: -1 },
      { name: 'remove', err: null, result: true },
      { name: 'get', err: null, result: null },
      {
        name: 'save',
        err: expect.any(String),
        result: { err: expect.any(String), code: 'ERR_INVALID_ARGUMENT' }
      },
      { name: 'get', err: null, result: null }
    ])
  })

  it('reads the config without a token and passes one through `environment` as a header', async () => {
    const server = await startPeerProcess(['--token', 's3cret'], { command: 'server' })
    const script = `
      require('perfectapi').proxy(process.argv[1], function (err, sharedmem) {
        var auth = { authorization: 'Bearer s3cret' }
        sharedmem.save({ collection: 'c', key: 'k', variable: 7, environment: auth }, function (err) {
          sharedmem.get({ collection: 'c', key: 'k', environment: auth }, function (err, withToken) {
            sharedmem.get({ collection: 'c', key: 'k' }, function (err, without) {
              console.log(JSON.stringify({ withToken: withToken, without: without }))
              process.exit(0)
            })
          })
        })
      })`
    const run = await runNode(['-e', script, server.url], { timeout: 30_000 })
    await server.stop()
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout.trim().split('\n').pop() as string)).toEqual({
      withToken: 7,
      without: { err: expect.any(String), code: 'ERR_UNAUTHORIZED' }
    })
  })

  it('leaves the {"result": …} shape to every other client on the same paths', async () => {
    const server = await startPeerProcess([], { command: 'server' })
    try {
      await server.client.save({ collection: 'c', key: 'k', variable: 'v' })
      const plain = await fetch(`${server.url}/get?collection=c&key=k`)
      expect(await plain.json()).toEqual({ result: 'v' })
      const asPerfectApi = await fetch(`${server.url}/get`, {
        method: 'POST',
        headers: { 'user-agent': 'PerfectAPI', 'content-type': 'application/json' },
        body: JSON.stringify({ collection: 'c', key: 'k' })
      })
      expect(await asPerfectApi.json()).toBe('v')
      const config = (await (await fetch(`${server.url}/config`)).json()) as { signature: { name: string }[] }
      // Every verb of the table (which test/http/verbs.spec.ts holds to the contract), in its order.
      expect(config.signature.map((c) => c.name)).toEqual(VERB_ENTRIES.map(([verb]) => verb))
      expect(config.signature.map((c) => c.name)).toContain('resetCounter')
    } finally {
      await server.stop()
    }
  })
})

import { describe, expect, it } from 'vitest'
import { ErrorCode } from '../../src/errors.js'
import { readAhead } from '../../src/sync/read-ahead.js'

async function* numbers(count: number, fail?: Error): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) yield i
  if (fail !== undefined) throw fail
}

/** One turn of the event loop: every item the source can produce by then (microtasks) is pumped. */
const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('sync read-ahead', () => {
  it('hands every item on in order while reading ahead of a slow consumer', async () => {
    const got: number[] = []
    for await (const n of readAhead(numbers(50), 64)) {
      got.push(n)
      if (n % 10 === 0) await settle()
    }
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i))
  })

  it('cuts off a source that runs further ahead than the limit', async () => {
    const reader = readAhead(numbers(100), 8)
    expect((await reader.next()).value).toBe(0)
    // The consumer stops; the source keeps producing past what the window allows.
    await settle()
    await expect(async () => {
      for await (const _ of reader) {
      }
    }).rejects.toMatchObject({ code: ErrorCode.DECODE })
  })

  it('passes the source failure on after the items before it', async () => {
    const got: number[] = []
    const failure = new Error('stream reset')
    await expect(async () => {
      for await (const n of readAhead(numbers(3, failure), 8)) got.push(n)
    }).rejects.toBe(failure)
    expect(got).toEqual([0, 1, 2])
  })
})

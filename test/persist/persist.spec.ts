import { appendFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { frameRecord, readRecords } from '../../src/persist/records.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'
import { appendLog, badExpiryRecord, entryRecord } from './craft.js'

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sharedmem-persist-'))
})
afterEach(stopAll)
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})
let n = 0
const freshDir = () => join(root, `d${n++}`)

describe('record framing', () => {
  it('reads back whole records and stops at a torn or corrupt tail', () => {
    fc.assert(
      // No record is empty: every payload is a message.
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { maxLength: 20 }),
        fc.nat(),
        (payloads, cut) => {
          const frames = payloads.map(frameRecord)
          const bytes = Buffer.concat(frames)
          const whole = readRecords(bytes, 1 << 20)
          expect(whole.records.map((r) => Buffer.from(r))).toEqual(payloads.map((p) => Buffer.from(p)))
          expect(whole.torn).toBe(false)
          const at = bytes.byteLength === 0 ? 0 : cut % bytes.byteLength
          const torn = readRecords(bytes.subarray(0, at), 1 << 20)
          expect(torn.validBytes).toBeLessThanOrEqual(at)
          expect(payloads.slice(0, torn.records.length).map((p) => Buffer.from(p))).toEqual(
            torn.records.map((r) => Buffer.from(r))
          )
        }
      )
    )
    const frame = frameRecord(new Uint8Array([1, 2, 3]))
    frame[9] ^= 0xff
    expect(readRecords(frame, 1 << 20)).toMatchObject({ records: [], validBytes: 0, torn: true })
  })

  it('skips a damaged record followed by a valid one, and stops at a run of zeros', () => {
    const [a, b, c] = [1, 2, 3].map((i) => frameRecord(new Uint8Array([i, i, i])))
    b[9] ^= 0xff
    const read = readRecords(Buffer.concat([a, b, c]), 1 << 20)
    expect(read.records.map((r) => [...r])).toEqual([
      [1, 1, 1],
      [3, 3, 3]
    ])
    expect(read).toMatchObject({ torn: false, skipped: 1 })
    // Damage in the last record is a torn tail: nothing valid follows it.
    expect(readRecords(Buffer.concat([a, b]), 1 << 20)).toMatchObject({
      validBytes: a.byteLength,
      torn: true,
      skipped: 0
    })
    // Zeros past the last write (what some filesystems show after a crash) are not empty records.
    const zeros = readRecords(Buffer.concat([a, new Uint8Array(4096)]), 1 << 20)
    expect(zeros).toMatchObject({ validBytes: a.byteLength, torn: true, skipped: 0 })
    expect(zeros.records).toHaveLength(1)
  })
})

describe('data directory', () => {
  it('brings back 100,000 entries, removes and counters after every peer stopped, with the same peer id', async () => {
    const dataDir = freshDir()
    const first = await startPeer({ dataDir })
    for (let i = 0; i < 100_000; i++) {
      first.save({ collection: `c${i % 10}`, key: `k${i}`, variable: { i, pad: 'x'.repeat(40) } })
      if (i % 10_000 === 0) await new Promise(setImmediate)
    }
    await first.remove({ collection: 'c0', key: 'k0' })
    for (let i = 0; i < 5; i++) await first.increment({ counter: 'n' })
    const digest = first.status().digest
    await first.stop()

    const second = await startPeer({ dataDir })
    expect(second.peerId).toBe(first.peerId)
    expect(second.status().digest).toBe(digest)
    expect(second.status()).toMatchObject({ entries: 99_999, dead: 1, persistence: { loadedEntries: 100_000 } })
    expect(second.getSync({ collection: 'c3', key: 'k99993' })).toEqual({ i: 99993, pad: 'x'.repeat(40) })
    expect(second.getCounterSync({ counter: 'n' })).toBe(5)
    // A restarted peer takes a new counter slot and keeps counting from the stored total.
    expect(await second.increment({ counter: 'n' })).toBe(6)
  })

  it('compacts the log into a snapshot and loads the same state', async () => {
    const dataDir = freshDir()
    const peer = await startPeer({ dataDir, compactBytes: 64 * 1024, fsyncInterval: 0 })
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 200; i++) await peer.save({ collection: 'c', key: `k${i}`, variable: round })
      for (let i = 0; i < 200; i++)
        await peer.save({ collection: 'grow', key: `r${round}-${i}`, variable: 'x'.repeat(20) })
      // Awaited saves resolve in one event-loop turn: yield, so that each round is its own group commit.
      await new Promise(setImmediate)
    }
    const digest = peer.status().digest
    await waitFor(() => (peer.status().persistence?.snapshots ?? 0) > 0, 'a compaction')
    await peer.stop()
    expect((await readdir(dataDir)).filter((f) => f.startsWith('wal-')).length).toBeLessThanOrEqual(2)
    const again = await startPeer({ dataDir })
    expect(again.status().digest).toBe(digest)
    expect(again.getArraySync({ collection: 'c' }).k7).toBe(19)
    expect(Object.keys(again.getArraySync({ collection: 'grow' }))).toHaveLength(4000)
  })

  it('drops a torn record at the end of the log and loads everything before it', async () => {
    const dataDir = freshDir()
    const peer = await startPeer({ dataDir })
    await peer.save({ collection: 'c', key: 'kept', variable: 1 })
    await peer.stop()
    const wal = (await readdir(dataDir))
      .filter((f) => f.startsWith('wal-'))
      .sort()
      .pop() as string
    const half = frameRecord(new Uint8Array(100)).subarray(0, 40)
    await appendFile(join(dataDir, wal), half)
    const again = await startPeer({ dataDir })
    expect(again.getSync({ collection: 'c', key: 'kept' })).toBe(1)
    expect(again.status().persistence?.droppedBytes).toBe(40)
  })
})

describe('unreadable data', () => {
  it('loads every good entry of a record holding one with an expiry beyond the safe integers, and counts it', async () => {
    const dataDir = freshDir()
    const peer = await startPeer({ dataDir })
    await peer.save({ collection: 'c', key: 'first', variable: 'first' })
    await peer.stop()
    // One record of three entries, the middle one's expiry 1e300: valid MessagePack, one bad entry.
    await appendLog(
      dataDir,
      badExpiryRecord(peer.peerId, ['a', 'bad', 'b'], 'bad'),
      entryRecord(peer.peerId, ['after'])
    )

    const again = await startPeer({ dataDir })
    expect(again.getArraySync({ collection: 'c' })).toEqual({ first: 'first', a: 'a', b: 'b', after: 'after' })
    expect(again.status().persistence).toMatchObject({ skipped: 1, skippedRecords: 0, droppedBytes: 0 })
    expect(again.status().persistence?.skipReason).not.toBe('')
    await again.stop()
    // The snapshot written after loading leaves the bad entry behind.
    const third = await startPeer({ dataDir })
    expect(third.status().persistence).toMatchObject({ skipped: 0, skippedRecords: 0, skipReason: '' })
    expect(Object.keys(third.getArraySync({ collection: 'c' })).sort()).toEqual(['a', 'after', 'b', 'first'])
  })

  it('loads around a record that is not a message and one damaged in the middle of a log', async () => {
    const dataDir = freshDir()
    const peer = await startPeer({ dataDir })
    await peer.save({ collection: 'c', key: 'first', variable: 'first' })
    await peer.stop()
    const damaged = entryRecord(peer.peerId, ['lost'])
    damaged[damaged.byteLength - 1] ^= 0xff
    await appendLog(
      dataDir,
      entryRecord(peer.peerId, ['a']),
      frameRecord(new Uint8Array([0xc1, 0xc1, 0xc1])),
      entryRecord(peer.peerId, ['b']),
      damaged,
      entryRecord(peer.peerId, ['c'])
    )
    const again = await startPeer({ dataDir })
    expect(again.getArraySync({ collection: 'c' })).toEqual({ first: 'first', a: 'a', b: 'b', c: 'c' })
    expect(again.status().persistence).toMatchObject({ skipped: 0, skippedRecords: 2, droppedBytes: 0 })
  })
})

describe('a peer with a data directory', () => {
  it('keeps the members it waits for across a restart, so it keeps their removals until they catch up', async () => {
    const dataDir = freshDir()
    const peer = await startPeer({ dataDir, fsyncInterval: 0 })
    const other = await startPeer({ bootstrap: [peer.addresses[0]] })
    await waitFor(() => peer.status().peers.length === 1, 'the first connection')
    await peer.syncNow()
    await peer.save({ collection: 'c', key: 'k', variable: 1 }) // a write, so that a group commit writes meta.json
    await peer.stop()
    await other.stop()
    const restarted = await startPeer({ dataDir })
    expect(restarted.status().sync.membership.members).toBe(2)
    // The other member has not caught up since: nothing dead may be collected past it.
    expect(restarted.status().sync.membership.watermark).toBeLessThan(Date.now())
  })

  it('collects nothing for memberTimeout when its members were lost (meta.json gone or damaged)', async () => {
    for (const damage of ['gone', 'torn', 'wrong shape']) {
      const dataDir = freshDir()
      const peer = await startPeer({ dataDir, fsyncInterval: 0 })
      const other = await startPeer({ bootstrap: [peer.addresses[0]] })
      await waitFor(() => peer.status().peers.length === 1, 'the first connection')
      await peer.syncNow()
      await peer.save({ collection: 'c', key: 'k', variable: 1 })
      await peer.stop()
      await other.stop()
      const meta = join(dataDir, 'meta.json')
      if (damage === 'gone') await rm(meta)
      else if (damage === 'torn') await writeFile(meta, '{"lastSyncAt":17,"members":{"upti')
      else await writeFile(meta, JSON.stringify({ lastSyncAt: 17, members: { uptime: 1, members: {}, rows: 3 } }))
      const restarted = await startPeer({ dataDir })
      expect(restarted.getSync({ collection: 'c', key: 'k' }), damage).toBe(1)
      // It cannot tell which member still misses a removal: no dead entry may be collected yet.
      expect(restarted.status().sync.membership.watermark, damage).toBe(0)
      await restarted.stop()
    }
  })
})

describe('large values', () => {
  it('keeps records loadable when one group commit holds more than a message of values', async () => {
    const dataDir = freshDir()
    const peer = await startPeer({ dataDir })
    const big = 'x'.repeat(900 * 1024)
    // Saved in one event-loop turn: one group commit of ~5.4 MB, over the 4 MiB record limit if not split.
    for (let i = 0; i < 6; i++) peer.save({ collection: 'big', key: `k${i}`, variable: `${i}${big}` })
    await peer.stop()
    const again = await startPeer({ dataDir })
    expect(again.status().persistence?.droppedBytes).toBe(0)
    expect(Object.keys(again.getArraySync({ collection: 'big' })).sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5'])
  })
})

// What a late join costs the swarm (#28: the bytes ≤ 1.2× one replica at 2, 4 and 8 peers, idle
// and under a steady write load, where the join also stays within 2× its idle time). Run on
// demand, after a build:
//   node bench/join-bytes.mjs            (PEERS=2,4,8 ENTRIES=50000 RATE=2000)
// For each number of peers, each its own process (bench/worker.mjs): the first saves ENTRIES
// entries of 100 B, which reach the others, then a fresh peer joins with every peer's address as
// its bootstrap, so that it meets them all at once (a replaced worker of a cluster). Under load,
// the first peer also saves RATE new entries a second from 1 s before the join until it ends.
// Every byte of the join goes over a sync stream of the joiner's, so its sync figures
// (`status().sync`, both directions) are what the join moved; the table gives them against the
// 2-peer idle join, one replica and one digest exchange, the least a join can move. JOIN_TRACE=1
// also prints the joiner's rounds as they end (role, buckets, entries each way).
import { fork } from 'node:child_process'
import { connect } from './ipc.mjs'

const PEERS = (process.env.PEERS ?? '2,4,8').split(',').map(Number)
const ENTRIES = Number(process.env.ENTRIES ?? 50_000)
const RATE = Number(process.env.RATE ?? 2000)
const children = new Set()

async function worker() {
  const child = fork(new URL('./worker.mjs', import.meta.url), [], { stdio: 'inherit' })
  const w = { call: (await connect(child)).call, child }
  children.add(w)
  return w
}

async function stopAll() {
  await Promise.all(
    [...children].map(async ({ call, child }) => {
      await Promise.race([call('stop').catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5000))])
      if (child.exitCode === null) child.kill('SIGKILL')
    })
  )
  children.clear()
}

process.on('exit', () => {
  for (const { child } of children) child.kill('SIGKILL')
})

/** One join into `peers` peers that hold ENTRIES entries, idle or under RATE writes a second. */
async function join(peers, loaded) {
  const first = await worker()
  const { address } = await first.call('start')
  const others = []
  for (let i = 1; i < peers; i++) others.push(await worker())
  const addresses = [address]
  for (const w of others) addresses.push((await w.call('start', { bootstrap: [address] })).address)
  await first.call('waitPeers', { count: peers - 1 })
  await first.call('fill', { n: ENTRIES, size: 100 })
  const target = await first.call('digest')
  for (const w of others) {
    const caught = await w.call('catchUp', { target, timeout: 120_000 })
    if (!caught.synced) throw new Error(`a peer did not receive the ${ENTRIES} entries`)
  }
  // RATE a second for longer than any join takes; the processes are stopped before it ends.
  if (loaded) {
    void first.call('write', { n: RATE * 600, size: 100, rate: RATE, collection: 'load' }).catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  const joiner = await worker()
  const since = performance.timeOrigin + performance.now()
  await joiner.call('start', { bootstrap: addresses })
  const joined = await joiner.call('joined', { collection: 'fill', n: ENTRIES, rounds: peers, since })
  await stopAll()
  if (process.env.JOIN_TRACE === '1') {
    for (const r of joined.rounds)
      console.log(
        `  ${(r.at - since).toFixed(0)} ms ${r.role} ${r.durationMs} ms buckets ${r.buckets} sent ${r.sent} received ${r.received}${r.deferred ? ' deferred' : ''}`
      )
  }
  if (joined.ms === undefined) throw new Error(`the joiner did not receive the ${ENTRIES} entries`)
  const { bytesSent, bytesReceived, entriesSent, entriesReceived, rounds, deferred } = joined.sync
  return {
    ms: joined.ms,
    bytes: bytesSent + bytesReceived,
    bytesSent,
    entriesSent,
    entries: entriesReceived,
    rounds,
    deferred
  }
}

const rows = []
try {
  for (const peers of PEERS) {
    for (const loaded of [false, true]) {
      if (loaded && RATE === 0) continue
      rows.push({ peers, loaded, ...(await join(peers, loaded)) })
    }
  }
} finally {
  await stopAll()
}

const base = rows.find((r) => !r.loaded) ?? rows[0]
const idleMs = new Map(rows.filter((r) => !r.loaded).map((r) => [r.peers, r.ms]))
const mb = (b) => (b / 1e6).toFixed(3)
console.log(
  `late join of ${ENTRIES.toLocaleString('en-US')} entries of 100 B; bytes against the ${base.peers}-peer idle join`
)
console.log('peers  load        entries in / out  MB moved (out)  ratio  rounds (deferred)  join s  against idle')
for (const r of rows) {
  const load = r.loaded ? `${RATE}/s` : 'idle'
  const against = idleMs.has(r.peers) ? `${(r.ms / idleMs.get(r.peers)).toFixed(2)}×` : '-'
  console.log(
    [
      String(r.peers).padEnd(5),
      load.padEnd(10),
      `${r.entries} / ${r.entriesSent}`.padStart(16),
      `${mb(r.bytes)} (${mb(r.bytesSent)})`.padStart(14),
      `${(r.bytes / base.bytes).toFixed(2)}×`.padStart(5),
      `${r.rounds} (${r.deferred})`.padStart(17),
      (r.ms / 1000).toFixed(2).padStart(6),
      against.padStart(12)
    ].join('  ')
  )
}

#!/usr/bin/env node
import { spawn } from 'node:child_process'
/**
 * `npm run chaos`: a Jepsen-style randomized run against real `sharedmem peer` processes.
 *
 *   npm run chaos -- [--seed N] [--duration s] [--mode local|hosts] [--clients n] [--json]
 *
 * Five peers (CLI, --http, --data-dir, joined in a chain) take concurrent HTTP clients' writes for
 * `duration` seconds while a seeded schedule injects faults: kill -9 and restart from the data
 * directory, SIGSTOP/SIGCONT, partitions, clocks skewed within and beyond --max-clock-skew
 * (libfaketime), a whole-swarm restart, and a hostile peer throughout. Then everything heals and
 * the run checks the replicas (check.mjs). The same seed gives the same fault schedule.
 * It prints a table and exits 1 if any anomaly was found.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Abuse } from './abuse.mjs'
import { check, readReplica } from './check.mjs'
import { Cluster } from './cluster.mjs'
import { canUseNamespaces, canUseNetfilter, HostsNet, LocalNet } from './net.mjs'
import { Workload } from './workload.mjs'

const PEERS = 5
const SYNC_INTERVAL = 2_000
const MAX_CLOCK_SKEW = 5_000
/** The largest skew injected within --max-clock-skew; beyond-skew faults use BEYOND_SKEW. */
const WITHIN_SKEW = 2_000
const BEYOND_SKEW = 8_000
const HOSTILE = fileURLToPath(new URL('./hostile.mjs', import.meta.url))

/** mulberry32: a small seeded PRNG, so that a seed replays its schedule. */
export function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function freePorts(n) {
  const servers = await Promise.all(
    Array.from({ length: n }, () => {
      const server = createServer()
      return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
    })
  )
  const ports = servers.map((s) => s.address().port)
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return ports
}

/** The fault schedule of a seed: each kind once first (in a seeded order), then seeded draws. */
export function schedule(seed, durationMs, { partitions, skew }) {
  const rng = prng(seed ^ 0x5eed)
  const kinds = ['kill9', 'pause', 'restartAll']
  if (partitions) kinds.push('partition')
  if (skew) kinds.push('skew', 'skewBeyond')
  const draw = () => kinds[Math.floor(rng() * kinds.length)]
  const first = [...kinds].sort(() => rng() - 0.5)
  const faults = []
  let at = 2_000
  let restarts = 0
  for (let n = 0; at < durationMs - 3_000 && n < 1_000; n++) {
    let kind = n < first.length ? first[n] : draw()
    if (kind === 'restartAll' && restarts++ > 0) kind = 'kill9' // one planned restart of all per run
    const peer = Math.floor(rng() * PEERS)
    const length = 1_000 + Math.floor(rng() * 4_000)
    const others = [(peer + 1 + Math.floor(rng() * (PEERS - 1))) % PEERS]
    const isolated = rng() < 0.5 ? [peer] : [peer, ...others]
    const within = () => 500 + Math.floor(rng() * (WITHIN_SKEW - 500))
    // `skew`: one peer's clock ahead and another's behind, both within the limit; `skewBeyond`: one ahead, beyond it.
    const skews =
      kind === 'skewBeyond'
        ? [[peer, BEYOND_SKEW]]
        : [
            [peer, within()],
            [others[0], -within()]
          ]
    faults.push({ at, kind, peer, length, isolated, skews })
    at += length + 500 + Math.floor(rng() * 1_500)
  }
  return faults
}

async function inject(fault, cluster, net, log) {
  const { kind, peer, length } = fault
  const what = {
    partition: `[${fault.isolated}]`,
    restartAll: '',
    skew: fault.skews?.map(([i, ms]) => `${i}${ms > 0 ? '+' : ''}${ms} ms`).join(' '),
    skewBeyond: fault.skews?.map(([i, ms]) => `${i}+${ms} ms`).join(' ')
  }
  log.push(`${kind} ${what[kind] ?? peer}`.trim())
  switch (kind) {
    case 'kill9':
      await cluster.kill9(peer)
      await sleep(length)
      await cluster.start(peer)
      break
    case 'pause':
      cluster.pause(peer)
      await sleep(length)
      cluster.resume(peer)
      break
    case 'partition':
      net.partition(fault.isolated)
      await sleep(length)
      net.heal()
      break
    case 'skew':
    case 'skewBeyond': {
      const skewed = fault.skews.map(([i]) => i)
      await Promise.all(skewed.map((i) => cluster.stop(i)))
      await Promise.all(fault.skews.map(([i, ms]) => cluster.start(i, ms)))
      await sleep(length)
      await Promise.all(skewed.map((i) => cluster.stop(i)))
      await Promise.all(skewed.map((i) => cluster.start(i)))
      break
    }
    case 'restartAll':
      await cluster.stopAll()
      await Promise.all(cluster.peers.map((p) => cluster.start(p.i)))
      cluster.restartedAllAt = Date.now()
      break
  }
}

/** Runs one chaos run and resolves its report. */
export async function runChaos({ seed, duration = 60, mode = 'local', clients = 12 }) {
  const durationMs = duration * 1000
  const dir = await mkdtemp(join(tmpdir(), 'sharedmem-chaos-'))
  const hosts = mode === 'hosts'
  if (hosts && !canUseNamespaces()) throw new Error('--mode hosts needs root, iproute2 and tc (network namespaces)')
  const net = hosts ? new HostsNet(PEERS) : new LocalNet(PEERS)
  const anomalies = []
  const faultLog = []
  const report = { seed, mode, duration, peers: PEERS, clients, faults: {}, anomalies }
  const cluster = new Cluster({
    count: PEERS,
    dir,
    net,
    p2pPorts: hosts ? Array(PEERS).fill(7400) : [],
    httpPorts: hosts ? Array(PEERS).fill(8080) : [],
    syncInterval: SYNC_INTERVAL,
    maxClockSkew: MAX_CLOCK_SKEW,
    onCrash: (i, why) => anomalies.push(`crash: peer ${i} ${why.split('\n')[0]}`)
  })
  let hostile
  const cleanup = async () => {
    hostile?.kill('SIGKILL')
    await cluster.stopAll()
    net.teardown()
  }
  const onSignal = () => void cleanup().finally(() => process.exit(130))
  process.once('SIGINT', onSignal)
  try {
    if (!hosts) {
      const ports = await freePorts(2 * PEERS)
      cluster.init.p2pPorts = ports.slice(0, PEERS)
      cluster.init.httpPorts = ports.slice(PEERS)
    }
    net.setup(cluster.init.p2pPorts)
    if (hosts) await sleep(1_000) // the delay relays, where netem is missing, start listening
    report.network = hosts
      ? `${PEERS} namespaces on a bridge, delay ${net.delayMs} ± ${net.jitterMs} ms, loss ${net.lossPercent} % (${net.emulation})`
      : 'loopback'
    const partitions = hosts || canUseNetfilter()
    const skew = Cluster.canSkewClocks()
    report.unavailable = [
      ...(partitions ? [] : ['partition (needs iptables as root)']),
      ...(skew ? [] : ['skew (needs libfaketime)'])
    ]
    const faults = schedule(seed, durationMs, { partitions, skew })
    for (let i = 0; i < PEERS; i++) await cluster.start(i)

    const targets = cluster.peers.map((p) => `/ip4/${net.host(p.i)}/tcp/${cluster.init.p2pPorts[p.i]}`)
    const [cmd, ...argv] = net.command(0, [process.execPath, HOSTILE, net.host(0), ...targets])
    hostile = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'ignore'] })
    let hostileOut = ''
    hostile.stdout.setEncoding('utf8').on('data', (c) => {
      hostileOut += c
    })

    const workload = new Workload({ rng: prng(seed), cluster, timeout: 3_000, skewBound: WITHIN_SKEW })
    const abuse = new Abuse(cluster, prng(seed ^ 0xab05e))
    const started = Date.now()
    workload.start(clients)
    abuse.start()
    for (const fault of faults) {
      const wait = started + fault.at - Date.now()
      if (wait > 0) await sleep(wait)
      if (Date.now() - started > durationMs) break
      await inject(fault, cluster, net, faultLog)
      report.faults[fault.kind] = (report.faults[fault.kind] ?? 0) + 1
    }
    const left = started + durationMs - Date.now()
    if (left > 0) await sleep(left)
    await workload.stop()
    await abuse.stop()
    const loadEnded = Date.now()

    // Heal: every peer up, running, connected, on the real clock; the hostile peer gone.
    const hostileExit = new Promise((resolve) => hostile.once('exit', resolve))
    hostile.kill('SIGTERM')
    const timer = setTimeout(() => hostile.kill('SIGKILL'), 10_000)
    await hostileExit
    clearTimeout(timer)
    report.hostile = hostileOut.trim() === '' ? {} : JSON.parse(hostileOut.trim().split('\n').pop())
    net.heal()
    for (const p of cluster.peers) {
      cluster.resume(p.i)
      if (!p.up || p.skew !== 0) {
        await cluster.stop(p.i)
        await cluster.start(p.i)
      }
    }
    const healed = Date.now()
    for (let round = 0; round < 240 && Date.now() - healed < 120_000; round++) {
      const digests = await Promise.all(
        cluster.peers.map(async (p) => {
          const response = await fetch(`${cluster.url(p.i)}/status`, { signal: AbortSignal.timeout(5_000) })
          return (await response.json()).result.digest
        })
      ).catch(() => [])
      if (digests.length === PEERS && digests.every((d) => d === digests[0])) break
      await sleep(500)
    }
    report.convergeMs = Date.now() - healed
    const readAt = Date.now() // before the reads: an entry read alive must have been alive then
    const replicas = await Promise.all(cluster.peers.map((p) => readReplica(cluster.url(p.i))))
    const metrics = await Promise.all(
      cluster.peers.map(async (p) => {
        const text = await (await fetch(`http://${net.host(p.i)}:${cluster.init.httpPorts[p.i]}/metrics`)).text()
        return [...text.matchAll(/^sharedmem_rejections_total\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0)
      })
    )
    report.rejections = metrics.reduce((a, b) => a + b, 0)
    await abuse.settled()
    report.abuse = abuse.counts
    anomalies.push(...abuse.problems)
    const result = check(replicas, workload, { now: readAt, skewAllowance: WITHIN_SKEW + 1_000 })
    anomalies.push(...result.anomalies)
    const sentByHostile = Object.values(report.hostile).reduce((a, b) => a + b, 0) - (report.hostile.failed ?? 0)
    // Counters start again at a restart: after a whole-swarm restart late in the run, the hostile
    // peer may not have reached any peer again before it stopped.
    const hostileHadTime = loadEnded - (cluster.restartedAllAt ?? 0) > 8_000
    if (sentByHostile > 0 && hostileHadTime && report.rejections === 0) {
      anomalies.push('hostile: no refusal counted in /metrics')
    }
    Object.assign(report, {
      ops: workload.ops,
      byKind: workload.byKind,
      acknowledgedUnique: workload.unique.size,
      removed: workload.removed.size,
      lost: result.lost,
      entries: Object.keys(replicas[0].u).length + Object.keys(replicas[0].h).length,
      faultLog
    })
    return report
  } finally {
    process.off('SIGINT', onSignal)
    await cleanup()
    await rm(dir, { recursive: true, force: true })
  }
}

export function table(r) {
  const faults = Object.entries(r.faults)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ')
  const rows = [
    ['seed', `${r.seed} (replay: npm run chaos -- --seed ${r.seed} --duration ${r.duration} --mode ${r.mode})`],
    ['cluster', `${r.peers} peers (${r.mode}), ${r.clients} clients, ${r.duration} s of load`],
    ['network', r.network],
    ['ops attempted', r.ops?.attempted],
    ['acknowledged', r.ops?.acknowledged],
    ['refused (an answer: nothing written)', r.ops?.refused],
    ['uncertain (no answer)', r.ops?.uncertain],
    ['acknowledged unique keys / removed', `${r.acknowledgedUnique} / ${r.removed}`],
    ['faults injected', faults || 'none'],
    ['not available here', r.unavailable?.length ? r.unavailable.join('; ') : 'none'],
    [
      'HTTP abuse',
      r.abuse === undefined
        ? ''
        : `${r.abuse.oversize413}/${r.abuse.oversize} oversize uploads got 413, ${r.abuse.slowCut}/${r.abuse.slow} slow clients cut off, ${r.abuse.burstAnswered}/${r.abuse.burst} burst requests answered`
    ],
    ['hostile messages sent / refusals counted', `${JSON.stringify(r.hostile)} / ${r.rejections}`],
    ['time to converge after heal', `${((r.convergeMs ?? 0) / 1000).toFixed(1)} s`],
    ['lost acknowledged writes', r.lost],
    ['anomalies', r.anomalies.length === 0 ? 'none' : r.anomalies.length]
  ]
  const lines = ['| chaos run | |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)]
  for (const a of r.anomalies) lines.push(`- ${a}`)
  return lines.join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      duration: { type: 'string', default: '60' },
      mode: { type: 'string', default: 'local' },
      clients: { type: 'string', default: '12' },
      json: { type: 'boolean', default: false }
    }
  })
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed)
  const duration = Number(values.duration)
  if (!Number.isInteger(seed) || !(duration > 0 && duration <= 3600) || !['local', 'hosts'].includes(values.mode)) {
    console.error('usage: npm run chaos -- [--seed N] [--duration 1-3600] [--mode local|hosts] [--clients n] [--json]')
    process.exit(2)
  }
  console.log(`chaos: seed ${seed}, ${duration} s, mode ${values.mode}`)
  const report = await runChaos({ seed, duration, mode: values.mode, clients: Number(values.clients) })
  console.log(table(report))
  if (values.json) console.log(`CHAOS-RESULT ${JSON.stringify(report)}`)
  process.exit(report.anomalies.length === 0 ? 0 : 1)
}

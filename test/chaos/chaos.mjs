#!/usr/bin/env node
import { spawn } from 'node:child_process'
/**
 * `npm run chaos`: a Jepsen-style randomized run against real `sharedmem peer` processes.
 * `npm run chaos -- --help` lists the flags (USAGE below).
 *
 * Five peers (CLI, --http, joined in a chain) in mixed configurations (promise.mjs: durable
 * writes, a data directory with the default fsync, memory only) take concurrent HTTP clients'
 * writes for `duration` seconds while a seeded schedule (schedule.mjs) injects faults. Then
 * everything heals and the run checks the replicas against the clients' history and each peer's
 * own promise (check.mjs). The same seed gives the same fault schedule and the same configurations.
 * It prints a table and exits 1 if any anomaly was found.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Abuse } from './abuse.mjs'
import { check, checkAbuse, readReplicas } from './check.mjs'
import { Cluster } from './cluster.mjs'
import { canUseNamespaces, canUseNetfilter, HostsNet, LocalNet } from './net.mjs'
import { mayLose } from './promise.mjs'
import { PEERS, prng, schedule, WITHIN_SKEW } from './schedule.mjs'
import { Workload } from './workload.mjs'

const SYNC_INTERVAL = 2_000
const MAX_CLOCK_SKEW = 5_000
/** The peers' tombstone horizon: short, so that the `horizon` fault can outlast it within a run. */
const TOMBSTONE_TTL = 5_000
const COLLECT_INTERVAL = 1_000
/**
 * How far apart in real time two writes must be for the later one to win under last-writer-wins
 * whatever the clocks: two clocks within ±WITHIN_SKEW, and a stamp that leads its peer's clock by
 * what HLCs carry from a peer up to --max-clock-skew ahead, and a second of margin.
 */
const LWW_ALLOWANCE = MAX_CLOCK_SKEW + 2 * WITHIN_SKEW + 1_000
const HOSTILE = fileURLToPath(new URL('./hostile.mjs', import.meta.url))

export const USAGE = `usage: npm run chaos -- [flags]

  --seed <n>          seed of the fault schedule, the configurations and the clients (default: random, printed)
  --duration <s>      seconds of load and faults, 1-3600 (default: 60)
  --mode <mode>       local: 5 peers on 127.0.0.1, each as its own uid (partitions need root and iptables);
                      hosts: 5 network namespaces with delay and loss (needs root, iproute2, tc) (default: local)
  --clients <n>       concurrent HTTP clients (default: 12)
  --json              also print one CHAOS-RESULT line of JSON (for summarize.mjs)
  -h, --help          print this help`

/** The configuration of each peer: two durable, two with a data directory, one memory only, rotated by the seed. */
export function configsOf(seed) {
  const cycle = ['durable', 'durable', 'datadir', 'datadir', 'memory']
  return Array.from({ length: PEERS }, (_, i) => cycle[(i + seed) % cycle.length])
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export async function freePorts(n) {
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

/** Injects one fault and undoes it; cut-offs are recorded in `cuts` (for promise.mjs). */
async function inject(fault, cluster, net, log, cuts) {
  const { kind, peer, length } = fault
  const skews = fault.skews?.map(([i, ms]) => `${i}${ms > 0 ? '+' : ''}${ms} ms`).join(' ')
  const what = {
    partition: `[${fault.isolated}]`,
    horizon: `[${fault.isolated}] ${length} ms`,
    restartAll: '',
    killAll: ''
  }
  log.push(`${kind} ${what[kind] ?? (kind.startsWith('skew') ? skews : peer)}`.trim())
  const cut = async (peers, start, end) => {
    const entry = { peers, from: Date.now(), to: Number.POSITIVE_INFINITY }
    cuts.push(entry)
    start()
    await sleep(length)
    end()
    entry.to = Date.now()
  }
  switch (kind) {
    case 'kill9':
      await cluster.kill9(peer)
      await sleep(length)
      await cluster.start(peer)
      break
    case 'pause':
      await cut(
        [peer],
        () => cluster.pause(peer),
        () => cluster.resume(peer)
      )
      break
    case 'partition':
    case 'horizon':
      // Recorded for the isolated side: what the rest writes, the rest still holds.
      await cut(
        fault.isolated,
        () => net.partition(fault.isolated),
        () => net.heal()
      )
      break
    case 'skew':
    case 'skewBeyond':
    case 'skewLarge': {
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
    case 'killAll':
      await cluster.killAll()
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
  const configs = configsOf(seed)
  const cuts = []
  const report = { seed, mode, duration, peers: PEERS, clients, configs, faults: {}, anomalies }
  const cluster = new Cluster({
    configs,
    tombstoneTtl: TOMBSTONE_TTL,
    collectInterval: COLLECT_INTERVAL,
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
  // Interrupted (Ctrl-C, or SIGTERM from a timeout or CI): stop every peer and lift every rule first.
  const onSignal = (signal) => void cleanup().finally(() => process.exit(signal === 'SIGTERM' ? 143 : 130))
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
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
    const faults = schedule(seed, durationMs, { partitions, skew, horizonMs: TOMBSTONE_TTL })
    for (let i = 0; i < PEERS; i++) await cluster.start(i)

    const targets = cluster.peers.map((p) => `/ip4/${net.host(p.i)}/tcp/${cluster.init.p2pPorts[p.i]}`)
    const [cmd, ...argv] = net.command(0, [process.execPath, HOSTILE, net.host(0), ...targets])
    hostile = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'ignore'], ...net.identity('hostile') })
    let hostileOut = ''
    hostile.stdout.setEncoding('utf8').on('data', (c) => {
      hostileOut += c
    })

    const workload = new Workload({ rng: prng(seed), cluster, timeout: 3_000, removeAfter: LWW_ALLOWANCE })
    const abuse = new Abuse(cluster, prng(seed ^ 0xab05e))
    const started = Date.now()
    workload.start(clients)
    abuse.start()
    for (const fault of faults) {
      const wait = started + fault.at - Date.now()
      if (wait > 0) await sleep(wait)
      if (Date.now() - started > durationMs) break
      await inject(fault, cluster, net, faultLog, cuts)
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
    const replicas = await readReplicas(cluster.peers.map((p) => cluster.url(p.i)))
    const metrics = await Promise.all(
      cluster.peers.map(async (p) => {
        const text = await (await fetch(`http://${net.host(p.i)}:${cluster.init.httpPorts[p.i]}/metrics`)).text()
        return [...text.matchAll(/^sharedmem_rejections_total\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0)
      })
    )
    report.rejections = metrics.reduce((a, b) => a + b, 0)
    await abuse.settled()
    report.abuse = abuse.counts
    anomalies.push(...checkAbuse(abuse.record))
    const timeline = { configs, stops: cluster.stops, cuts, syncInterval: SYNC_INTERVAL }
    const result = check(replicas, workload.ops, {
      configs,
      mayLose: mayLose(timeline),
      withinSkew: WITHIN_SKEW,
      skewAllowance: WITHIN_SKEW + 1_000,
      lwwAllowance: LWW_ALLOWANCE
    })
    anomalies.push(...result.anomalies)
    const sentByHostile = Object.values(report.hostile).reduce((a, b) => a + b, 0) - (report.hostile.failed ?? 0)
    // Counters start again at a restart: after a whole-swarm restart late in the run, the hostile
    // peer may not have reached any peer again before it stopped.
    const hostileHadTime = loadEnded - (cluster.restartedAllAt ?? 0) > 8_000
    if (sentByHostile > 0 && hostileHadTime && report.rejections === 0) {
      anomalies.push('hostile: no refusal counted in /metrics')
    }
    const acked = workload.ops.filter((o) => o.outcome === 'ack')
    Object.assign(report, {
      ops: workload.counts,
      byKind: workload.byKind,
      acknowledgedUnique: acked.filter((o) => o.kind === 'save' && o.collection !== 'h' && o.collection !== 't').length,
      removed: acked.filter((o) => o.kind === 'remove').length,
      lost: result.lost,
      entries: Object.values(replicas[0].collections).reduce((n, c) => n + Object.keys(c).length, 0),
      faultLog
    })
    return report
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await cleanup()
    // The peers' logs and data directories stay for a run that found something, to be read.
    if (anomalies.length === 0) await rm(dir, { recursive: true, force: true })
    else report.kept = dir
  }
}

export function table(r) {
  const faults = Object.entries(r.faults)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ')
  const rows = [
    ['seed', `${r.seed} (replay: npm run chaos -- --seed ${r.seed} --duration ${r.duration} --mode ${r.mode})`],
    ['cluster', `${r.peers} peers (${r.mode}), ${r.clients} clients, ${r.duration} s of load`],
    ['configurations', r.configs?.map((c, i) => `${i} ${c}`).join(', ')],
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
    ['anomalies', r.anomalies.length === 0 ? 'none' : r.anomalies.length],
    ...(r.kept === undefined ? [] : [['peer logs and data directories kept in', r.kept]])
  ]
  const lines = ['| chaos run | |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)]
  for (const a of r.anomalies) lines.push(`- ${a}`)
  return lines.join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        seed: { type: 'string' },
        duration: { type: 'string', default: '60' },
        mode: { type: 'string', default: 'local' },
        clients: { type: 'string', default: '12' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false }
      }
    }))
  } catch (err) {
    console.error(`${err.message}\n\n${USAGE}`)
    process.exit(2)
  }
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed)
  const duration = Number(values.duration)
  const clients = Number(values.clients)
  const valid = Number.isInteger(seed) && seed >= 0 && duration > 0 && duration <= 3600 && Number.isInteger(clients)
  if (!valid || clients < 1 || !['local', 'hosts'].includes(values.mode)) {
    console.error(USAGE)
    process.exit(2)
  }
  console.log(`chaos: seed ${seed}, ${duration} s, mode ${values.mode}`)
  const report = await runChaos({ seed, duration, mode: values.mode, clients })
  console.log(table(report))
  if (values.json) console.log(`CHAOS-RESULT ${JSON.stringify(report)}`)
  process.exit(report.anomalies.length === 0 ? 0 : 1)
}

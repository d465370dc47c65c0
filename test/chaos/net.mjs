/**
 * The networks of a chaos run, and how to cut them.
 *
 * - `local`: five peers on 127.0.0.1, each running as a uid of its own. A partition splits them into
 *   two groups and drops every packet of every connection between the groups (see LocalNet).
 * - `hosts`: five network namespaces on a bridge, each peer with an address of its own (198.18.0.0/24,
 *   the range set aside for benchmarks: nothing outside this machine), `tc netem` delay and loss on
 *   every link. A partition drops the traffic between two groups inside the namespaces.
 * Everything a run creates is deleted by `teardown()`, also when the run fails.
 */
import { execFileSync, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const DELAY_PROXY = fileURLToPath(new URL('./delay-proxy.mjs', import.meta.url))

const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString()
const tryRun = (cmd, args) => {
  try {
    return run(cmd, args)
  } catch {
    return undefined
  }
}

/** Whether this machine lets a run create namespaces and iptables rules (root with iproute2 and iptables). */
export function canUseNetfilter() {
  return tryRun('iptables', ['-L', '-n']) !== undefined
}
export function canUseNamespaces() {
  const probe = `smcprobe${process.pid}`
  if (tryRun('ip', ['netns', 'add', probe]) === undefined) return false
  tryRun('ip', ['netns', 'del', probe])
  return tryRun('tc', ['-V']) !== undefined
}

/**
 * Loopback network. Ports cannot say who dialled a connection (an outgoing connection leaves
 * from an ephemeral port, from 127.0.0.1 like everyone's), so each peer process runs as a uid of
 * its own, and netfilter marks every connection with a bit per uid that sent on it. A partition
 * drops every packet of a connection whose mark holds a bit from each side, in both directions,
 * whoever dialled it and whenever it was opened. The run's own clients (this process's uid) carry
 * no bit: the HTTP APIs stay reachable. The hostile peer gets a uid too, on peer 0's side.
 */
export class LocalNet {
  constructor(count) {
    this.count = count
    this.chain = `SMCHAOS${process.pid}`
    this.cuts = `SMCUT${process.pid}`
    // A range per run (8 uids: the peers and the hostile one), so that concurrent runs' rules never meet.
    this.uidBase = 200_000 + (process.pid % 100_000) * 8
    this.created = false
  }
  /** The address every peer listens on (its p2p and HTTP ports tell them apart). */
  host() {
    return '127.0.0.1'
  }
  /** The member index of peer `i`, or of the hostile peer (`'hostile'`). */
  member(i) {
    return i === 'hostile' ? this.count : i
  }
  bit(m) {
    return 0x1000000 << m
  }
  /** Marks connections by the uids that send on them. Needs root; without it, partitions are unavailable. */
  setup() {
    if (this.count + 1 > 7 || !canUseNetfilter()) return
    const uids = `${this.uidBase}-${this.uidBase + 7}`
    run('iptables', ['-N', this.chain])
    run('iptables', ['-N', this.cuts])
    this.created = true
    run('iptables', ['-I', 'OUTPUT', '1', '-o', 'lo', '-m', 'owner', '--uid-owner', uids, '-j', this.chain])
    for (let m = 0; m <= this.count; m++) {
      const mark = ['-j', 'CONNMARK', '--or-mark', String(this.bit(m))]
      run('iptables', ['-A', this.chain, '-m', 'owner', '--uid-owner', String(this.uidBase + m), ...mark])
    }
    run('iptables', ['-A', this.chain, '-j', this.cuts])
  }
  /** The uid and gid peer `i` (or `'hostile'`) runs as, or nothing when partitions are unavailable. */
  identity(i) {
    if (!this.created) return {}
    const id = this.uidBase + this.member(i)
    return { uid: id, gid: id }
  }
  /** Splits the peers into `isolated` and the rest: no packet crosses between the two groups. */
  partition(isolated) {
    const rest = this.others(isolated)
    const sides = [isolated, rest].map((g) => (g.includes(0) ? [...g, this.count] : g))
    for (const a of sides[0]) {
      for (const b of sides[1]) {
        const both = String(this.bit(a) | this.bit(b))
        run('iptables', ['-A', this.cuts, '-m', 'connmark', '--mark', `${both}/${both}`, '-j', 'DROP'])
      }
    }
    return { groups: [isolated, rest] }
  }
  others(isolated) {
    return [...Array(this.count).keys()].filter((i) => !isolated.includes(i))
  }
  heal() {
    if (this.created) run('iptables', ['-F', this.cuts])
  }
  /** Wraps a peer's command line (nothing to wrap on loopback). */
  command(_i, argv) {
    return argv
  }
  teardown() {
    if (!this.created) return
    const uids = `${this.uidBase}-${this.uidBase + 7}`
    tryRun('iptables', ['-D', 'OUTPUT', '-o', 'lo', '-m', 'owner', '--uid-owner', uids, '-j', this.chain])
    for (const chain of [this.chain, this.cuts]) tryRun('iptables', ['-F', chain])
    for (const chain of [this.chain, this.cuts]) tryRun('iptables', ['-X', chain])
    this.created = false
  }
}

/**
 * Five namespaces on a bridge, with delay and loss: simulated hosts. The links get `tc netem`
 * (delay 20–80 ms, 1 % loss) where the kernel has it; where it has not (as in some VMs), loss is
 * an iptables `statistic` rule and delay a relay (delay-proxy.mjs) that incoming p2p connections
 * are redirected through. `this.emulation` says which one a run used.
 */
export class HostsNet {
  constructor(count, { delayMs = 50, jitterMs = 30, lossPercent = 1, p2pPort = 7400 } = {}) {
    this.count = count
    this.id = (process.pid % 10000).toString(36)
    this.switch = `smc${this.id}sw`
    this.delayMs = delayMs
    this.jitterMs = jitterMs
    this.lossPercent = lossPercent
    this.p2pPort = p2pPort
    this.namespaces = []
    this.proxies = []
    this.hostLink = undefined
    this.emulation = 'netem'
  }
  ns(i) {
    return `smc${this.id}p${i}`
  }
  host(i) {
    return `198.18.0.${i + 1}`
  }
  setup() {
    const inNs = (ns, ...args) => run('ip', ['-n', ns, ...args])
    run('ip', ['netns', 'add', this.switch])
    this.namespaces.push(this.switch)
    inNs(this.switch, 'link', 'add', 'br0', 'type', 'bridge')
    inNs(this.switch, 'link', 'set', 'br0', 'up')
    for (let i = 0; i < this.count; i++) {
      const ns = this.ns(i)
      run('ip', ['netns', 'add', ns])
      this.namespaces.push(ns)
      inNs(ns, 'link', 'set', 'lo', 'up')
      // eth0 inside the peer's namespace, its other end on the switch's bridge.
      inNs(this.switch, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      inNs(this.switch, 'link', 'set', `p${i}`, 'master', 'br0', 'up')
      inNs(ns, 'addr', 'add', `${this.host(i)}/24`, 'dev', 'eth0')
      inNs(ns, 'link', 'set', 'eth0', 'up')
      this.impair(i)
    }
    // The run's own clients reach the peers' HTTP APIs through one more link, from 198.18.0.254.
    this.hostLink = `smc${this.id}h`
    inNs(this.switch, 'link', 'add', 'h0', 'type', 'veth', 'peer', 'name', this.hostLink, 'netns', '1')
    inNs(this.switch, 'link', 'set', 'h0', 'master', 'br0', 'up')
    run('ip', ['addr', 'add', '198.18.0.254/24', 'dev', this.hostLink])
    run('ip', ['link', 'set', this.hostLink, 'up'])
  }
  /** Delay and loss on peer `i`'s link: netem, or its emulation. */
  impair(i) {
    const exec = ['netns', 'exec', this.ns(i)]
    const netem = ['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', `${this.delayMs}ms`]
    const loss = ['loss', `${this.lossPercent}%`]
    if (this.emulation === 'netem' && tryRun('ip', [...exec, ...netem, `${this.jitterMs}ms`, ...loss]) !== undefined)
      return
    this.emulation = 'iptables statistic loss + delay relay (no netem in this kernel)'
    const probability = String(this.lossPercent / 100)
    // Loss in the mangle table, so that a partition's flush of the filter table leaves it in place.
    const drop = ['-m', 'statistic', '--mode', 'random', '--probability', probability, '-j', 'DROP']
    run('ip', [...exec, 'iptables', '-t', 'mangle', '-A', 'PREROUTING', '-i', 'eth0', ...drop])
    const relayPort = String(this.p2pPort + 99)
    const redirect = ['-p', 'tcp', '--dport', String(this.p2pPort), '-j', 'REDIRECT', '--to-ports', relayPort]
    run('ip', [...exec, 'iptables', '-t', 'nat', '-A', 'PREROUTING', '-i', 'eth0', ...redirect])
    const proxy = spawn(
      'ip',
      [
        ...exec,
        process.execPath,
        DELAY_PROXY,
        relayPort,
        this.host(i),
        String(this.p2pPort),
        String(this.delayMs),
        String(this.jitterMs)
      ],
      { stdio: 'ignore' }
    )
    this.proxies.push(proxy)
  }

  /** Splits the peers into `isolated` and the rest; each group still talks within itself. */
  partition(isolated) {
    const rest = [...Array(this.count).keys()].filter((i) => !isolated.includes(i))
    for (const [mine, theirs] of [
      [isolated, rest],
      [rest, isolated]
    ]) {
      for (const i of mine) {
        for (const j of theirs) {
          const exec = ['netns', 'exec', this.ns(i), 'iptables']
          run('ip', [...exec, '-A', 'INPUT', '-s', this.host(j), '-j', 'DROP'])
          run('ip', [...exec, '-A', 'OUTPUT', '-d', this.host(j), '-j', 'DROP'])
        }
      }
    }
    return { groups: [isolated, rest] }
  }
  heal() {
    for (let i = 0; i < this.count; i++) {
      tryRun('ip', ['netns', 'exec', this.ns(i), 'iptables', '-F', 'INPUT'])
      tryRun('ip', ['netns', 'exec', this.ns(i), 'iptables', '-F', 'OUTPUT'])
    }
  }
  /** Peers run as this process's user. */
  identity() {
    return {}
  }
  /** Runs peer `i`'s command inside its namespace (`ip netns exec` execs it: the PID is the peer's). */
  command(i, argv) {
    return ['ip', 'netns', 'exec', this.ns(i), ...argv]
  }
  teardown() {
    for (const proxy of this.proxies.splice(0)) proxy.kill('SIGKILL')
    if (this.hostLink !== undefined) tryRun('ip', ['link', 'del', this.hostLink])
    for (const ns of this.namespaces.splice(0).reverse()) tryRun('ip', ['netns', 'del', ns])
  }
}

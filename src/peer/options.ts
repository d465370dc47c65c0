/**
 * The names createPeer takes: a misspelled option (`bootstrapp`) would otherwise be ignored without
 * a word, and the peer would run on the default. The list is a record over `keyof PeerOptions`, so
 * the compiler refuses it when an option is added to the contract without being added here.
 */
import type { PeerOptions } from '../contract.js'
import { invalidArgument } from '../errors.js'

const KNOWN: Record<keyof PeerOptions, true> = {
  listen: true,
  bootstrap: true,
  rendezvous: true,
  rendezvousInterval: true,
  swarm: true,
  identity: true,
  privateKey: true,
  swarmKey: true,
  allowPeers: true,
  signMessages: true,
  maxValueBytes: true,
  maxValueDepth: true,
  maxKeyLength: true,
  maxEntries: true,
  maxClockSkew: true,
  clockProbeInterval: true,
  maxBatchEntries: true,
  maxBatchBytes: true,
  maxMessageBytes: true,
  maxOutboundBuffer: true,
  maxMessageEntries: true,
  tombstoneTtl: true,
  collectInterval: true,
  memberTimeout: true,
  redialInterval: true,
  dialTimeout: true,
  announceInterval: true,
  syncInterval: true,
  syncTimeout: true,
  dataDir: true,
  durableWrites: true,
  fsyncInterval: true,
  compactBytes: true,
  onLoadProgress: true,
  logger: true,
  faults: true,
  now: true
}

/** Every option createPeer takes. */
export const PEER_OPTION_NAMES: readonly string[] = Object.keys(KNOWN)

/**
 * Throws `ERR_INVALID_ARGUMENT` for options that are not an object, or that hold a name createPeer
 * does not know (with a value: an `undefined` field sets nothing either way), naming the nearest known one.
 */
export function checkOptionNames(options: unknown): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArgument('createPeer expects an options object (or nothing)')
  }
  for (const [name, value] of Object.entries(options)) {
    if (Object.hasOwn(KNOWN, name) || value === undefined) continue
    throw invalidArgument(`createPeer has no option "${name}": did you mean "${nearest(name, PEER_OPTION_NAMES)}"?`)
  }
}

/** The candidate fewest single-character edits away from `name` (case aside); the first of equals. */
export function nearest(name: string, candidates: readonly string[]): string {
  let best = candidates[0]
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)
      row.push(Math.min(previous[j] + 1, row[j - 1] + 1, substitution))
    }
    previous = row
  }
  return previous[b.length]
}

/** The longest delay a Node.js timer takes: a longer one fires after 1 ms, again and again. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** What a numeric option must be: a test, and the words for it. */
type NumberRule = readonly [(n: number) => boolean, string]

/** Waited for with a timer. */
const timer: NumberRule = [
  (n) => n > 0 && n <= MAX_TIMER_MS,
  `ms above 0, at most ${MAX_TIMER_MS} (a timer's longest delay)`
]
const timerOrNone: NumberRule = [(n) => n >= 0 && n <= MAX_TIMER_MS, `ms, 0 to ${MAX_TIMER_MS}`]
/** A span of time the clock is compared with. */
const span: NumberRule = [(n) => Number.isFinite(n) && n > 0, 'finite ms above 0']
const whole: NumberRule = [(n) => Number.isSafeInteger(n) && n > 0, 'a whole number above 0']
const cap: NumberRule = [(n) => n > 0, 'a number above 0 (Infinity: no cap)']

/**
 * The numeric options and what each must be. The command line parses its flags first (src/cli/settings.ts,
 * for errors that name the flag); what it passes is held to these as well.
 */
const NUMBERS: { readonly [K in keyof PeerOptions]?: NumberRule } = {
  rendezvousInterval: timer,
  maxValueBytes: whole,
  maxValueDepth: whole,
  maxKeyLength: whole,
  maxEntries: cap,
  maxClockSkew: timer,
  clockProbeInterval: timer,
  maxBatchEntries: whole,
  maxBatchBytes: whole,
  maxMessageBytes: whole,
  maxOutboundBuffer: whole,
  maxMessageEntries: whole,
  tombstoneTtl: span,
  collectInterval: timer,
  memberTimeout: span,
  redialInterval: timer,
  dialTimeout: timer,
  announceInterval: timer,
  syncInterval: timer,
  syncTimeout: timer,
  fsyncInterval: timerOrNone,
  compactBytes: whole
}

/**
 * Throws `ERR_INVALID_ARGUMENT` for a numeric option out of its range, naming it and the range:
 * a timer's delay past 2^31 − 1 ms made Node fire it every millisecond, and NaN or Infinity set
 * a peer's clocks and limits to values nothing compares with.
 */
export function checkOptionValues(options: PeerOptions): void {
  for (const [name, rule] of Object.entries(NUMBERS) as Array<[string, NumberRule]>) {
    const value = (options as Record<string, unknown>)[name]
    if (value === undefined) continue
    if (typeof value !== 'number' || !rule[0](value)) {
      throw invalidArgument(`createPeer option ${name} must be ${rule[1]}, not ${String(value)}`)
    }
  }
}

/**
 * How far this peer's wall clock lies from its peers' (pure functions). A peer asks
 * another for its wall clock and notes when it asked and when the answer came; the
 * reading was taken in between, so half the round trip bounds the error (as NTP does).
 * The swarm's clock is the median over the peers measured, this one included.
 */

/** One exchange with a peer: local wall clock when asked and when answered, and the peer's reading. */
export interface ClockSample {
  /** Local wall clock when the question left, in ms. */
  readonly sent: number
  /** The peer's wall clock, read after the question came and before the answer left, in ms. */
  readonly remote: number
  /** Local wall clock when the answer came, in ms. */
  readonly received: number
}

/** How far this clock is ahead of another (negative: behind), give or take `error`, in ms. */
export interface Lead {
  readonly lead: number
  readonly error: number
}

/**
 * This clock's lead over the peer's, from one sample; undefined when the local clock
 * went back during the exchange (the sample then bounds nothing).
 */
export function sampleLead(sample: ClockSample): Lead | undefined {
  const roundTrip = sample.received - sample.sent
  if (!(roundTrip >= 0)) return undefined
  return { lead: (sample.sent + sample.received) / 2 - sample.remote, error: roundTrip / 2 }
}

/** The lead of the sample with the shortest round trip (the latest of equals): the tightest bound. */
export function bestLead(samples: readonly ClockSample[]): Lead | undefined {
  let best: Lead | undefined
  for (const sample of samples) {
    const lead = sampleLead(sample)
    if (lead !== undefined && (best === undefined || lead.error <= best.error)) best = lead
  }
  return best
}

/**
 * This clock's lead over the swarm: the median of its leads over its peers and its own
 * (zero). With an even count it takes the upper middle, so that of two groups of equal
 * size the one ahead is the one told it is off: its writes are the ones the others
 * refuse, while the group behind still accepts every write of the group ahead.
 */
export function swarmLead(leads: readonly number[]): number {
  const all = [0, ...leads].sort((a, b) => a - b)
  return all[all.length >> 1]
}

/** True when a lead over the swarm is beyond what peers accept (`maxSkew`) in either direction. */
export function isSkewed(lead: number, maxSkew: number): boolean {
  return Math.abs(lead) > maxSkew
}

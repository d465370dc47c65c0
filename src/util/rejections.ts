/**
 * Counts refusals of network input by source and reason, and reports each one,
 * marking the first of its kind so that a log can show every reason once
 * without being flooded by a hostile peer.
 */
import type { RejectEvent as Rejection } from '../contract.js'

export class Rejections {
  readonly counts: Record<string, number> = {}
  private readonly report: (rejection: Rejection) => void

  constructor(report: (rejection: Rejection) => void = () => {}) {
    this.report = report
  }

  record(source: Rejection['source'], reason: string, message: string): void {
    const key = `${source}:${reason}`
    const first = this.counts[key] === undefined
    this.counts[key] = (this.counts[key] ?? 0) + 1
    this.report({ source, reason, message, first })
  }
}

/** The stable reason for an error thrown while taking in network input. */
export function reasonOf(err: unknown): string {
  const code = (err as { code?: string }).code
  if (code === 'ERR_CLOCK_SKEW') return 'clock-skew'
  if (code === 'ERR_DECODE') return 'decode'
  return 'error'
}

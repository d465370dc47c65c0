/**
 * The plumbing of bench/frames.mjs (which loads dist/, built by `npm test` first): it runs to
 * its end and prints its table. A count, not a timing: the figure it prints is asserted only
 * where it is nearly exact (two peers, one frame a message: no forwards, no window updates).
 */
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { runNode } from '../fixtures/processes.js'

const SCRIPT = fileURLToPath(new URL('../../bench/frames.mjs', import.meta.url))

it('bench/frames.mjs counts one socket write a gossip message between two peers', async () => {
  const run = await runNode([SCRIPT, '2'], { timeout: 60_000 })
  expect(run.stderr).toBe('')
  expect(run.code).toBe(0)
  const row = /^\| 2 \| ([\d.]+) \| 1 \|$/m.exec(run.stdout)
  expect(row).not.toBeNull()
  // One frame a message, give or take a periodic announcement or sync round; 2.0 when each frame
  // read was answered with a window update.
  expect(Number(row?.[1])).toBeGreaterThanOrEqual(1)
  expect(Number(row?.[1])).toBeLessThan(1.5)
})

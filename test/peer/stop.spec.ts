/**
 * A stopped peer leaves no timer that holds the process: a `sharedmem peer` stayed up about 1 s
 * after SIGTERM, whatever it held, for gossipsub's pending heartbeat (dropped without being
 * cleared) and libp2p's address-update debounce (armed as the listener closed). Checked on the
 * timers themselves, not on a duration: every one armed while the peer ran is cleared or has fired.
 */
import { createHook } from 'node:async_hooks'
import { describe, expect, it } from 'vitest'
import { createPeer } from '../../src/index.js'

interface Armed {
  resource: { hasRef?: () => boolean }
  stack: string
}

describe('stopping a peer', () => {
  it('leaves no timer armed that would keep the process alive', async () => {
    const armed = new Map<number, Armed>()
    const hook = createHook({
      init(id, type, _trigger, resource) {
        if (type === 'Timeout')
          armed.set(id, { resource: resource as Armed['resource'], stack: new Error().stack ?? '' })
      },
      destroy(id) {
        armed.delete(id)
      }
    })
    hook.enable()
    try {
      const peer = await createPeer({ rendezvous: false })
      // A heartbeat or two, so that gossipsub re-armed its timer while running.
      await peer.save({ collection: 'c', key: 'k', variable: 1 })
      await peer.stop()
      // Timers armed for a moment as things closed (1 ms queue notices) fire before this one;
      // destroy hooks then run on the next turn.
      await new Promise((resolve) => setTimeout(resolve, 20))
      await new Promise((resolve) => setImmediate(resolve))
      const holding = [...armed.values()].filter((t) => t.resource.hasRef?.() !== false)
      expect(holding.map((t) => t.stack.split('\n').slice(2, 6).join('\n'))).toEqual([])
    } finally {
      hook.disable()
    }
  })
})

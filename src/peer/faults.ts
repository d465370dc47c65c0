/**
 * Test-only fault injection, for the fault tests that run real processes: drop
 * a share of incoming gossip, and cut this peer off from chosen peers (a
 * connection gater refuses them and open connections are closed). Enabled only
 * by passing a Faults object to createPeer (the CLI's hidden --test-faults).
 */
import type { FaultInjection, FaultSettings } from '../contract.js'

export class Faults implements FaultInjection {
  dropGossip = 0
  readonly blocked = new Set<string>()
  private readonly listeners = new Set<() => void>()

  /** Replaces the settings (fields left out keep their value) and tells the peer. */
  set(settings: Partial<FaultSettings>): FaultSettings {
    if (typeof settings.dropGossip === 'number') this.dropGossip = Math.min(Math.max(settings.dropGossip, 0), 1)
    if (Array.isArray(settings.block)) {
      this.blocked.clear()
      for (const id of settings.block) if (typeof id === 'string') this.blocked.add(id)
    }
    for (const listener of this.listeners) listener()
    return this.get()
  }

  get(): FaultSettings {
    return { dropGossip: this.dropGossip, block: [...this.blocked] }
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  shouldDropGossip(): boolean {
    return this.dropGossip > 0 && Math.random() < this.dropGossip
  }
}

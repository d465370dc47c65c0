/**
 * What a replica tells about what it stored: every stored entry and counter slot
 * to persistence, and every visible change to listeners, as events built only
 * while someone listens.
 */
import type { ChangeEvent, ChangeOrigin, CounterUpdate, EntryUpdate } from './types.js'

export interface ChangeHooks {
  /** Called synchronously for each visible change. */
  onChange?: (event: ChangeEvent) => void
  /** Whether anyone listens to changes now: when not, no event objects are built. @default always */
  hasChangeListeners?: () => boolean
  /** Called with every entry stored and every counter slot changed (not for restored ones): what persistence must keep. */
  onStore?: (update: EntryUpdate | CounterUpdate) => void
  /** Whether onStore needs each entry now (persistence is on): when not (and nobody listens), a received batch makes no key string. @default always */
  hasStore?: () => boolean
}

export class Changes {
  private readonly onChange: (event: ChangeEvent) => void
  private readonly hasChangeListeners: () => boolean
  private readonly onStore: (update: EntryUpdate | CounterUpdate) => void
  private readonly hasStore: () => boolean

  constructor(hooks: ChangeHooks) {
    this.onChange = hooks.onChange ?? (() => {})
    this.hasChangeListeners = hooks.hasChangeListeners ?? (() => true)
    this.onStore = hooks.onStore ?? (() => {})
    this.hasStore = hooks.hasStore ?? (() => true)
  }

  /** Whether persistence or a listener wants each stored entry now. */
  wanted(): boolean {
    return this.hasChangeListeners() || this.hasStore()
  }

  /** Tells of a stored entry (`wasLive`: what it replaced was live, so a tombstone is a visible removal). */
  entry(update: EntryUpdate, origin: ChangeOrigin, wasLive: boolean): void {
    if (this.hasStore()) this.onStore(update)
    if (!this.hasChangeListeners()) return
    if (!update.deleted) {
      this.onChange({
        type: 'save',
        collection: update.collection,
        key: update.key,
        value: update.value,
        expiresAt: update.expiresAt,
        origin,
        node: update.node
      })
    } else if (wasLive) {
      this.onChange({
        type: 'remove',
        collection: update.collection,
        key: update.key,
        value: null,
        origin,
        node: update.node
      })
    }
  }

  /** Tells of a counter slot that changed, the counter's total now being `value`. */
  counter(slot: CounterUpdate, value: number, origin: ChangeOrigin): void {
    if (this.hasStore()) this.onStore(slot)
    if (this.hasChangeListeners()) this.onChange({ type: 'counter', counter: slot.counter, value, origin })
  }
}

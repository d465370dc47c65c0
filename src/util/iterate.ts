/**
 * A collection read page by page through `keys` (values included), as `[key, value]` pairs: the
 * `iterate` of an embedded peer and of the remote client alike.
 */
import type { IterateConfig, Json, KeysConfig, KeysPage } from '../contract.js'

export async function* iterateKeys<T extends Json = Json>(
  source: { keys(config: KeysConfig): Promise<KeysPage> },
  config: IterateConfig
): AsyncIterableIterator<[string, T]> {
  const { collection, pageSize } = (config ?? {}) as Partial<IterateConfig>
  let cursor: string | null = null
  // Each page's cursor lies past the one before (store/state.ts liveKeys), so the pages end.
  do {
    const page: KeysPage = await source.keys({
      collection: collection as string,
      cursor,
      limit: pageSize,
      values: true
    })
    const values = page.values ?? []
    for (let i = 0; i < page.keys.length; i++) yield [page.keys[i] as string, values[i] as T]
    cursor = page.cursor
  } while (cursor !== null)
}

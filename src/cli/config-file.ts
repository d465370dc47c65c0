/**
 * The --config file of `peer` and `server`: a JSON object whose keys are settings of the table
 * (settings.ts), by their flag ("swarm-key"), its camelCase form ("swarmKey") or their createPeer
 * name ("allowPeers"). It fills what no flag and no environment variable gave.
 */
import { readFileSync } from 'node:fs'
import { type Command, Option } from 'commander'
import { invalidArgument } from '../errors.js'
import { peerSettingRows } from './settings.js'

/** Fills every setting not given by a flag or the environment from the --config file. */
export function applyConfigFile(cmd: Command): void {
  const file = cmd.getOptionValue('config') as string | undefined
  if (file === undefined) return
  let config: unknown
  try {
    config = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw invalidArgument(`cannot read the config file ${file}: ${(err as Error).message}`)
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw invalidArgument(`the config file ${file} must hold a JSON object`)
  }
  // A key may be the flag ("swarm-key"), its camelCase form ("swarmKey") or the createPeer name ("allowPeers").
  const byKey = new Map<string, Option>()
  for (const opt of cmd.options) {
    if (opt.attributeName() === 'config') continue
    byKey.set(opt.attributeName(), opt)
    byKey.set((opt.long ?? '').replace(/^--/, ''), opt)
  }
  for (const [key, row] of peerSettingRows()) {
    const opt = byKey.get(new Option(row.flags).attributeName())
    if (opt !== undefined) byKey.set(key, opt)
  }
  for (const [key, value] of Object.entries(config)) {
    const opt = byKey.get(key)
    if (opt === undefined) throw invalidArgument(`unknown setting "${key}" in ${file}`)
    const name = opt.attributeName()
    const source = cmd.getOptionValueSource(name)
    if (source === 'cli' || source === 'env') continue
    let parsed: unknown = value
    if (opt.isBoolean()) {
      if (typeof value !== 'boolean') throw invalidArgument(`"${key}" in ${file} must be true or false`)
    } else {
      const text = Array.isArray(value) ? value.join(',') : String(value)
      if (opt.argChoices !== undefined && !opt.argChoices.includes(text)) {
        throw invalidArgument(`"${key}" in ${file} must be one of ${opt.argChoices.join(', ')}`)
      }
      try {
        parsed = opt.parseArg === undefined ? text : opt.parseArg(text, undefined as never)
      } catch (err) {
        throw invalidArgument(`"${key}" in ${file}: ${(err as Error).message}`)
      }
    }
    cmd.setOptionValueWithSource(name, parsed, 'config')
  }
}

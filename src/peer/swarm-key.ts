/**
 * Private swarm keys, in the libp2p pnet (IPFS) format:
 *
 *   /key/swarm/psk/1.0.0/
 *   /base16/
 *   <64 hex digits>
 */
import { writeFile } from 'node:fs/promises'
import { generateKey } from '@libp2p/pnet'
import { ErrorCode, invalidArgument, SharedMemError } from '../errors.js'

const FORMAT = /^\/key\/swarm\/psk\/1\.0\.0\/\r?\n\/base16\/\r?\n[0-9a-fA-F]{64}\s*$/

/** Bytes of a key file: two header lines and 64 hex digits. */
const KEY_FILE_BYTES = 95

/** A new random swarm key, as the text of a key file. */
export function generateSwarmKey(): string {
  const bytes = new Uint8Array(KEY_FILE_BYTES)
  generateKey(bytes)
  return `${new TextDecoder().decode(bytes)}\n`
}

/** Checks a swarm key (bytes or text of a key file) and returns it as bytes. */
export function parseSwarmKey(key: Uint8Array | string): Uint8Array {
  const text = typeof key === 'string' ? key : new TextDecoder().decode(key)
  if (!FORMAT.test(text)) {
    throw invalidArgument('the swarm key is not in the /key/swarm/psk/1.0.0/ format (create one with sharedmem keygen)')
  }
  const [tag, codec, hex] = text.trim().split(/\r?\n/)
  return new TextEncoder().encode(`${tag}\n${codec}\n${hex.toLowerCase()}`)
}

/** Writes a new swarm key to `file` with mode 0600; refuses to overwrite an existing file. */
export async function writeSwarmKey(file: string): Promise<void> {
  try {
    await writeFile(file, generateSwarmKey(), { mode: 0o600, flag: 'wx' })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'EEXIST' ? 'it already exists (delete it first to replace the key)' : String(code)
    throw new SharedMemError(ErrorCode.INVALID_ARGUMENT, `cannot write ${file}: ${why}`, { cause: err })
  }
}

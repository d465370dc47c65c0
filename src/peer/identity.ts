/**
 * The peer's identity key, kept in a file so that a restarted peer keeps its
 * peer id. The file holds the libp2p protobuf encoding of an Ed25519 private
 * key and is created with mode 0600.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { ErrorCode, SharedMemError } from '../errors.js'

/** Reads the key in `file`, or creates one there when the file does not exist. */
export async function loadOrCreateIdentity(file: string): Promise<PrivateKey> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw identityError(`cannot read ${file}`, err)
    const key = await generateKeyPair('Ed25519')
    try {
      await mkdir(dirname(file), { recursive: true })
      // 'wx' fails if another process created the file meanwhile, instead of overwriting its key.
      await writeFile(file, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
    } catch (err) {
      throw identityError(`cannot write ${file}`, err)
    }
    return key
  }
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw identityError(`${file} does not hold a valid identity key`, err)
  }
}

function identityError(message: string, cause: unknown): SharedMemError {
  return new SharedMemError(ErrorCode.IDENTITY, message, { cause })
}

/**
 * Turns what users type into multiaddrs: a full multiaddr (`/ip4/…/tcp/…[/p2p/…]`),
 * a bare port (`4001`, listen on loopback), or `host:port` (`10.0.0.5:4001`,
 * `[::1]:4001`, `db1.example.com:4001`).
 */
import { isIPv4, isIPv6 } from 'node:net'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { ErrorCode, SharedMemError } from '../errors.js'

export function parseAddress(input: string | number): Multiaddr {
  const text = String(input).trim()
  const bad = (why: string, cause?: unknown): SharedMemError =>
    new SharedMemError(ErrorCode.INVALID_ADDRESS, `"${text}" is not a valid address: ${why}`, { cause })
  if (text.startsWith('/')) {
    try {
      return multiaddr(text)
    } catch (err) {
      throw bad('malformed multiaddr', err)
    }
  }
  if (/^\d+$/.test(text)) return multiaddr(`/ip4/127.0.0.1/tcp/${checkPort(text, bad)}`)
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(text)
  if (match === null) throw bad('expected a multiaddr, a port, or host:port')
  const [, host, port] = match
  const proto = isIPv4(host) ? 'ip4' : isIPv6(host) ? 'ip6' : /^[a-z0-9.-]+$/i.test(host) ? 'dns' : undefined
  if (proto === undefined) throw bad(`"${host}" is not an IP address or host name`)
  return multiaddr(`/${proto}/${host}/tcp/${checkPort(port, bad)}`)
}

function checkPort(port: string, bad: (why: string) => SharedMemError): number {
  const n = Number(port)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw bad('port must be 0–65535')
  return n
}

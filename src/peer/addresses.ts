/**
 * Turns what users type into multiaddrs: a full multiaddr (`/ip4/…/tcp/…[/p2p/…]`),
 * a bare port (`4001`, listen on loopback), or `host:port` (`10.0.0.5:4001`,
 * `[::1]:4001`, `db1.example.com:4001`). A peer speaks TCP only: a listen address is an IP
 * (or `localhost`) and a port; a bootstrap address may name a host and a valid peer id.
 * Anything else is refused here, in one line, before a port is taken.
 */
import { isIPv4, isIPv6 } from 'node:net'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { ErrorCode, SharedMemError } from '../errors.js'

function invalid(text: string, why: string, cause?: unknown): SharedMemError {
  return new SharedMemError(ErrorCode.INVALID_ADDRESS, `"${text}" is not a valid address: ${why}`, { cause })
}

export function parseAddress(input: string | number): Multiaddr {
  const text = String(input).trim()
  const bad = (why: string, cause?: unknown): SharedMemError => invalid(text, why, cause)
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

/** An address to listen on: an IP address (`localhost` is 127.0.0.1, or ::1 for dns6) and a TCP port. */
export function parseListenAddress(input: string | number): Multiaddr {
  const text = String(input).trim()
  const parts = parseAddress(input).getComponents()
  const [host, tcp] = parts
  if (parts.length !== 2 || tcp.name !== 'tcp') {
    if (parts.some((p) => p.name === 'p2p')) throw invalid(text, 'a listen address names no peer id: leave /p2p/… out')
    throw invalid(text, 'sharedmem listens on TCP only: /ip4/<ip>/tcp/<port>, a port, or ip:port')
  }
  if (host.name === 'ip4' || host.name === 'ip6') return multiaddr(`/${host.name}/${host.value}/tcp/${tcp.value}`)
  if (host.name.startsWith('dns') && host.value === 'localhost') {
    return multiaddr(host.name === 'dns6' ? `/ip6/::1/tcp/${tcp.value}` : `/ip4/127.0.0.1/tcp/${tcp.value}`)
  }
  if (host.name.startsWith('dns')) {
    throw invalid(text, `listen on an IP address of this host (0.0.0.0 for all), not a host name ("${host.value}")`)
  }
  throw invalid(text, 'sharedmem listens on TCP only: /ip4/<ip>/tcp/<port>, a port, or ip:port')
}

/** An address to dial: an IP address or host name, a TCP port, and, if given, a valid peer id. */
export function parseBootstrapAddress(input: string | number): Multiaddr {
  const text = String(input).trim()
  const address = parseAddress(input)
  const parts = address.getComponents()
  const [host, tcp, p2p] = parts
  const hostOk = host !== undefined && ['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(host.name)
  const tail = parts.length === 2 || (parts.length === 3 && p2p.name === 'p2p')
  if (!hostOk || tcp?.name !== 'tcp' || !tail)
    throw invalid(
      text,
      'sharedmem dials TCP only: /ip4/<ip>/tcp/<port>[/p2p/<peer id>] (or /dns/<host>/…), or host:port'
    )
  if (p2p !== undefined) {
    try {
      peerIdFromString(p2p.value ?? '')
    } catch (err) {
      throw invalid(
        text,
        `"${p2p.value}" is not a peer id: copy the address a peer prints ("listening …"), or leave /p2p/… out`,
        err
      )
    }
  }
  return address
}

function checkPort(port: string, bad: (why: string) => SharedMemError): number {
  const n = Number(port)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw bad('port must be 0–65535')
  return n
}

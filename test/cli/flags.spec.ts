/**
 * A flag error is the one useful line and a pointer to the command's --help, never the whole help
 * text; every kind of address is taken or refused in that one line, and none crashes a peer.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/index.js'
import { killAll, startPeerProcess } from '../fixtures/processes.js'

afterAll(killAll)

async function run(...args: string[]): Promise<{ code: number; out: string; err: string[] }> {
  let out = ''
  const err: string[] = []
  const io = { out: (l: string) => (out += `${l}\n`), err: (l: string) => err.push(...l.split('\n')) }
  const code = await main(['node', 'sharedmem', ...args], io)
  return { code, out, err }
}

const ID = '12D3KooWFLUULvQR8oqvhC9ZGp8TQnSrZUMVJ9SRNVedYHNvME4q'

describe('a flag error', () => {
  it.each([
    [['server', '-p', 'http'], 'sharedmem server', 'port number'],
    [['peer', '--no-such-flag'], 'sharedmem peer', "unknown option '--no-such-flag'"],
    [['peer', '--log-level', 'chatty'], 'sharedmem peer', 'chatty'],
    [['status', '--bogus'], 'sharedmem status', "unknown option '--bogus'"],
    [['no-such-command'], 'sharedmem', "unknown command 'no-such-command'"],
    [['peer', '--listen', '/dns4/db1.example/tcp/0', '--rendezvous', 'off'], 'sharedmem peer', 'ERR_INVALID_ADDRESS'],
    [['peer', '--listen', '/ip4/127.0.0.1/udp/0', '--rendezvous', 'off'], 'sharedmem peer', 'TCP only'],
    [
      ['peer', '--listen', '0', '--bootstrap', `/ip4/127.0.0.1/tcp/1/p2p/notapeerid`, '--rendezvous', 'off'],
      'sharedmem peer',
      'not a peer id'
    ],
    [['peer', '--bootstrap', `/p2p/${ID}`, '--rendezvous', 'off'], 'sharedmem peer', 'TCP only']
  ])('%j: one line, then where the flags are explained', async (args, command, says) => {
    const { code, err } = await run(...args)
    expect(code).toBe(1)
    expect(err).toEqual([expect.stringContaining(says), `see \`${command} --help\``])
    expect(err[0]).toMatch(/^error: /)
  })
})

describe('listen addresses by host name', () => {
  it('listens on 127.0.0.1 for /dns4/localhost (it crashed the peer)', async () => {
    const p = await startPeerProcess(['--listen', '/dns4/localhost/tcp/0', '--rendezvous', 'off'])
    expect(p.output().match(/^listening \/ip4\/127\.0\.0\.1\/tcp\//gm)).toHaveLength(2)
    expect(await p.stop()).toBe(0)
    expect(p.output()).not.toContain('Error')
  })
})

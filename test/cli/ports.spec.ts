/**
 * The README's commands in the order it gives them: `npm start` (sharedmem server -p 3000) and the
 * tour's `sharedmem peer --listen 7400` hold different p2p ports, and a port in use is one line that
 * names it and the flag to change.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { portHolder } from '../fixtures/ports.js'
import { BIN, runNode } from '../fixtures/processes.js'

/** A port on 127.0.0.1 that this test holds. */
const heldPort = portHolder()

/** Runs `sharedmem …args` to its end (it fails at start), killed by PID after 20 s at most. */
async function failing(...args: string[]) {
  const run = await runNode([BIN, ...args, '--rendezvous', 'off'], { timeout: 20_000 })
  return { code: run.code, lines: run.stderr.trimEnd().split('\n'), stdout: run.stdout }
}

const servers = new Set<ChildProcess>()
afterAll(() => {
  for (const child of servers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

/** `sharedmem server -p 0` with no --listen, once ready: its p2p address, and a stop by PID. */
async function startServer(): Promise<{ address: string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, 'server', '-p', '0', '--rendezvous', 'off'], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  servers.add(child)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  let out = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "ready" within 20 s:\n${out}`)), 20_000)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      if (/^ready$/m.test(out)) {
        clearTimeout(timer)
        resolve()
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before "ready":\n${out}`))
    })
  })
  return {
    address: /^listening (\S+)$/m.exec(out)?.[1] ?? '',
    stop: async () => {
      process.kill(child.pid as number, 'SIGTERM')
      return exited
    }
  }
}

describe('ports', () => {
  it('gives `sharedmem server` a free p2p port unless --listen says otherwise', async () => {
    // Two servers on one host, as `npm start` beside another: with a fixed default p2p port the
    // second would fail. Each serves HTTP on port 0, the test's stand-in for -p 3000.
    const a = await startServer()
    const b = await startServer()
    expect(a.address).not.toBe(b.address)
    expect(a.address).not.toContain('/tcp/7400/')
    expect(await a.stop()).toBe(0)
    expect(await b.stop()).toBe(0)
  })

  it('says in one line which p2p port is in use and that --listen chooses another', async () => {
    const port = await heldPort()
    const { code, lines } = await failing('peer', '--listen', String(port))
    expect(code).toBe(1)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`port ${port}`)
    expect(lines[0]).toContain('--listen')
    expect(lines[0]).toContain('ERR_ADDRESS_IN_USE')
  })

  it('says in one line which HTTP port is in use, with the flag of the command', async () => {
    const port = await heldPort()
    const server = await failing('server', '-p', String(port), '--listen', '0')
    expect(server.code).toBe(1)
    expect(server.lines).toHaveLength(1)
    expect(server.lines[0]).toContain(`port ${port}`)
    expect(server.lines[0]).toContain('-p <port>')
    expect(server.lines[0]).toContain('ERR_ADDRESS_IN_USE')
    const peer = await failing('peer', '--http', String(port), '--listen', '0')
    expect(peer.lines).toEqual([expect.stringContaining('--http <port>')])
  })
})

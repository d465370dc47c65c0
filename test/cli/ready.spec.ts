/**
 * pm2's `wait_ready`: a `sharedmem peer` started with an IPC channel (as pm2 and node:cluster start
 * their processes) sends the message 'ready' once it is ready, and prints "ready" at that moment.
 * A real process on 127.0.0.1 (the compiled dist/), stopped by its PID.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { BIN } from '../fixtures/processes.js'
import { waitFor } from '../fixtures/wait.js'

const children: ChildProcess[] = []
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue
    const exited = new Promise((resolve) => child.once('exit', resolve))
    process.kill(child.pid as number, 'SIGKILL')
    await exited
  }
})

describe('sharedmem peer under a supervisor', () => {
  it("sends process.send('ready') once ready, after it printed its addresses, then stops on SIGTERM", async () => {
    const child = fork(BIN, ['peer', '--listen', '0', '--http', '0', '--rendezvous', 'off'], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    })
    children.push(child)
    let out = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
    })
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
    })
    const messages: unknown[] = []
    child.on('message', (message) => messages.push(message))
    await waitFor(
      () => messages.includes('ready'),
      () => `the message 'ready' (got ${JSON.stringify(messages)}):\n${out}`
    )
    expect(messages).toEqual(['ready'])
    expect(out).toMatch(/^listening \S+\n[\s\S]*^ready$/m)
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    process.kill(child.pid as number, 'SIGTERM')
    expect(await exited).toBe(0)
  })
})

// The IPC between a bench process and the worker processes it forks: each { id, cmd, args } is
// answered with the handler's result (or its error as text).

/** The worker side: answers with `handlers`, then says it is ready. */
export function serve(handlers) {
  process.on('message', async ({ id, cmd, args }) => {
    try {
      process.send({ id, result: await handlers[cmd](args ?? {}) })
    } catch (err) {
      process.send({ id, error: String(err?.stack ?? err) })
    }
  })
  process.send({ ready: true })
}

/** The parent side: waits for `child` (forked, running {@link serve}) to be ready; resolves its `call(cmd, args)`. */
export async function connect(child) {
  const pending = new Map()
  let next = 0
  await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)))
  })
  child.on('message', ({ id, result, error }) => {
    const p = pending.get(id)
    pending.delete(id)
    if (error) p?.reject(new Error(error))
    else p?.resolve(result)
  })
  return {
    call(cmd, args) {
      const id = next++
      child.send({ id, cmd, args })
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }))
    }
  }
}

// The worker side of run.mjs's IPC: answers each { id, cmd, args } with the handler's result
// (or its error as text), then says it is ready.
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

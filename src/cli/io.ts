/** Where the CLI writes: the console in `main`, a buffer in tests. Only the CLI writes to the console. */
export interface CliIo {
  out: (line: string) => void
  err: (line: string) => void
}

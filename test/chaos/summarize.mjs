// Prints a markdown table of chaos runs from their `--json` output:
//   node test/chaos/summarize.mjs run-*.txt
import { readFileSync } from 'node:fs'

const rows = []
for (const file of process.argv.slice(2)) {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CHAOS-RESULT '))
  if (line === undefined) {
    rows.push(`| ${file} | did not finish | | | | | | |`)
    continue
  }
  const r = JSON.parse(line.slice('CHAOS-RESULT '.length))
  const faults = Object.entries(r.faults)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ')
  const abuse =
    r.abuse === undefined ? '' : `${r.abuse.oversize413}/${r.abuse.oversize}, ${r.abuse.slowCut}/${r.abuse.slow}`
  rows.push(
    `| ${r.seed} | ${r.mode} | ${r.ops.attempted} / ${r.ops.acknowledged} / ${r.ops.uncertain} | ${r.acknowledgedUnique} | ${faults} | ${abuse} | ${(r.convergeMs / 1000).toFixed(1)} s | ${r.anomalies.length === 0 ? 'none' : r.anomalies.join('; ')} |`
  )
}
console.log(
  '| seed | mode | ops attempted / acknowledged / uncertain | unique keys acknowledged | faults | 413s, slow clients cut | converged after heal | anomalies |'
)
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
for (const row of rows) console.log(row)

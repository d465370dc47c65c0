/**
 * The test page in a real browser: Debian's Chromium driven by playwright-core.
 * `.ci/run` installs Chromium; elsewhere set CHROMIUM_PATH. Without it the test is skipped with a
 * note saying how to get it, except in CI, where it fails (test/fixtures/browser.ts decides). A
 * screenshot is saved to test-artifacts/testapp.png.
 */
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, expect, it } from 'vitest'
import { type HttpServer, startHttpServer } from '../../src/index.js'
import { decideBrowser } from '../fixtures/browser.js'
import { startPeers, stopAll } from '../fixtures/peers.js'

const decision = decideBrowser(process.env, existsSync)
const CHROMIUM = decision.path
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
// Printed where every run shows it (the skipped test's title says it too), not only in a verbose report.
if (decision.action === 'skip') console.warn(`sharedmem: ${decision.reason}`)

let browser: Browser | undefined
let server: HttpServer | undefined
afterAll(async () => {
  await browser?.close()
  await server?.close()
  await stopAll()
})

const TITLE = 'the test page saves through its form, shows the collection and live changes from another peer'

it.skipIf(decision.action === 'skip')(
  decision.action === 'skip' ? `${TITLE} (${decision.reason})` : TITLE,
  async () => {
    if (decision.action === 'fail') throw new Error(decision.reason)
    const [a, b] = await startPeers(2)
    server = await startHttpServer(a, { port: 0 })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    })
    const page = await browser.newPage({ viewport: { width: 1366, height: 800 } })
    await page.goto(`${server.url}/testapp`)
    await expect.poll(() => page.textContent('#status-text')).toContain('1 peer ·')

    await page.fill('#save-collection', 'browser')
    await page.fill('#save-key', 'k1')
    await page.fill('#save-value', '{"hello": "world"}')
    await page.click('#save-button')
    await expect.poll(() => page.textContent('#result')).toContain('save → 200')
    expect(a.getSync({ collection: 'browser', key: 'k1' })).toEqual({ hello: 'world' })

    await page.click('[data-collection="browser"]')
    await expect.poll(() => page.textContent('#entries [data-key="k1"]')).toContain('{"hello":"world"}')

    await b.save({ collection: 'browser', key: 'k2', variable: 'from another peer' })
    await expect.poll(() => page.textContent('#changes')).toContain('browser / k2 = "from another peer" (remote)')
    await expect.poll(() => page.textContent('#entries [data-key="k2"]')).toContain('from another peer')

    await page.fill('#counter-name', 'clicks')
    await page.click('#increment-button')
    await expect.poll(() => page.textContent('#result')).toContain('"result": 1')
    await page.fill('#counter-by', '5')
    await page.click('#increment-button')
    await expect.poll(() => page.textContent('#result')).toContain('"result": 6')
    await page.click('#resetCounter-button')
    await expect.poll(() => page.textContent('#result')).toContain('resetCounter → 200')
    expect(a.getCounterSync({ counter: 'clicks' })).toBe(0)

    await mkdir(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: `${ARTIFACTS}testapp.png`, fullPage: true })
  }
)

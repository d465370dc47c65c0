/**
 * When the browser test runs, is skipped (saying why and how to get Chromium) or fails: decided
 * from the environment and a stubbed file check, so no test has to uninstall Chromium.
 */
import { describe, expect, it } from 'vitest'
import { DEFAULT_CHROMIUM, decideBrowser, isCi } from '../fixtures/browser.js'

function present(...paths: string[]): (path: string) => boolean {
  return (path) => paths.includes(path)
}

describe('the browser test decision', () => {
  it('runs with Chromium at the default path, in CI or not', () => {
    expect(decideBrowser({}, present(DEFAULT_CHROMIUM))).toEqual({ action: 'run', path: DEFAULT_CHROMIUM })
    expect(decideBrowser({ CI: 'true' }, present(DEFAULT_CHROMIUM)).action).toBe('run')
  })

  it('runs the binary CHROMIUM_PATH names', () => {
    const env = { CHROMIUM_PATH: '/opt/chrome/chrome' }
    expect(decideBrowser(env, present('/opt/chrome/chrome'))).toEqual({ action: 'run', path: '/opt/chrome/chrome' })
  })

  it('skips without Chromium outside CI, saying how to get it', () => {
    const d = decideBrowser({}, present())
    expect(d.action).toBe('skip')
    expect(d.action !== 'run' && d.reason).toContain('apt-get install chromium')
    expect(d.action !== 'run' && d.reason).toContain(DEFAULT_CHROMIUM)
  })

  it('fails without Chromium in CI', () => {
    const d = decideBrowser({ CI: 'true' }, present())
    expect(d.action).toBe('fail')
    expect(d.action !== 'run' && d.reason).toContain('apt-get install chromium')
  })

  it('judges a CHROMIUM_PATH that does not exist like a missing browser, naming it', () => {
    const d = decideBrowser({ CHROMIUM_PATH: '/nowhere/chromium', CI: '1' }, present(DEFAULT_CHROMIUM))
    expect(d.action).toBe('fail')
    expect(d.action !== 'run' && d.reason).toContain('/nowhere/chromium')
  })

  it('takes CI set to "", 0 or false as not CI', () => {
    for (const CI of ['', '0', 'false', 'FALSE']) expect(isCi({ CI })).toBe(false)
    for (const CI of ['true', '1', 'yes']) expect(isCi({ CI })).toBe(true)
    expect(isCi({})).toBe(false)
  })
})

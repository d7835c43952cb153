// Shared by the e2e suites: the stack's address and accounts (from scripts/e2e-clinic),
// Debian's Chromium through playwright-core (no browser download), and signing in.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback
  if (v === undefined || v === '') throw new Error(`${name} is not set (scripts/e2e-clinic sets it)`)
  return v
}

/** The one origin (nginx): the built app with the API behind it. */
export const base = () => env('CLINIC_WEB_URL')
// The demo accounts of `cargo run --example clinic -- seed`.
export const password = env('CLINIC_PASSWORD', 'clinic-demo-2026')
export const receptionist = env('CLINIC_RECEPTIONIST', 'desk.choi@clinic.example')
export const dentist = env('CLINIC_DENTIST', 'dr.kim@clinic.example')
export const timeZone = env('CLINIC_TIMEZONE', 'Asia/Seoul')
/** Today in the clinic's zone, YYYY-MM-DD. */
export const today = () => new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date())

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  })
}

/**
 * A new browser context signed in as `email` on `origin`; page errors are collected in
 * `problems`, `login` is the answer to the login (its access token).
 */
export async function signIn(browser, email, origin = base()) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'ko-KR', timezoneId: timeZone })
  const page = await context.newPage()
  const problems = []
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  await page.goto(`${origin}/login`)
  await page.fill('input[name=email]', email)
  await page.fill('input[name=password]', password)
  const { body: login } = await answerTo(page, 'POST', /^\/auth\/login$/, () => page.click('button[type=submit]'))
  await page.waitForSelector('[data-test=whoami]')
  return { context, page, problems, login }
}

/** The texts of the error toasts on screen now. */
export async function errorToasts(page) {
  return page.locator('[data-test=toast][data-kind=error]').allTextContents()
}

/** A screenshot to $E2E_SCREENSHOTS/NAME.png when that variable is set. */
export async function screenshot(page, name) {
  const dir = process.env.E2E_SCREENSHOTS
  if (!dir) return
  mkdirSync(dir, { recursive: true })
  // Toasts and the spinner come and go: not part of the picture.
  await page.locator('[role=progressbar]').waitFor({ state: 'detached' }).catch(() => {})
  for (const close of await page.locator('[data-test=toast] button[aria-label=Dismiss]').all()) {
    await close.click({ timeout: 1000 }).catch(() => {}) // gone by itself meanwhile
  }
  await page.evaluate(() => window.scrollTo(0, 0))
  await page.screenshot({ path: join(dir, `${name}.png`) })
}

/**
 * Waits for the answer to the request matching `method` and `path` that `action` causes. A
 * 401 is skipped: with 5-second tokens, the app refreshes and sends the request again.
 */
export async function answerTo(page, method, path, action) {
  const [response] = await Promise.all([
    page.waitForResponse(
      (r) => r.request().method() === method && new URL(r.url()).pathname.match(path) && r.status() !== 401,
    ),
    action(),
  ])
  return { status: response.status(), body: await response.json().catch(() => null) }
}

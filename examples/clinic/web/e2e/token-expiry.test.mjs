// Expiring access tokens (issue 16): scripts/e2e-clinic runs the API with 5-second access
// tokens and no leeway. Two users (two browser contexts) click through the app for a
// minute; the dashboard fires several requests at once. No error may reach the screen, and
// the API's own request log must show one `/auth/refresh` per expiry per context.
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { dentist, errorToasts, launch, receptionist, signIn } from './support.mjs'

const TTL = Number(process.env.CLINIC_ACCESS_TTL)
const API_LOG = process.env.CLINIC_API_LOG
const WORK_MS = Number(process.env.CLINIC_E2E_EXPIRY_SECS ?? 60) * 1000

const path = (r) => new URL(r.url()).pathname

/** When an access token stops being accepted (ms): `exp` is in whole seconds, checked as `exp < now`. */
function expiresAt(jwt) {
  const { exp } = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString())
  return (exp + 1) * 1000
}

/** The `/auth/refresh` lines of the API's JSON request log finished at or after `since`. */
function serverRefreshes(since) {
  return readFileSync(API_LOG, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
    .filter((e) => e.message === 'request finished' && e.span?.route === '/auth/refresh')
    .filter((e) => Date.parse(e.timestamp) >= since)
}

describe('expiring access tokens', () => {
  let browser
  before(async () => {
    assert.ok(TTL > 0 && TTL <= 10, 'CLINIC_ACCESS_TTL: the API runs with short access tokens')
    assert.ok(API_LOG, "CLINIC_API_LOG: the API's JSON log")
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  /** One user's minute: Calendar, Patients, Today (appointments and an event ticket at once). */
  async function work(user, until) {
    const { page } = user
    const step = async (nav, path, action) => {
      await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === path && r.status() === 200),
        action ? action() : page.click(`[data-test=nav-${nav}]`),
      ])
      user.steps += 1
      const toasts = await errorToasts(page)
      assert.deepEqual(toasts, [], `no error toast (after ${user.steps} steps)`)
      assert.ok(!page.url().includes('/login'), 'still signed in')
    }
    // Signed in on Today: the round starts elsewhere.
    while (Date.now() < until) {
      await step('calendar', '/api/appointments')
      await page.click('[data-test=nav-patients]')
      await page.fill('input[name=q]', '김')
      await step('patients', '/api/patients', () => page.click('[data-test=search]'))
      await step('today', '/api/appointments')
      await page.waitForSelector('[data-test=live]:has-text("live")')
    }
  }

  it('two users work for a minute with no error; the server log shows one refresh per expiry per context', async () => {
    const users = []
    for (const email of [receptionist, dentist]) {
      const user = { email, ...(await signIn(browser, email)), refreshes: [], unauthorized: 0, steps: 0, lastRequest: 0 }
      user.tokens = [expiresAt(user.login.access_token)]
      user.page.on('request', (r) => {
        if (path(r).startsWith('/api/')) user.lastRequest = Date.now()
      })
      user.page.on('response', async (r) => {
        if (r.status() === 401) user.unauthorized += 1
        if (path(r) === '/auth/refresh' && r.status() === 200) {
          user.refreshes.push(Date.now())
          user.tokens.push(expiresAt((await r.json()).access_token))
        }
      })
      users.push(user)
    }
    // Both have fresh tokens now: the first expiry is TTL seconds away.
    const start = Date.now()
    await Promise.all(users.map((u) => work(u, start + WORK_MS)))
    const elapsed = (Date.now() - start) / 1000
    await Promise.all(users.map((u) => u.context.close()))

    const server = serverRefreshes(start)
    const lines = users.map((u) => `${u.email}: ${u.refreshes.length} refreshes, ${u.unauthorized} 401s, ${u.steps} steps`)
    console.log(`# ${elapsed.toFixed(1)} s with ${TTL} s tokens (elapsed/TTL = ${(elapsed / TTL).toFixed(1)}); ` +
      `/auth/refresh in the server log: ${server.length}; ${lines.join('; ')}`)

    assert.ok(server.every((e) => e.status === 200), 'every refresh succeeded')
    assert.equal(server.length, users.reduce((n, u) => n + u.refreshes.length, 0), 'the server logged the refreshes the browsers sent, no more')
    for (const u of users) {
      assert.deepEqual(u.problems, [])
      // Walk the chain of tokens: each refresh must come after the token in use expired
      // (else it is a second refresh for one expiry), and the last token must still be
      // valid at the last request (else an expiry went without a refresh).
      u.refreshes.forEach((at, i) => {
        assert.ok(at >= u.tokens[i] - 300, `${u.email}: refresh ${i + 1} came ${((u.tokens[i] - at) / 1000).toFixed(2)} s before its token expired`)
      })
      assert.ok(u.tokens.at(-1) > u.lastRequest - 300, `${u.email}: the last token expired before the last request without a refresh`)
      // A token lives TTL to TTL + 1 s (whole-second expiry, no leeway), and the next click
      // after it expires refreshes: between elapsed/(TTL + 2) and elapsed/TTL refreshes.
      assert.ok(u.refreshes.length <= elapsed / TTL + 1, `${u.email}: ${u.refreshes.length} refreshes, at most ${(elapsed / TTL).toFixed(1)} expiries`)
      assert.ok(u.refreshes.length >= elapsed / (TTL + 2) - 1, `${u.email}: only ${u.refreshes.length} refreshes: did the user keep working?`)
    }
  })
})

// The other shape of issue 16: the app on the Vite dev server (CLINIC_DEV_URL, e.g.
// http://localhost:5173) calling the API on another port (VITE_API_BASE) with CORS and
// credentials. Both on `localhost`: the refresh cookie is SameSite=Strict, and
// localhost:5173 → localhost:PORT is the same site, 127.0.0.1 would not be.
// Skipped unless scripts/e2e-clinic started a dev server.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { launch, receptionist, signIn } from './support.mjs'

const devUrl = process.env.CLINIC_DEV_URL

describe('the app on the Vite dev server, the API on another origin', { skip: !devUrl && 'CLINIC_DEV_URL is not set' }, () => {
  let browser
  before(async () => {
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  it('signs in, loads the dashboard cross-origin, and a reload keeps the session (refresh cookie)', async () => {
    const { page, problems } = await signIn(browser, receptionist, devUrl)
    const apiOrigins = new Set()
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/')) apiOrigins.add(new URL(r.url()).origin)
    })
    await page.waitForSelector('[data-test=today] tbody tr')
    await page.waitForSelector('[data-test=live]:has-text("live")')
    const [refresh] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/refresh'),
      page.reload(),
    ])
    assert.equal(refresh.status(), 200, 'the refresh cookie went cross-origin')
    await page.waitForSelector('[data-test=whoami]')
    await page.waitForSelector('[data-test=today] tbody tr')
    assert.ok(![...apiOrigins].includes(new URL(devUrl).origin), `the API was called on its own origin: ${[...apiOrigins]}`)
    assert.ok(apiOrigins.size > 0)
    assert.deepEqual(problems, [])
  })
})

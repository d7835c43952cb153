// End-to-end flows of issue 16 in Debian's Chromium (playwright-core, no browser download),
// against a running stack: the built app and the API behind one origin (CLINIC_WEB_URL).
// DRAFT: written from the contract; not yet run against the real API and its demo data.
// Run: CLINIC_WEB_URL=http://127.0.0.1:8080 CLINIC_RECEPTIONIST=… CLINIC_DENTIST=… \
//      CLINIC_PASSWORD=… npm run e2e
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { chromium } from 'playwright-core'

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback
  if (v === undefined) throw new Error(`${name} is not set`)
  return v
}
const base = env('CLINIC_WEB_URL')
const password = env('CLINIC_PASSWORD')
const receptionist = env('CLINIC_RECEPTIONIST')
const dentist = env('CLINIC_DENTIST')
const timeZone = env('CLINIC_TIMEZONE', 'Asia/Seoul')
// A slot today that the demo data leaves free (the dashboard only shows today).
const slot = env('CLINIC_E2E_SLOT', '18:30')
const today = new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date())

let browser
const pageErrors = []

async function signIn(email) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
  const page = await context.newPage()
  page.on('pageerror', (e) => pageErrors.push(`${email}: ${e.message}`))
  await page.goto(`${base}/login`)
  await page.fill('input[name=email]', email)
  await page.fill('input[name=password]', password)
  await page.click('button[type=submit]')
  await page.waitForSelector('[data-test=whoami]')
  return page
}

async function search(page, term) {
  await page.click('nav >> text=Patients')
  await page.fill('input[name=q]', term)
  await page.click('button:has-text("Search")')
  await page.waitForSelector('[data-test=patients] tbody tr')
}

describe('clinic staff app', () => {
  let desk
  let dr
  let patient // { name, last4 }

  before(async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    })
    desk = await signIn(receptionist)
    dr = await signIn(dentist)
    await dr.waitForSelector('[data-test=live]:has-text("live")', { timeout: 10_000 })
  })

  after(async () => {
    await browser?.close()
  })

  it('finds a patient by "김" and by the last 4 phone digits', async () => {
    await search(desk, '김')
    const row = desk.locator('[data-test=patients] tbody tr').first()
    const name = (await row.locator('td').nth(0).textContent()).trim()
    const phone = (await row.locator('td').nth(2).textContent()).replace(/\D/g, '')
    assert.match(name, /김/)
    patient = { name, last4: phone.slice(-4) }
    await search(desk, patient.last4)
    await desk.waitForSelector(`[data-test=patients] >> text=${patient.name}`)
  })

  async function book() {
    await desk.fill('input[name=patient-search]', patient.last4)
    await desk.click('[data-test=booking-form] button:has-text("Find")')
    await desk.click(`[data-test=booking-form] button:has-text("${patient.name}")`)
    const dentistId = await desk
      .locator(`select[name=booking-dentist] option[data-email="${dentist}"]`)
      .getAttribute('value')
    await desk.selectOption('select[name=booking-dentist]', dentistId)
    await desk.fill('input[name=booking-date]', today)
    await desk.fill('input[name=booking-time]', slot)
    await desk.locator('[data-test=booking-form] input[type=checkbox]').first().check()
    await desk.click('[data-test=booking-form] button[type=submit]')
  }

  it('books; the calendar and a dentist dashboard show it live; a double booking shows the conflict', async () => {
    await desk.click('nav >> text=Calendar')
    await desk.waitForSelector('[data-test=booking-form] select[name=booking-dentist] option', { state: 'attached' })
    // Booked with the signed-in dentist (book() picks them), so their dashboard must show it.
    await book()
    await desk.waitForSelector(`[data-test=calendar] >> text=${patient.name}`)
    await dr.waitForSelector(`[data-test=today] >> text=${patient.name}`, { timeout: 10_000 })

    await book()
    const conflict = await desk.locator('[data-test=booking-error]').textContent()
    assert.ok(conflict && conflict.trim().length > 0, 'the conflict detail is on the form')
  })

  it('dentist records a treatment; the invoice is paid in two parts down to a zero balance', async () => {
    const row = (page) => page.locator(`[data-test=today] tr:has-text("${patient.name}"):has-text("${slot}")`)
    await desk.click('nav >> text=Today')
    await row(desk).locator('button:has-text("Check in")').click()
    await row(dr).locator('button:has-text("Treatment")').waitFor({ timeout: 10_000 })
    await row(dr).locator('button:has-text("Treatment")').click()
    await dr.fill('[data-test=treatment-form] input[name=teeth]', '16, 17')
    await dr.fill('[data-test=treatment-form] textarea[name=notes]', 'e2e: composite filling')
    await dr.click('[data-test=treatment-form] button[type=submit]')
    await dr.waitForSelector('[data-test=toast]:has-text("Treatment recorded")')
    await row(dr).locator('button:has-text("Complete")').click()

    await row(desk).locator('button:has-text("Invoice")').waitFor({ timeout: 10_000 })
    await row(desk).locator('button:has-text("Invoice")').click()
    await desk.waitForSelector('[data-test=invoice]')
    const won = async () => Number((await desk.locator('[data-test=balance]').textContent()).replace(/\D/g, ''))
    const total = await won()
    assert.ok(total > 0, 'the invoice has something to pay')
    const first = Math.floor(total / 2)
    await desk.fill('input[name=amount]', String(first))
    await desk.click('[data-test=payment-form] button[type=submit]')
    await desk.waitForFunction(
      (expected) => document.querySelector('[data-test=balance]')?.textContent?.replace(/\D/g, '') === String(expected),
      total - first,
    )
    await desk.fill('input[name=amount]', String(total - first))
    await desk.click('[data-test=payment-form] button[type=submit]')
    await desk.waitForFunction(() => document.querySelector('[data-test=balance]')?.textContent?.replace(/\D/g, '') === '0')
    assert.equal(await desk.locator('[data-test=payments] tr').count(), 2)
  })

  it("refuses a receptionist the clinical notes and shows the problem's detail, no data", async () => {
    await search(desk, patient.last4)
    await desk.click(`[data-test=patients] >> text=${patient.name}`)
    await desk.click('[data-test=chart-tab]')
    const refused = await desk.locator('[data-test=chart-refused]').textContent()
    assert.ok(refused.trim().length > 0)
    assert.equal(await desk.locator('[data-test=chart]').count(), 0)
  })

  it('had no page errors', () => {
    assert.deepEqual(pageErrors, [])
  })
})

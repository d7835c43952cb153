// The staff app's flows of issue 16 in Chromium, against the real API and the built app
// behind one nginx origin, both started by scripts/e2e-clinic on the seeded demo clinic.
// The tests run in order and share the receptionist's booking.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { answerTo, dentist, errorToasts, launch, receptionist, screenshot, signIn, today } from './support.mjs'

// A slot today that the demo data leaves free: its dentists work 09:00–18:00.
const SLOT = process.env.CLINIC_E2E_SLOT ?? '18:30'
const NOTES = 'e2e: composite filling, 16 and 17'

describe('clinic staff app', () => {
  let browser
  let desk // the receptionist: { context, page, problems }
  let dr // the dentist, on the dashboard all along
  let drNavigations = 0
  let patient // { id, name, last4 }
  let booking // the appointment booked by the receptionist

  before(async () => {
    browser = await launch()
    desk = await signIn(browser, receptionist)
    dr = await signIn(browser, dentist)
    await dr.page.waitForSelector('[data-test=live]:has-text("live")', { timeout: 10_000 })
    dr.page.on('framenavigated', (frame) => {
      if (frame === dr.page.mainFrame()) drNavigations += 1
    })
  })

  after(async () => {
    await browser?.close()
  })

  async function search(page, term) {
    await page.click('[data-test=nav-patients]')
    await page.fill('input[name=q]', term)
    const answer = await answerTo(page, 'GET', /^\/api\/patients$/, () => page.click('[data-test=search]'))
    assert.equal(answer.status, 200)
    await page.waitForSelector('[data-test=patient-row]')
    return answer.body.data
  }

  async function book() {
    const page = desk.page
    await page.fill('input[name=patient-search]', patient.last4)
    await page.click('[data-test=picker-find]')
    await page.click(`[data-test=picker-result]:has-text("${patient.name}")`)
    const dentistId = await page.locator(`select[name=booking-dentist] option[data-email="${dentist}"]`).getAttribute('value')
    await page.selectOption('select[name=booking-dentist]', dentistId)
    await page.selectOption('select[name=booking-chair]', '1')
    await page.fill('input[name=booking-date]', today())
    await page.fill('input[name=booking-time]', SLOT)
    const exam = page.locator('[data-test=booking-form] label:has-text("EXM01") input[type=checkbox]')
    if (!(await exam.isChecked())) await exam.check()
    return answerTo(page, 'POST', /^\/api\/appointments$/, () => page.click('[data-test=booking-form] button[type=submit]'))
  }

  it('a receptionist finds a patient by "김" and by phone digits, books, and sees it on the week calendar', async () => {
    const page = desk.page
    const kims = await search(page, '김')
    assert.ok(kims.length > 0, 'the demo clinic has patients named 김…')
    for (const p of kims) assert.match(p.name, /김/)
    const names = await page.locator('[data-test=patient-row] td:first-child').allTextContents()
    assert.deepEqual(names.map((n) => n.trim()), kims.map((p) => p.name))

    const first = kims[0]
    patient = { id: first.id, name: first.name, last4: first.phone.replace(/\D/g, '').slice(-4) }
    const byPhone = await search(page, patient.last4)
    assert.ok(byPhone.some((p) => p.id === patient.id), 'the last 4 digits find the same patient')
    for (const p of byPhone) assert.ok(p.phone.replace(/\D/g, '').endsWith(patient.last4))
    await page.waitForSelector(`[data-test=patient-row]:has-text("${patient.name}")`)

    await page.click('[data-test=nav-calendar]')
    await page.waitForSelector('select[name=booking-dentist] option', { state: 'attached' })
    const answer = await book()
    assert.equal(answer.status, 201, JSON.stringify(answer.body))
    booking = answer.body
    assert.equal(booking.patient.id, patient.id)

    // The week calendar of the booked dentist shows it.
    await page.selectOption('select[name=dentist]', booking.dentist.id)
    const cell = page.locator(`[data-test=calendar] [data-test=cal-${booking.id}]`)
    await cell.waitFor()
    assert.match(await cell.textContent(), new RegExp(`${SLOT}.*${patient.name}`))
    await screenshot(page, 'clinic-calendar')
  })

  it("a second booking of the same dentist and slot shows the API's 409 detail on the form", async () => {
    const answer = await book()
    assert.equal(answer.status, 409)
    assert.ok(answer.body?.detail, 'a problem+json with a detail')
    const shown = desk.page.locator('[data-test=booking-error]')
    await shown.waitFor()
    assert.equal((await shown.textContent()).trim(), answer.body.detail)
  })

  it("the dentist's dashboard, in another browser context, shows the booking live without a reload", async () => {
    const row = dr.page.locator(`[data-test=appt-${booking.id}]`)
    await row.waitFor({ timeout: 10_000 })
    assert.match(await row.textContent(), new RegExp(patient.name))
    assert.equal(drNavigations, 0, 'the dashboard was not reloaded')
    await dr.page.waitForSelector('[data-test=feed] li:has-text("appointment.booked")')
  })

  it('the dentist records a treatment; the receptionist invoices it, takes a partial payment, then the rest: balance ₩0', async () => {
    const deskRow = desk.page.locator(`[data-test=appt-${booking.id}]`)
    const drRow = dr.page.locator(`[data-test=appt-${booking.id}]`)
    await desk.page.click('[data-test=nav-today]')
    await deskRow.locator('[data-test=to-checked_in]').click()
    await deskRow.locator('[data-test=status]:has-text("Checked in")').waitFor()

    // The check-in reaches the dentist live; the treatment button comes with it.
    await drRow.locator('[data-test=treat]').click({ timeout: 10_000 })
    await dr.page.fill('[data-test=treatment-form] input[name=teeth]', '16, 17')
    await dr.page.fill('[data-test=treatment-form] textarea[name=notes]', NOTES)
    const treated = await answerTo(dr.page, 'POST', /\/treatments$/, () => dr.page.click('[data-test=treatment-form] button[type=submit]'))
    assert.equal(treated.status, 201, JSON.stringify(treated.body))
    await drRow.locator('[data-test=to-completed]').click()
    await drRow.locator('[data-test=status]:has-text("Completed")').waitFor()
    await screenshot(dr.page, 'clinic-dashboard')

    await deskRow.locator('[data-test=make-invoice]').click({ timeout: 10_000 })
    const invoice = desk.page.locator('[data-test=invoice]')
    await invoice.waitFor()
    const balance = async () => (await desk.page.locator('[data-test=balance]').textContent()).trim()
    const total = Number((await balance()).replace(/\D/g, ''))
    assert.ok(total > 0, 'the invoice has something to pay')

    const pay = async (amount) => {
      await desk.page.fill('input[name=amount]', String(amount))
      return answerTo(desk.page, 'POST', /\/payments$/, () => desk.page.click('[data-test=payment-form] button[type=submit]'))
    }
    const half = Math.floor(total / 2)
    const first = await pay(half)
    assert.equal(first.status, 201, JSON.stringify(first.body))
    await desk.page.waitForFunction(
      (rest) => document.querySelector('[data-test=balance]')?.textContent?.replace(/\D/g, '') === String(rest),
      total - half,
    )
    const rest = await pay(total - half)
    assert.equal(rest.status, 201, JSON.stringify(rest.body))
    await desk.page.waitForFunction(() => document.querySelector('[data-test=balance]')?.textContent?.trim() === '₩0')
    assert.equal(await balance(), '₩0')
    assert.equal(await desk.page.locator('[data-test=payments] tr').count(), 2)
    await screenshot(desk.page, 'clinic-invoice')
  })

  it("a receptionist opening clinical notes is refused: the problem's detail, no clinical data", async () => {
    const page = desk.page
    await page.goto(new URL(`/patients/${patient.id}`, page.url()).href)
    await page.waitForSelector('[data-test=patient-card]')
    await page.waitForSelector('[data-test=invoices] a')
    await screenshot(page, 'clinic-patient')
    const answer = await answerTo(page, 'GET', /\/chart$/, () => page.click('[data-test=chart-tab]'))
    assert.equal(answer.status, 403)
    const refused = page.locator('[data-test=chart-refused]')
    await refused.waitFor()
    assert.ok((await refused.textContent()).includes(answer.body.detail), 'the problem detail is on screen')
    assert.equal(await page.locator('[data-test=chart]').count(), 0)
    assert.ok(!(await page.content()).includes(NOTES), 'no clinical note on the page')
  })

  it('had no page errors, and no error toast but the expected conflict', async () => {
    assert.deepEqual([...desk.problems, ...dr.problems], [])
    assert.deepEqual(await errorToasts(dr.page), [])
  })
})

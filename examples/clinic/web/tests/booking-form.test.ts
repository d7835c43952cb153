// The calendar's booking form, mounted in happy-dom, talking to the local test server through
// axios's Node adapter (happy-dom's XHR would apply CORS between its page and the server).
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createApp, type App } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { configureHttp } from '../src/api/http'
import { useAuthStore } from '../src/stores/auth'
import CalendarView from '../src/views/CalendarView.vue'
import { startFakeApi, type FakeApi } from './fake-api'

let api: FakeApi
let app: App | null = null
let root: HTMLElement

async function until<T>(probe: () => T | null | undefined | false, what: string, ms = 3000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = probe()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function input(selector: string, value: string) {
  const el = root.querySelector<HTMLInputElement | HTMLSelectElement>(selector)
  if (!el) throw new Error(`no ${selector}`)
  el.value = value
  el.dispatchEvent(new Event(el instanceof HTMLSelectElement ? 'change' : 'input'))
}

beforeEach(async () => {
  api = await startFakeApi()
  configureHttp({ baseURL: api.url, adapter: 'http' })
  const pinia = createPinia()
  setActivePinia(pinia)
  await useAuthStore().login('desk@clinic.test', 'correct horse')
  root = document.createElement('div')
  document.body.append(root)
  app = createApp(CalendarView).use(pinia)
  app.mount(root)
})

afterEach(async () => {
  app?.unmount()
  root.remove()
  await api.close()
})

describe('booking form', () => {
  it("shows the API's 409 detail on the form and sends the start in UTC", async () => {
    await until(() => root.querySelector('select[name=booking-dentist] option'), 'the dentists')
    input('input[name=patient-search]', '김')
    root.querySelectorAll('button').forEach((b) => b.textContent?.trim() === 'Find' && b.click())
    const pick = await until(
      () => [...root.querySelectorAll('button')].find((b) => b.textContent?.includes('김하늘')),
      'the search result',
    )
    pick.click()
    await until(() => root.querySelector('[data-test=picked-patient]'), 'the picked patient')
    input('select[name=booking-dentist]', 'd1')
    input('input[name=booking-date]', '2026-12-02')
    input('input[name=booking-time]', '10:00')
    root.querySelector<HTMLFormElement>('[data-test=booking-form]')!.dispatchEvent(new Event('submit'))

    const error = await until(() => root.querySelector('[data-test=booking-error]'), 'the conflict')
    expect(error.textContent?.trim()).toBe('Dr. Kim is already booked at that time.')
    expect(root.querySelector('[data-test=error-start]')?.textContent?.trim()).toBe('Taken')
    const posted = api.seen.find((s) => s.method === 'POST' && s.path === '/api/appointments')
    expect(JSON.parse(posted!.body)).toEqual({
      patient_id: 'pt1',
      dentist_id: 'd1',
      chair: 1,
      start: '2026-12-02T01:00:00.000Z', // 10:00 in Seoul
      procedure_ids: [],
    })
  })
})

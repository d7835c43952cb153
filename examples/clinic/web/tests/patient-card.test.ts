// The patient card, mounted in happy-dom against the local test server: the appointment
// history (asked by patient_id), the invoices, and a receptionist's refused clinical notes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createApp, type App } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { configureHttp } from '../src/api/http'
import { useAuthStore } from '../src/stores/auth'
import PatientView from '../src/views/PatientView.vue'
import { PATIENT, startFakeApi, type FakeApi } from './fake-api'

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

const rows = (list: string) =>
  [...root.querySelectorAll<HTMLTableRowElement>(`[data-test=${list}] tbody tr`)].map((tr) =>
    [...tr.cells].map((td) => td.textContent?.trim()),
  )

beforeEach(async () => {
  api = await startFakeApi()
  configureHttp({ baseURL: api.url, adapter: 'http' })
  const pinia = createPinia()
  setActivePinia(pinia)
  await useAuthStore().login('desk@clinic.test', 'correct horse') // the server's receptionist
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/patients/:id', component: PatientView },
      { path: '/invoices/:id', component: { render: () => null } },
    ],
  })
  await router.push(`/patients/${PATIENT.id}`)
  root = document.createElement('div')
  document.body.append(root)
  app = createApp(PatientView).use(pinia).use(router)
  app.mount(root)
})

afterEach(async () => {
  app?.unmount()
  root.remove()
  await api.close()
})

describe('patient card', () => {
  it('lists the appointment history, upcoming first, with statuses, and the invoices', async () => {
    await until(() => root.querySelector('[data-test=history] tr[data-status]'), 'the history')
    const asked = api.seen.filter((s) => s.method === 'GET' && s.path === '/api/appointments')
    expect(asked.map((s) => s.query)).toEqual([`?patient_id=${PATIENT.id}`])

    const history = [...root.querySelectorAll<HTMLElement>('[data-test=history] tr[data-status]')]
    expect(history.map((tr) => [tr.dataset.when, tr.dataset.status])).toEqual([
      ['upcoming', 'booked'],
      ['past', 'completed'],
    ])
    expect(rows('history').map((r) => r.slice(1))).toEqual([
      ['Dr. Kim', '1', 'Check-up', 'Booked'],
      ['Dr. Kim', '1', 'Check-up', 'Completed'],
    ])
    expect(rows('invoices').map((r) => r.slice(1))).toEqual([['₩30,000', '₩10,000', '₩20,000']])
  })

  it("shows a receptionist the API's refusal of the clinical notes, and no treatments", async () => {
    await until(() => root.querySelector('[data-test=chart-tab]'), 'the notes button')
    expect(api.count('GET', `/api/patients/${PATIENT.id}/chart`)).toBe(0)
    root.querySelector<HTMLButtonElement>('[data-test=chart-tab]')!.click()
    const refused = await until(() => root.querySelector('[data-test=chart-refused]'), 'the refusal')
    expect(refused.textContent).toContain('clinical notes are for dentists and admins')
    expect(root.querySelector('[data-test=treatments]')).toBeNull()
  })
})

/**
 * A real HTTP server on 127.0.0.1 (OS-assigned port) that plays the auth contract's token
 * rules: one access token valid at a time, refresh rotating it when X-CSRF-Token matches.
 * It records every request so tests count refreshes and retries as a server log would.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Appointment, Invoice, Patient, PatientPage, ProblemJson } from '../src/api/types'

export interface Seen {
  method: string
  path: string
  /** The query string, `?` included (empty without one). */
  query: string
  auth: string | undefined
  csrf: string | undefined
  body: string
}

export interface FakeApi {
  url: string
  seen: Seen[]
  /** The currently valid access token. */
  token: string
  csrf: string
  /** Makes the current access token invalid (as if it expired). */
  expire(): void
  /** Refreshes answer 401 from now on. */
  failRefresh: boolean
  /** Delay before a refresh answers, so concurrent 401s pile up behind it. */
  refreshDelayMs: number
  count(method: string, path: string): number
  close(): Promise<void>
}

function problem(res: ServerResponse, status: number, body: ProblemJson): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' })
  res.end(JSON.stringify({ type: 'about:blank', status, ...body }))
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/** The one patient, with a past and an upcoming appointment and one invoice. */
export const PATIENT = {
  id: 'pt1',
  name: '김하늘',
  phone: '010-1234-5678',
  birth_date: '1990-03-01',
  memo: '',
  archived: false,
} satisfies Patient

const visit = (id: string, start: string, end: string, status: Appointment['status']): Appointment => ({
  id,
  patient: { id: PATIENT.id, name: PATIENT.name },
  dentist: { id: 'd1', name: 'Dr. Kim' },
  chair: 1,
  start,
  end,
  status,
  procedures: [{ id: 'p1', code: 'D0120', name: 'Check-up' }],
})

/** `GET /api/appointments?patient_id=pt1`, by start as the API sends it. */
export const HISTORY: Appointment[] = [
  visit('a-past', '2020-06-01T01:00:00Z', '2020-06-01T01:30:00Z', 'completed'),
  visit('a-next', '2099-03-02T01:00:00Z', '2099-03-02T01:30:00Z', 'booked'),
]

export const INVOICE = {
  id: 'inv1',
  patient: { id: PATIENT.id, name: PATIENT.name },
  appointment_id: 'a-past',
  issued_at: '2020-06-01T02:00:00Z',
  lines: [{ code: 'D0120', name: 'Check-up', fee_krw: 30000, teeth: [] }],
  subtotal_krw: 30000,
  discount_krw: 0,
  total_krw: 30000,
  paid_krw: 10000,
  refunded_krw: 0,
  balance_krw: 20000,
  payments: [{ id: 'pay1', amount_krw: 10000, method: 'card', at: '2020-06-01T02:05:00Z', kind: 'payment' }],
} satisfies Invoice

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function startFakeApi(): Promise<FakeApi> {
  let generation = 1
  const api = {
    url: '',
    seen: [] as Seen[],
    token: 'access-1',
    csrf: 'csrf-1',
    failRefresh: false,
    refreshDelayMs: 50,
    expire() {
      api.token = `expired-${generation}`
    },
    count(method: string, path: string) {
      return api.seen.filter((s) => s.method === method && s.path === path).length
    },
    close: async () => {},
  }

  const authorized = (req: IncomingMessage) => req.headers.authorization === `Bearer ${api.token}`
  const unauthorized = (res: ServerResponse) =>
    problem(res, 401, { title: 'Unauthorized', detail: 'The access token has expired.', code: 'invalid_token' })

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const path = url.pathname
    const method = req.method ?? 'GET'
    const header = (name: string) => {
      const v = req.headers[name]
      return Array.isArray(v) ? v[0] : v
    }
    let body = ''
    for await (const chunk of req) body += chunk
    api.seen.push({ method, path, query: url.search, auth: header('authorization'), csrf: header('x-csrf-token'), body })

    if (method === 'POST' && path === '/auth/login') {
      const { email, password } = JSON.parse(body || '{}')
      if (password !== 'correct horse') {
        return problem(res, 401, { title: 'Unauthorized', detail: 'Wrong email or password.', code: 'invalid_credentials' })
      }
      generation += 1
      api.token = `access-${generation}`
      api.csrf = `csrf-${generation}`
      return json(res, 200, { access_token: api.token, token_type: 'bearer', expires_in: 900, csrf_token: api.csrf, email })
    }
    if (method === 'POST' && path === '/auth/refresh') {
      await sleep(api.refreshDelayMs)
      if (api.failRefresh) {
        return problem(res, 401, { title: 'Unauthorized', detail: 'The session has ended.', code: 'invalid_refresh_token' })
      }
      if (header('x-csrf-token') !== api.csrf) {
        return problem(res, 403, { title: 'Forbidden', detail: 'CSRF check failed.', code: 'csrf_failed' })
      }
      generation += 1
      api.token = `access-${generation}`
      api.csrf = `csrf-${generation}`
      return json(res, 200, { access_token: api.token, token_type: 'bearer', expires_in: 900, csrf_token: api.csrf })
    }
    if (method === 'POST' && path === '/auth/logout') {
      res.writeHead(204).end()
      return
    }
    if (method === 'GET' && path === '/me') {
      if (!authorized(req)) return unauthorized(res)
      return json(res, 200, { id: 'u1', email: 'desk@clinic.test', roles: ['user', 'receptionist'] })
    }
    if (path.startsWith('/api/items/')) {
      // The slow variant checks the token after its delay, as a handler that was slow to
      // answer: its 401 can arrive after another request's refresh has finished.
      if (url.searchParams.has('slow')) await sleep(Number(url.searchParams.get('slow')))
      if (!authorized(req)) return unauthorized(res)
      return json(res, 200, { id: path.slice('/api/items/'.length), token: api.token })
    }
    if (path === '/api/appointments' && method === 'POST') {
      if (!authorized(req)) return unauthorized(res)
      return problem(res, 409, {
        title: 'Conflict',
        detail: 'Dr. Kim is already booked at that time.',
        code: 'slot_taken',
        errors: [
          { field: 'start', code: 'slot_taken', message: 'Taken' },
          { field: 'start', code: 'other', message: 'second message, not shown' },
        ],
      })
    }
    // Enough of the clinic for the booking form to load and search.
    if (path.startsWith('/api/') && !authorized(req)) return unauthorized(res)
    if (path === '/api/clinic') return json(res, 200, { name: 'Test clinic', timezone: 'Asia/Seoul', chairs: [1, 2] })
    if (path === '/api/staff') {
      return json(res, 200, [{ id: 'd1', name: 'Dr. Kim', email: 'dr@clinic.test', role: 'dentist' }])
    }
    if (path === '/api/procedures') {
      return json(res, 200, [{ id: 'p1', code: 'D0120', name: 'Check-up', fee_krw: 30000, duration_min: 30, active: true }])
    }
    if (path === '/api/appointments' && method === 'GET') {
      return json(res, 200, url.searchParams.get('patient_id') === PATIENT.id ? HISTORY : [])
    }
    if (path === '/api/patients' && method === 'GET') {
      return json(res, 200, { data: [PATIENT], page: { next_cursor: null } } satisfies PatientPage)
    }
    if (path === `/api/patients/${PATIENT.id}`) return json(res, 200, PATIENT)
    if (path === `/api/patients/${PATIENT.id}/invoices`) return json(res, 200, [INVOICE])
    if (path === `/api/patients/${PATIENT.id}/chart`) {
      // The signed-in account is a receptionist: refused, as the API refuses it.
      return problem(res, 403, {
        title: 'Forbidden',
        detail: 'clinical notes are for dentists and admins',
        code: 'forbidden',
      })
    }
    if (path === '/api/html-error') {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>')
      return
    }
    problem(res, 404, { title: 'Not Found', detail: `No route ${path}` })
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  api.url = `http://127.0.0.1:${port}`
  api.close = () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections()
      server.close((err) => (err ? reject(err) : resolve()))
    })
  return api
}

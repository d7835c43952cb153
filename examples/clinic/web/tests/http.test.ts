// @vitest-environment node
// Node's http adapter against a real local server: the requests and the single refresh are
// observed on the wire, not mocked.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ApiError, createHttp, type HttpClient, type Session } from '../src/api/http'
import type { TokenOut } from '../src/api/types'
import { startFakeApi, type FakeApi } from './fake-api'

interface TestSession extends Session {
  token: string | null
  csrf: string | null
  lostCount: number
  active: number
}

function session(api: FakeApi): TestSession {
  const s: TestSession = {
    token: api.token,
    csrf: api.csrf,
    lostCount: 0,
    active: 0,
    accessToken: () => s.token,
    csrfToken: () => s.csrf,
    refreshed: (t: TokenOut) => {
      s.token = t.access_token
      s.csrf = t.csrf_token
    },
    lost: () => {
      s.lostCount += 1
      s.token = null
    },
    activity: (d) => {
      s.active += d
    },
  }
  return s
}

let api: FakeApi
let s: TestSession
let client: HttpClient

beforeEach(async () => {
  api = await startFakeApi()
  s = session(api)
  client = createHttp(s, api.url)
})

afterEach(async () => {
  await api.close()
})

describe('401 handling', () => {
  it('refreshes exactly once for many concurrent 401s and retries each request once', async () => {
    const old = s.token
    api.expire()
    const ids = ['1', '2', '3', '4', '5', '6']
    const results = await Promise.all(ids.map((id) => client.http.get(`/api/items/${id}`)))

    expect(results.map((r) => r.data.id)).toEqual(ids)
    expect(api.count('POST', '/auth/refresh')).toBe(1)
    expect(s.token).toBe(api.token)
    for (const id of ids) {
      const tries = api.seen.filter((x) => x.path === `/api/items/${id}`)
      expect(tries.map((t) => t.auth)).toEqual([`Bearer ${old}`, `Bearer ${api.token}`])
    }
    expect(s.lostCount).toBe(0)
    expect(s.active).toBe(0)
  })

  it('sends the CSRF token from the session on /auth/refresh and keeps the rotated one', async () => {
    const before = s.csrf
    api.expire()
    await client.http.get('/api/items/a')
    const refresh = api.seen.find((x) => x.path === '/auth/refresh')
    expect(refresh?.csrf).toBe(before)
    expect(s.csrf).toBe(api.csrf)
    expect(s.csrf).not.toBe(before)
  })

  it('retries a 401 that arrives after a refresh finished without refreshing again', async () => {
    api.refreshDelayMs = 10
    api.expire()
    // The slow request was sent with the old token; its 401 comes after the fast one's refresh.
    const slow = client.http.get('/api/items/slow?slow=300')
    const fast = await client.http.get('/api/items/fast')
    expect(fast.data.id).toBe('fast')
    expect((await slow).status).toBe(200)
    expect(api.count('POST', '/auth/refresh')).toBe(1)
  })

  it('ends the session once and rejects every request when the refresh fails', async () => {
    api.expire()
    api.failRefresh = true
    const outcomes = await Promise.allSettled(
      ['1', '2', '3'].map((id) => client.http.get(`/api/items/${id}`)),
    )

    expect(api.count('POST', '/auth/refresh')).toBe(1)
    expect(s.lostCount).toBe(1)
    expect(s.token).toBeNull()
    for (const o of outcomes) {
      expect(o.status).toBe('rejected')
      const err = (o as PromiseRejectedResult).reason
      expect(err).toBeInstanceOf(ApiError)
      expect((err as ApiError).problem.status).toBe(401)
    }
    // No retry without a token: each request went out once.
    expect(api.seen.filter((x) => x.path.startsWith('/api/items/'))).toHaveLength(3)
    expect(s.active).toBe(0)
  })

  it('retries only once when the retried request is refused again', async () => {
    // The session's token is wrong and stays wrong: the server expects another one.
    api.expire()
    s.refreshed = () => {} // keeps the stale token although the refresh succeeded
    await expect(client.http.get('/api/items/x')).rejects.toBeInstanceOf(ApiError)
    expect(api.count('POST', '/auth/refresh')).toBe(1)
    expect(api.count('GET', '/api/items/x')).toBe(2)
  })

  it('does not refresh on a 401 from /auth/login', async () => {
    const err = await client.http
      .post('/auth/login', { email: 'a@b.test', password: 'wrong' })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).problem.code).toBe('invalid_credentials')
    expect(api.count('POST', '/auth/refresh')).toBe(0)
  })

  it('shares one refresh between direct callers too', async () => {
    const tokens = await Promise.all([client.refresh(), client.refresh(), client.refresh()])
    expect(new Set(tokens)).toEqual(new Set([api.token]))
    expect(api.count('POST', '/auth/refresh')).toBe(1)
  })

  it('logout posts the CSRF token', async () => {
    const csrf = s.csrf
    await client.logout()
    expect(api.seen.find((x) => x.path === '/auth/logout')?.csrf).toBe(csrf)
  })
})

describe('problem normalisation', () => {
  it('keeps detail and code and keys field errors by field (first message wins)', async () => {
    const err = await client.http.post('/api/appointments', {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).problem).toEqual({
      status: 409,
      title: 'Conflict',
      detail: 'Dr. Kim is already booked at that time.',
      code: 'slot_taken',
      errors: { start: 'Taken' },
    })
    expect((err as ApiError).message).toBe('Dr. Kim is already booked at that time.')
  })

  it('turns a non-JSON error into a problem with the status text', async () => {
    const err = (await client.http.get('/api/html-error').catch((e: unknown) => e)) as ApiError
    expect(err.problem.status).toBe(502)
    expect(err.problem.detail).toBe(err.problem.title)
    expect(err.problem.code).toBeNull()
  })

  it('reports an unreachable server as status 0', async () => {
    const url = api.url
    await api.close()
    const offline = createHttp(s, url)
    const err = (await offline.http.get('/api/items/1').catch((e: unknown) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.problem.status).toBe(0)
    expect(err.problem.code).toBe('network_error')
    api = await startFakeApi() // afterEach closes it
  })
})

// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError, configureHttp, http } from '../src/api/http'
import { useAuthStore } from '../src/stores/auth'
import { useUiStore } from '../src/stores/ui'
import { startFakeApi, type FakeApi } from './fake-api'

let api: FakeApi

beforeEach(async () => {
  api = await startFakeApi()
  configureHttp({ baseURL: api.url })
  setActivePinia(createPinia())
})

afterEach(async () => {
  await api.close()
})

describe('authStore', () => {
  it('logs in, keeps the tokens in memory and loads the staff role', async () => {
    const auth = useAuthStore()
    expect(auth.isAuthenticated).toBe(false)
    const me = await auth.login('desk@clinic.test', 'correct horse')

    expect(me.email).toBe('desk@clinic.test')
    expect(auth.isAuthenticated).toBe(true)
    expect(auth.accessToken).toBe(api.token)
    expect(auth.csrfToken).toBe(api.csrf)
    expect(auth.roles).toEqual(['receptionist']) // `user` is not a staff role
    expect(auth.role).toBe('receptionist')
    expect(auth.hasRole('admin', 'receptionist')).toBe(true)
    expect(auth.hasRole('dentist')).toBe(false)
    expect(api.seen.find((x) => x.path === '/me')?.auth).toBe(`Bearer ${api.token}`)
  })

  it('rejects a wrong password with the problem and stays signed out', async () => {
    const auth = useAuthStore()
    const err = await auth.login('desk@clinic.test', 'nope').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).problem.detail).toBe('Wrong email or password.')
    expect(auth.isAuthenticated).toBe(false)
    expect(auth.accessToken).toBeNull()
  })

  it('refreshes through the store when the token expires and keeps the user signed in', async () => {
    const auth = useAuthStore()
    await auth.login('desk@clinic.test', 'correct horse')
    const csrf = auth.csrfToken
    api.expire()
    await Promise.all([http.get('/api/items/1'), http.get('/api/items/2'), auth.me()])

    expect(api.count('POST', '/auth/refresh')).toBe(1)
    expect(api.seen.find((x) => x.path === '/auth/refresh')?.csrf).toBe(csrf)
    expect(auth.accessToken).toBe(api.token)
    expect(auth.isAuthenticated).toBe(true)
    expect(useUiStore().pending).toBe(0)
  })

  it('signs out and marks the session expired when the refresh is refused', async () => {
    const auth = useAuthStore()
    await auth.login('desk@clinic.test', 'correct horse')
    api.expire()
    api.failRefresh = true
    await expect(http.get('/api/items/1')).rejects.toBeInstanceOf(ApiError)

    expect(auth.isAuthenticated).toBe(false)
    expect(auth.user).toBeNull()
    expect(auth.accessToken).toBeNull()
    expect(auth.expired).toBe(true)
  })

  it('logs out with the CSRF token and forgets everything', async () => {
    const auth = useAuthStore()
    await auth.login('desk@clinic.test', 'correct horse')
    const csrf = auth.csrfToken
    await auth.logout()

    expect(api.seen.find((x) => x.path === '/auth/logout')?.csrf).toBe(csrf)
    expect(auth.isAuthenticated).toBe(false)
    expect(auth.csrfToken).toBeNull()
    expect(auth.expired).toBe(false)
  })

  it('restore without a csrf cookie reports no session and calls nothing', async () => {
    const auth = useAuthStore()
    expect(await auth.restore()).toBe(false)
    expect(api.seen).toHaveLength(0)
  })
})

// The role guards, with the real router and authStore against the local test server.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createApp, type App } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { configureHttp } from '../src/api/http'
import { router } from '../src/router'
import { useAuthStore } from '../src/stores/auth'
import { useUiStore } from '../src/stores/ui'
import { startFakeApi, type FakeApi } from './fake-api'

let api: FakeApi
let app: App

beforeEach(async () => {
  api = await startFakeApi()
  configureHttp({ baseURL: api.url, adapter: 'http' })
  document.cookie = 'csrf_token=; max-age=0; path=/'
  const pinia = createPinia()
  setActivePinia(pinia)
  // Guards run in the router's first app's context (its pinia), so each test mounts one
  // and unmounts it after.
  app = createApp({ render: () => null }).use(pinia).use(router)
  app.mount(document.createElement('div'))
  await router.replace('/login')
})

afterEach(async () => {
  app.unmount()
  await api.close()
})

describe('route guards', () => {
  it('sends a signed-out user to the login screen with the way back', async () => {
    await router.push('/patients')
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.redirect).toBe('/patients')
  })

  it('lets a receptionist open patients but not the admin screens', async () => {
    await useAuthStore().login('desk@clinic.test', 'correct horse') // the server's receptionist
    await router.push('/patients')
    expect(router.currentRoute.value.name).toBe('patients')
    await router.push('/admin/staff')
    expect(router.currentRoute.value.name).toBe('dashboard')
    expect(useUiStore().toasts.at(-1)?.title).toBe('Forbidden')
  })

  it('restores the session from the csrf cookie after a reload', async () => {
    document.cookie = `csrf_token=${api.csrf}; path=/`
    await router.push('/patients')
    expect(router.currentRoute.value.name).toBe('patients')
    expect(api.count('POST', '/auth/refresh')).toBe(1)
    expect(api.seen.find((s) => s.path === '/auth/refresh')?.csrf).toBe('csrf-1')
    expect(useAuthStore().role).toBe('receptionist')
  })
})

/**
 * authStore: who is signed in and the tokens, kept in memory only. The refresh token is an
 * HttpOnly cookie; after a page reload the CSRF token is read back from the readable
 * `csrf_token` cookie (Path=/) so that {@link restore} can refresh without a new login.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { bindSession, http, logoutSession, refreshSession } from '../api/http'
import type { Me, Role, TokenOut } from '../api/types'
import { useUiStore } from './ui'

const STAFF_ROLES: readonly Role[] = ['admin', 'dentist', 'receptionist']

function csrfCookie(): string | null {
  if (typeof document === 'undefined') return null
  const hit = document.cookie.split('; ').find((c) => c.startsWith('csrf_token='))
  return hit ? decodeURIComponent(hit.slice('csrf_token='.length)) : null
}

export const useAuthStore = defineStore('auth', () => {
  const accessToken = ref<string | null>(null)
  const csrfToken = ref<string | null>(null)
  const user = ref<Me | null>(null)
  /** Set when the session ended without a logout (refresh refused): the login screen says so. */
  const expired = ref(false)

  const isAuthenticated = computed(() => user.value !== null && accessToken.value !== null)
  const roles = computed<Role[]>(() =>
    STAFF_ROLES.filter((r) => user.value?.roles.includes(r) ?? false),
  )
  /** The account's staff role (the contract gives each account one). */
  const role = computed<Role | null>(() => roles.value[0] ?? null)

  function hasRole(...wanted: Role[]): boolean {
    return wanted.some((r) => roles.value.includes(r))
  }

  function setTokens(tokens: TokenOut): void {
    accessToken.value = tokens.access_token
    csrfToken.value = tokens.csrf_token
  }

  function clear(): void {
    accessToken.value = null
    csrfToken.value = null
    user.value = null
  }

  const ui = useUiStore()
  bindSession({
    accessToken: () => accessToken.value,
    csrfToken: () => csrfToken.value ?? csrfCookie(),
    refreshed: setTokens,
    lost: () => {
      const hadUser = user.value !== null
      clear()
      expired.value = hadUser
    },
    activity: (delta) => (delta > 0 ? ui.begin() : ui.end()),
  })

  async function me(): Promise<Me> {
    const res = await http.get<Me>('/me')
    user.value = res.data
    return res.data
  }

  async function login(email: string, password: string): Promise<Me> {
    const res = await http.post<TokenOut>('/auth/login', { email, password })
    setTokens(res.data)
    expired.value = false
    try {
      return await me()
    } catch (err) {
      clear()
      throw err
    }
  }

  async function logout(): Promise<void> {
    await logoutSession()
    clear()
    expired.value = false
  }

  /** After a reload: trades the refresh cookie for a token. False when there is no session. */
  async function restore(): Promise<boolean> {
    if (isAuthenticated.value) return true
    if (!csrfCookie()) return false
    try {
      await refreshSession()
      await me()
      expired.value = false
      return true
    } catch {
      clear()
      expired.value = false
      return false
    }
  }

  return {
    accessToken,
    csrfToken,
    user,
    expired,
    isAuthenticated,
    roles,
    role,
    hasRole,
    login,
    logout,
    me,
    restore,
  }
})

/**
 * The app's one axios instance. The access token lives in memory (authStore) and is sent as
 * a Bearer header; the refresh token is an HttpOnly cookie (Path=/auth) the browser sends by
 * itself (withCredentials). A 401 triggers one refresh shared by every request that failed
 * meanwhile, then each is retried once; a failed refresh ends the session. Every error leaves
 * here as an {@link ApiError} carrying a normalised problem+json.
 */
import axios, {
  AxiosError,
  AxiosHeaders,
  type AxiosInstance,
  type AxiosRequestConfig,
  type InternalAxiosRequestConfig,
} from 'axios'
import type { ProblemJson, TokenOut } from './types'

/** A problem+json reduced to what screens show: `errors` keyed by field name. */
export interface Problem {
  status: number
  title: string
  detail: string
  code: string | null
  errors: Record<string, string>
}

/** The error every call through {@link http} rejects with. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title)
    this.name = 'ApiError'
  }
}

/** What the HTTP layer needs from the session owner (authStore, or a test). */
export interface Session {
  accessToken(): string | null
  csrfToken(): string | null
  /** A refresh succeeded: keep the new tokens. */
  refreshed(tokens: TokenOut): void
  /** The refresh failed: the session is over. */
  lost(): void
  /** +1 when a request starts, -1 when it settles (drives the spinner). */
  activity?(delta: 1 | -1): void
}

interface TrackedConfig extends InternalAxiosRequestConfig {
  /** The token this request was sent with, to tell a stale 401 from an expired session. */
  _sentToken?: string | null
  _retried?: boolean
}

/** Routes whose 401 means "bad credentials or session", never "refresh and retry". */
const AUTH_ROUTES = ['/auth/login', '/auth/refresh', '/auth/logout']

function isAuthRoute(url: string | undefined): boolean {
  return !!url && AUTH_ROUTES.some((route) => url.endsWith(route))
}

/** Turns anything thrown by axios (or already normalised) into a {@link Problem}. */
export function toProblem(err: unknown): Problem {
  if (err instanceof ApiError) return err.problem
  if (err instanceof AxiosError) {
    const res = err.response
    if (!res) {
      return {
        status: 0,
        title: 'Network error',
        detail: 'The server cannot be reached. Check the connection and try again.',
        code: 'network_error',
        errors: {},
      }
    }
    const body: ProblemJson =
      res.data && typeof res.data === 'object' ? (res.data as ProblemJson) : {}
    const errors: Record<string, string> = {}
    for (const e of body.errors ?? []) {
      // The first message per field is the one a form shows.
      if (e && typeof e.field === 'string' && !(e.field in errors)) errors[e.field] = e.message
    }
    const title = body.title ?? (res.statusText || `HTTP ${res.status}`)
    return {
      status: body.status ?? res.status,
      title,
      detail: body.detail ?? title,
      code: body.code ?? null,
      errors,
    }
  }
  const message = err instanceof Error ? err.message : String(err)
  return { status: 0, title: 'Error', detail: message, code: null, errors: {} }
}

/** An instance plus the session calls that bypass the 401 handling. */
export interface HttpClient {
  http: AxiosInstance
  /** One refresh for all callers at once; resolves to the new access token. */
  refresh(): Promise<string>
  /** `POST /auth/logout` with the CSRF token; the caller clears its state whatever happens. */
  logout(): Promise<void>
  /** Sets the origin (and, in tests, the adapter) of both instances. */
  configure(options: { baseURL?: string; adapter?: AxiosRequestConfig['adapter'] }): void
}

/** Builds the instance; `baseURL` is empty in the app (same origin, or the dev proxy). */
export function createHttp(session: Session, baseURL = ''): HttpClient {
  const http = axios.create({ baseURL, withCredentials: true })
  // No interceptors here: a 401 from /auth/refresh must not start another refresh.
  const bare = axios.create({ baseURL, withCredentials: true })
  let refreshing: Promise<string> | null = null

  function csrfHeaders(): Record<string, string> {
    const csrf = session.csrfToken()
    return csrf ? { 'X-CSRF-Token': csrf } : {}
  }

  function refresh(): Promise<string> {
    refreshing ??= bare
      .post<TokenOut>('/auth/refresh', null, { headers: csrfHeaders() })
      .then((res) => {
        session.refreshed(res.data)
        return res.data.access_token
      })
      .catch((err: unknown) => {
        session.lost()
        throw new ApiError(toProblem(err))
      })
      .finally(() => {
        refreshing = null
      })
    return refreshing
  }

  async function logout(): Promise<void> {
    try {
      await bare.post('/auth/logout', null, { headers: csrfHeaders() })
    } catch {
      // The session ends locally either way; an expired refresh cookie is not an error here.
    }
  }

  http.interceptors.request.use((config: TrackedConfig) => {
    session.activity?.(1)
    const token = session.accessToken()
    config._sentToken = token
    const headers = AxiosHeaders.from(config.headers)
    if (token) headers.set('Authorization', `Bearer ${token}`)
    else headers.delete('Authorization')
    config.headers = headers
    return config
  })

  http.interceptors.response.use(
    (res) => {
      session.activity?.(-1)
      return res
    },
    async (error: unknown) => {
      session.activity?.(-1)
      if (!(error instanceof AxiosError)) throw new ApiError(toProblem(error))
      const config = error.config as TrackedConfig | undefined
      if (
        !config ||
        error.response?.status !== 401 ||
        config._retried ||
        isAuthRoute(config.url)
      ) {
        throw new ApiError(toProblem(error))
      }
      config._retried = true
      const current = session.accessToken()
      try {
        if (refreshing) await refreshing
        // Sent before a refresh that has finished since: the new token is already here.
        else if (!(current && current !== config._sentToken)) await refresh()
      } catch {
        throw new ApiError(toProblem(error))
      }
      return http.request(config)
    },
  )

  function configure(options: { baseURL?: string; adapter?: AxiosRequestConfig['adapter'] }): void {
    for (const instance of [http, bare]) {
      if (options.baseURL !== undefined) instance.defaults.baseURL = options.baseURL
      if (options.adapter !== undefined) instance.defaults.adapter = options.adapter
    }
  }

  return { http, refresh, logout, configure }
}

const unbound: Session = {
  accessToken: () => null,
  csrfToken: () => null,
  refreshed: () => {},
  lost: () => {},
}
let bound: Session = unbound

/** Connects the shared instance to the session owner (authStore does, when created). */
export function bindSession(session: Session): void {
  bound = session
}

// Empty: same origin (nginx, or the dev server's proxy). VITE_API_BASE points the app at an
// API on another origin instead, which then needs CORS with credentials.
const client = createHttp(
  {
    accessToken: () => bound.accessToken(),
    csrfToken: () => bound.csrfToken(),
    refreshed: (tokens) => bound.refreshed(tokens),
    lost: () => bound.lost(),
    activity: (delta) => bound.activity?.(delta),
  },
  import.meta.env.VITE_API_BASE ?? '',
)

/** The app's instance. */
export const http = client.http
/** See {@link HttpClient.refresh}. */
export const refreshSession = client.refresh
/** See {@link HttpClient.logout}. */
export const logoutSession = client.logout
/** See {@link HttpClient.configure}. */
export const configureHttp = client.configure

/**
 * One Idempotency-Key per payment attempt. The key is kept while the outcome is unknown (no
 * answer, or a 5xx), so a retry of the same amount and method reuses it and the API records
 * the payment once; a definite answer (success or 4xx) or a changed request starts a new one.
 */
import { toProblem } from '../api/http'

export interface Attempt<T> {
  /** The key to send for this request body. */
  keyFor(body: T): string
  /** Call with the request's outcome. */
  settle(error?: unknown): void
  /** The pending key, if an attempt's outcome is unknown. */
  readonly pending: string | null
}

export function paymentAttempts<T>(newKey: () => string = () => crypto.randomUUID()): Attempt<T> {
  let key: string | null = null
  let bodyOfKey = ''
  return {
    keyFor(body: T) {
      const fingerprint = JSON.stringify(body)
      if (key === null || fingerprint !== bodyOfKey) {
        key = newKey()
        bodyOfKey = fingerprint
      }
      return key
    },
    settle(error?: unknown) {
      if (error === undefined) {
        key = null
        return
      }
      const status = toProblem(error).status
      if (status >= 400 && status < 500) key = null
    },
    get pending() {
      return key
    },
  }
}

import { describe, expect, it } from 'vitest'
import { ApiError } from '../src/api/http'
import { addDays, formatKrw, weekStart, zonedDate, zonedTime, zonedToUtc } from '../src/lib/format'
import { paymentAttempts } from '../src/lib/idempotency'

describe('clinic time zone', () => {
  it('turns a Seoul wall time into UTC and back', () => {
    expect(zonedToUtc('Asia/Seoul', '2026-12-02', '09:30')).toBe('2026-12-02T00:30:00.000Z')
    expect(zonedToUtc('Asia/Seoul', '2026-12-02', '05:00')).toBe('2026-12-01T20:00:00.000Z')
    expect(zonedDate('Asia/Seoul', '2026-12-01T20:00:00Z')).toBe('2026-12-02')
    expect(zonedTime('Asia/Seoul', '2026-12-01T20:00:00Z')).toBe('05:00')
  })

  it('follows a zone with daylight saving', () => {
    expect(zonedToUtc('Europe/Berlin', '2026-07-01', '12:00')).toBe('2026-07-01T10:00:00.000Z')
    expect(zonedToUtc('Europe/Berlin', '2026-01-15', '12:00')).toBe('2026-01-15T11:00:00.000Z')
  })

  it('finds the Monday of a week across a month end', () => {
    expect(weekStart('2026-12-02')).toBe('2026-11-30') // a Wednesday
    expect(weekStart('2026-11-30')).toBe('2026-11-30')
    expect(weekStart('2026-12-06')).toBe('2026-11-30') // a Sunday
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
  })

  it('formats KRW without minor units', () => {
    expect(formatKrw(1234567)).toBe('₩1,234,567')
  })
})

describe('payment idempotency keys', () => {
  const counter = () => {
    let n = 0
    return () => `key-${++n}`
  }
  const body = { amount_krw: 30000, method: 'card' }

  it('reuses the key when the outcome was unknown, and not after a success', () => {
    const a = paymentAttempts<typeof body>(counter())
    const first = a.keyFor(body)
    a.settle(new ApiError({ status: 0, title: 'Network error', detail: '', code: null, errors: {} }))
    expect(a.keyFor(body)).toBe(first)
    a.settle(new ApiError({ status: 503, title: 'Unavailable', detail: '', code: null, errors: {} }))
    expect(a.keyFor(body)).toBe(first)
    a.settle()
    expect(a.pending).toBeNull()
    expect(a.keyFor(body)).not.toBe(first)
  })

  it('starts a new attempt after a 4xx or when the amount changes', () => {
    const a = paymentAttempts<typeof body>(counter())
    const first = a.keyFor(body)
    a.settle(new ApiError({ status: 422, title: 'Overpayment', detail: '', code: 'overpayment', errors: {} }))
    const second = a.keyFor(body)
    expect(second).not.toBe(first)
    a.settle(new ApiError({ status: 0, title: '', detail: '', code: null, errors: {} }))
    expect(a.keyFor({ ...body, amount_krw: 20000 })).not.toBe(second)
  })

  it('uses crypto.randomUUID by default', () => {
    const key = paymentAttempts().keyFor({})
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError } from '../src/api/http'
import { TOAST_MS, useUiStore } from '../src/stores/ui'

beforeEach(() => {
  setActivePinia(createPinia())
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

describe('uiStore', () => {
  it('keeps the spinner on until the last request ends, and never below zero', () => {
    const ui = useUiStore()
    ui.begin()
    ui.begin()
    ui.end()
    expect(ui.busy).toBe(true)
    ui.end()
    expect(ui.busy).toBe(false)
    ui.end()
    expect(ui.pending).toBe(0)
  })

  it('shows a toast and drops it after its time', () => {
    const ui = useUiStore()
    ui.toast('success', 'Saved')
    const keep = ui.toast('info', 'Stays', '', 0)
    expect(ui.toasts.map((t) => t.text)).toEqual(['Saved', 'Stays'])
    vi.advanceTimersByTime(TOAST_MS)
    expect(ui.toasts.map((t) => t.text)).toEqual(['Stays'])
    ui.dismiss(keep)
    expect(ui.toasts).toEqual([])
  })

  it("fail() toasts the problem's detail and puts its field errors on the form", () => {
    const ui = useUiStore()
    const problem = ui.fail(
      new ApiError({
        status: 422,
        title: 'Unprocessable',
        detail: 'The patient could not be saved.',
        code: 'validation',
        errors: { phone: 'must be 10 or 11 digits', birth_date: 'must be a date' },
      }),
      'patient',
    )
    expect(problem.status).toBe(422)
    expect(ui.toasts).toHaveLength(1)
    expect(ui.toasts[0]).toMatchObject({ kind: 'error', text: 'The patient could not be saved.' })
    expect(ui.fieldError('patient', 'phone')).toBe('must be 10 or 11 digits')
    expect(ui.fieldError('patient', 'name')).toBeUndefined()
    expect(ui.fieldError('booking', 'phone')).toBeUndefined()
  })

  it('replaces a form’s field errors on the next failure and clears them on demand', () => {
    const ui = useUiStore()
    ui.setFieldErrors('patient', { phone: 'bad' })
    ui.setFieldErrors('booking', { start: 'taken' })
    ui.fail(new ApiError({ status: 409, title: 'Conflict', detail: 'x', code: null, errors: {} }), 'patient')
    expect(ui.fieldError('patient', 'phone')).toBeUndefined()
    expect(ui.fieldError('booking', 'start')).toBe('taken')
    ui.clearFieldErrors('booking')
    expect(ui.fieldErrors).toEqual({ patient: {} })
  })

  it('fail() without a form only toasts; a plain Error shows its message', () => {
    const ui = useUiStore()
    ui.fail(new Error('boom'))
    expect(ui.toasts[0]?.text).toBe('boom')
    expect(ui.fieldErrors).toEqual({})
  })
})

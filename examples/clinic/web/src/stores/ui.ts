/**
 * uiStore: the spinner (a counter of requests in flight, so overlapping requests keep it on
 * until the last ends), toasts (a problem's `detail`), and field errors keyed by form name so
 * each input can show the message the API gave for it.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { toProblem, type Problem } from '../api/http'

export type ToastKind = 'error' | 'success' | 'info'

export interface Toast {
  id: number
  kind: ToastKind
  title: string
  text: string
}

/** How long a toast stays unless dismissed. */
export const TOAST_MS = 6000

export const useUiStore = defineStore('ui', () => {
  const pending = ref(0)
  const busy = computed(() => pending.value > 0)
  const toasts = ref<Toast[]>([])
  const fieldErrors = ref<Record<string, Record<string, string>>>({})
  let nextId = 1

  function begin(): void {
    pending.value += 1
  }

  function end(): void {
    pending.value = Math.max(0, pending.value - 1)
  }

  function dismiss(id: number): void {
    toasts.value = toasts.value.filter((t) => t.id !== id)
  }

  function toast(kind: ToastKind, text: string, title = '', ms = TOAST_MS): number {
    const id = nextId++
    toasts.value.push({ id, kind, title, text })
    if (ms > 0) setTimeout(() => dismiss(id), ms)
    return id
  }

  function setFieldErrors(form: string, errors: Record<string, string>): void {
    fieldErrors.value = { ...fieldErrors.value, [form]: { ...errors } }
  }

  function clearFieldErrors(form: string): void {
    const { [form]: _removed, ...rest } = fieldErrors.value
    fieldErrors.value = rest
  }

  /** The API's message for one field of a form, if any. */
  function fieldError(form: string, field: string): string | undefined {
    return fieldErrors.value[form]?.[field]
  }

  /**
   * Shows a failed call: its field errors on the form (replacing the previous ones) and its
   * detail as a toast. Returns the problem so a screen can also show it inline.
   */
  function fail(err: unknown, form?: string): Problem {
    const problem = toProblem(err)
    if (form) setFieldErrors(form, problem.errors)
    toast('error', problem.detail, problem.title)
    return problem
  }

  return {
    pending,
    busy,
    toasts,
    fieldErrors,
    begin,
    end,
    toast,
    dismiss,
    setFieldErrors,
    clearFieldErrors,
    fieldError,
    fail,
  }
})

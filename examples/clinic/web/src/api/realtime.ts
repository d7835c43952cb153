/**
 * Live events over SSE. EventSource cannot send an Authorization header, so each connection
 * first buys a short-lived ticket with the Bearer token (POST /api/realtime/ticket). A ticket
 * is assumed single-use: on an error the source is closed and a new ticket is fetched, with a
 * growing delay, instead of letting EventSource reconnect with the spent one.
 */
import { onBeforeUnmount, onMounted, ref } from 'vue'
import { api } from './clinic'
import type { RealtimeEvent, RealtimeEventName } from './types'

export const EVENT_NAMES: RealtimeEventName[] = [
  'appointment.booked',
  'appointment.changed',
  'appointment.checked_in',
  'payment.recorded',
]

/** Connects while the calling component is mounted; `connected` drives the "live" badge. */
export function useLiveEvents(onEvent: (name: RealtimeEventName, data: RealtimeEvent) => void) {
  const connected = ref(false)
  let source: EventSource | null = null
  let timer: ReturnType<typeof setTimeout> | undefined
  let delay = 1000
  let stopped = false

  async function connect(): Promise<void> {
    if (stopped) return
    try {
      const { ticket } = await api.realtimeTicket()
      if (stopped) return
      source = new EventSource(`${import.meta.env.VITE_API_BASE ?? ''}/api/events?ticket=${encodeURIComponent(ticket)}`, {
        withCredentials: true,
      })
      source.onopen = () => {
        connected.value = true
        delay = 1000
      }
      source.onerror = () => {
        connected.value = false
        source?.close()
        retry()
      }
      for (const name of EVENT_NAMES) {
        source.addEventListener(name, (e) => {
          try {
            onEvent(name, JSON.parse((e as MessageEvent<string>).data) as RealtimeEvent)
          } catch {
            // A malformed event is skipped; the next reload shows the truth anyway.
          }
        })
      }
    } catch {
      retry()
    }
  }

  function retry(): void {
    if (stopped) return
    clearTimeout(timer)
    timer = setTimeout(connect, delay)
    delay = Math.min(delay * 2, 30000)
  }

  onMounted(connect)
  onBeforeUnmount(() => {
    stopped = true
    clearTimeout(timer)
    source?.close()
  })
  return { connected }
}

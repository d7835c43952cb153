import type { AppointmentStatus } from '../api/types'

/** How the screens name an appointment's status. */
export const statusLabel: Record<AppointmentStatus, string> = {
  booked: 'Booked',
  checked_in: 'Checked in',
  completed: 'Completed',
  cancelled: 'Cancelled',
  no_show: 'No-show',
}

/**
 * The clinic API's types, written by hand from the shared contract (issue 16) while the API
 * is being built. Once it serves /openapi.json, `npm run gen:api` writes `schema.d.ts` with
 * openapi-typescript and these become aliases of its `components["schemas"]`, so the
 * contract cannot drift. Money is integer KRW; times are RFC 3339 UTC strings.
 */

export type Role = 'admin' | 'dentist' | 'receptionist'

/** `POST /auth/login` and `POST /auth/refresh` body. */
export interface TokenOut {
  access_token: string
  token_type: 'bearer'
  expires_in: number
  csrf_token: string
}

/** `GET /me`: `roles` also holds `user`, which every account has. */
export interface Me {
  id: string
  email: string
  roles: string[]
}

export interface Clinic {
  name: string
  timezone: string
  chairs: number[]
}

export interface Staff {
  id: string
  name: string
  email: string
  role: Role
}

export interface NewStaff {
  email: string
  name: string
  role: Role
  password: string
}

export interface Patient {
  id: string
  name: string
  phone: string
  /** YYYY-MM-DD */
  birth_date: string
  memo: string | null
  archived: boolean
}

export interface NewPatient {
  name: string
  phone: string
  birth_date: string
  memo?: string
}

export interface Page<T> {
  data: T[]
  page: { next_cursor: string | null }
}

export interface Procedure {
  id: string
  code: string
  name: string
  fee_krw: number
  duration_min: number
  active: boolean
}

export type NewProcedure = Omit<Procedure, 'id'>

export interface Ref {
  id: string
  name: string
}

export type AppointmentStatus = 'booked' | 'checked_in' | 'completed' | 'cancelled' | 'no_show'

export interface Appointment {
  id: string
  patient: Ref
  dentist: Ref
  chair: number
  start: string
  end: string
  status: AppointmentStatus
  procedures: { id: string; code: string; name: string }[]
}

export interface NewAppointment {
  patient_id: string
  dentist_id: string
  chair: number
  start: string
  procedure_ids: string[]
}

export interface NewTreatment {
  procedure_id: string
  /** FDI tooth numbers, 11–48. */
  teeth: number[]
  notes: string
}

export interface ChartEntry {
  id: string
  appointment_id: string
  date: string
  procedure: { code: string; name: string }
  teeth: number[]
  notes: string
  dentist: Ref
}

export type PaymentMethod = 'card' | 'cash' | 'transfer'

export interface InvoiceLine {
  code: string
  name: string
  fee_krw: number
  teeth: number[]
}

export interface PaymentEntry {
  id: string
  amount_krw: number
  method: PaymentMethod
  at: string
  kind: 'payment' | 'refund'
}

export interface Invoice {
  id: string
  patient: Ref
  appointment_id: string
  issued_at: string
  lines: InvoiceLine[]
  subtotal_krw: number
  discount_krw: number
  total_krw: number
  paid_krw: number
  refunded_krw: number
  balance_krw: number
  payments: PaymentEntry[]
}

export interface NewPayment {
  amount_krw: number
  method: PaymentMethod
}

export interface NewRefund {
  amount_krw: number
  reason: string
}

export type RealtimeEventName =
  | 'appointment.booked'
  | 'appointment.changed'
  | 'appointment.checked_in'
  | 'payment.recorded'

/** An SSE event's data: the contract fixes only `id`; the rest is a short summary. */
export interface RealtimeEvent {
  id: string
  [key: string]: unknown
}

/** application/problem+json as every kit service writes it. */
export interface ProblemJson {
  type?: string
  title?: string
  status?: number
  detail?: string
  code?: string
  errors?: { field: string; code?: string; message: string }[]
}

/** `GET /api/reports/daily` (admin). `payments` and `refunds` are counts or sums: the contract does not say; shown as given. */
export interface DailyReport {
  date: string
  revenue_krw: number
  payments: number
  refunds: number
}

/** One row of `GET /api/reports/production` (admin). */
export interface ProductionRow {
  dentist: Ref
  total_krw: number
  treatments: number
}

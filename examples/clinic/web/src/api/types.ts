/**
 * The clinic API's types: aliases of `schema.d.ts`, which `npm run gen:api` generates with
 * openapi-typescript from the API's own OpenAPI document (`cargo run --example clinic --
 * openapi`), so the app and the API cannot drift (`npm run check:api` fails when the
 * committed file is out of date). Nothing here restates a shape by hand except what the
 * document does not describe (the SSE events' data). Money is integer KRW; times are
 * RFC 3339 UTC strings.
 */
import type { components, operations } from './schema'

type Schemas = components['schemas']

export type TokenOut = Schemas['TokenOut']
/** `GET /me`: `roles` also holds `user`, which every account has. */
export type Me = Schemas['UserOut']

export type Clinic = Schemas['ClinicSettings']

export type Staff = Schemas['StaffOut']
export type NewStaff = Schemas['NewStaff']
export type Role = Staff['role']

export type Patient = Schemas['PatientOut']
export type NewPatient = Schemas['NewPatient']
export type PatientPatch = Schemas['PatientPatch']
export type PatientPage = Schemas['PatientPage']
/** `GET /api/patients`' query: `q`, `phone_last4`, `include_archived`, `limit`, `cursor`. */
export type PatientQuery = NonNullable<operations['list_patients']['parameters']['query']>

export type Procedure = Schemas['ProcedureOut']
export type NewProcedure = Schemas['NewProcedure']
export type ProcedurePatch = Schemas['ProcedurePatch']

export type Appointment = Schemas['AppointmentOut']
export type AppointmentStatus = Appointment['status']
export type NewAppointment = Schemas['NewAppointment']
/** `GET /api/appointments`' query: a range (`from`, `to`), a dentist, a chair or a patient. */
export type AppointmentQuery = NonNullable<operations['list_appointments']['parameters']['query']>

export type NewTreatment = Schemas['NewTreatment']
export type ChartEntry = Schemas['ChartEntry']

export type Invoice = Schemas['InvoiceOut']
export type InvoiceLine = Schemas['InvoiceLine']
export type PaymentEntry = Schemas['PaymentOut']
export type PaymentMethod = PaymentEntry['method']
export type NewPayment = Schemas['NewPayment']
export type NewRefund = Schemas['NewRefund']

export type Ticket = Schemas['TicketOut']

export type DailyReport = Schemas['DailyReport']
/** One row of `GET /api/reports/production`. */
export type ProductionRow = Schemas['Production']

/**
 * application/problem+json as the API writes it. Every field is optional here: the app also
 * meets errors that are not the API's (a proxy's 502 page, no answer at all).
 */
export type ProblemJson = Partial<Schemas['Problem']>

/** The SSE event names (`event:` lines; see the API's CONTRACT.md). */
export type RealtimeEventName =
  | 'appointment.booked'
  | 'appointment.changed'
  | 'appointment.checked_in'
  | 'payment.recorded'

/**
 * An SSE event's data. The document does not describe the stream's events: appointment
 * events carry an Appointment, `payment.recorded` a payment summary; both have an `id`.
 */
export interface RealtimeEvent {
  id: string
  [key: string]: unknown
}

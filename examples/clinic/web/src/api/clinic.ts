/** Typed calls of the clinic API (types.ts: aliases of the types generated from its document). */
import { http } from './http'
import type {
  Appointment,
  AppointmentQuery,
  AppointmentStatus,
  ChartEntry,
  Clinic,
  DailyReport,
  Invoice,
  NewAppointment,
  NewPatient,
  NewPayment,
  NewProcedure,
  NewRefund,
  NewStaff,
  NewTreatment,
  Patient,
  PatientPage,
  PatientPatch,
  PatientQuery,
  Procedure,
  ProcedurePatch,
  ProductionRow,
  Staff,
  Ticket,
} from './types'

const data = <T>(p: Promise<{ data: T }>) => p.then((r) => r.data)

export const api = {
  clinic: () => data(http.get<Clinic>('/api/clinic')),
  staff: () => data(http.get<Staff[]>('/api/staff')),
  createStaff: (body: NewStaff) => data(http.post<Staff>('/api/staff', body)),

  searchPatients: (params: PatientQuery) => data(http.get<PatientPage>('/api/patients', { params })),
  patient: (id: string) => data(http.get<Patient>(`/api/patients/${encodeURIComponent(id)}`)),
  createPatient: (body: NewPatient) => data(http.post<Patient>('/api/patients', body)),
  updatePatient: (id: string, body: PatientPatch) =>
    data(http.patch<Patient>(`/api/patients/${encodeURIComponent(id)}`, body)),
  archivePatient: (id: string) => http.post(`/api/patients/${encodeURIComponent(id)}/archive`).then(() => undefined),
  chart: (patientId: string) => data(http.get<ChartEntry[]>(`/api/patients/${encodeURIComponent(patientId)}/chart`)),
  patientInvoices: (patientId: string) =>
    data(http.get<Invoice[]>(`/api/patients/${encodeURIComponent(patientId)}/invoices`)),

  procedures: () => data(http.get<Procedure[]>('/api/procedures')),
  createProcedure: (body: NewProcedure) => data(http.post<Procedure>('/api/procedures', body)),
  updateProcedure: (id: string, body: ProcedurePatch) =>
    data(http.patch<Procedure>(`/api/procedures/${encodeURIComponent(id)}`, body)),

  /** The calendar (`from`, `to`, a dentist or a chair), or a patient's history (`patient_id`). */
  appointments: (params: AppointmentQuery) => data(http.get<Appointment[]>('/api/appointments', { params })),
  book: (body: NewAppointment) => data(http.post<Appointment>('/api/appointments', body)),
  setStatus: (id: string, status: AppointmentStatus) =>
    data(http.post<Appointment>(`/api/appointments/${encodeURIComponent(id)}/status`, { status })),
  recordTreatment: (appointmentId: string, body: NewTreatment) =>
    data(http.post<ChartEntry>(`/api/appointments/${encodeURIComponent(appointmentId)}/treatments`, body)),

  createInvoice: (appointment_id: string, discount_krw: number) =>
    data(http.post<Invoice>('/api/invoices', { appointment_id, discount_krw })),
  invoice: (id: string) => data(http.get<Invoice>(`/api/invoices/${encodeURIComponent(id)}`)),
  pay: (id: string, body: NewPayment, idempotencyKey: string) =>
    data(http.post<Invoice>(`/api/invoices/${encodeURIComponent(id)}/payments`, body, {
      headers: { 'Idempotency-Key': idempotencyKey },
    })),
  refund: (id: string, body: NewRefund) =>
    data(http.post<Invoice>(`/api/invoices/${encodeURIComponent(id)}/refunds`, body)),

  dailyReport: (date: string) => data(http.get<DailyReport>('/api/reports/daily', { params: { date } })),
  /** `from` and `to` are clinic days, `YYYY-MM-DD`, both included. */
  production: (from: string, to: string) =>
    data(http.get<ProductionRow[]>('/api/reports/production', { params: { from, to } })),

  realtimeTicket: () => data(http.post<Ticket>('/api/realtime/ticket')),
}

/** The clinic's settings, staff and procedure catalogue: loaded once per session. */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api } from '../api/clinic'
import type { Clinic, Procedure, Staff } from '../api/types'
import { zoneFormatters } from '../lib/format'

export const useClinicStore = defineStore('clinic', () => {
  const clinic = ref<Clinic | null>(null)
  const staff = ref<Staff[]>([])
  const procedures = ref<Procedure[]>([])
  let loading: Promise<void> | null = null

  const timezone = computed(() => clinic.value?.timezone ?? 'Asia/Seoul')
  const fmt = computed(() => zoneFormatters(timezone.value))
  const dentists = computed(() => staff.value.filter((s) => s.role === 'dentist'))
  const activeProcedures = computed(() => procedures.value.filter((p) => p.active))

  function load(force = false): Promise<void> {
    if (force) loading = null
    loading ??= Promise.all([api.clinic(), api.staff(), api.procedures()])
      .then(([c, s, p]) => {
        clinic.value = c
        staff.value = s
        procedures.value = p
      })
      .catch((err: unknown) => {
        loading = null
        throw err
      })
    return loading
  }

  function reset(): void {
    loading = null
    clinic.value = null
    staff.value = []
    procedures.value = []
  }

  return { clinic, staff, procedures, timezone, fmt, dentists, activeProcedures, load, reset }
})

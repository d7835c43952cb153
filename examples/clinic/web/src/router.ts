/** Routes with role guards; `meta.roles` lists who may open a screen (any staff when absent). */
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import type { Role } from './api/types'
import { useAuthStore } from './stores/auth'
import { useUiStore } from './stores/ui'

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    roles?: Role[]
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
  { path: '/', name: 'dashboard', component: () => import('./views/DashboardView.vue') },
  { path: '/calendar', name: 'calendar', component: () => import('./views/CalendarView.vue') },
  {
    path: '/patients',
    name: 'patients',
    component: () => import('./views/PatientsView.vue'),
    meta: { roles: ['receptionist', 'dentist', 'admin'] },
  },
  {
    path: '/patients/:id',
    name: 'patient',
    component: () => import('./views/PatientView.vue'),
    meta: { roles: ['receptionist', 'dentist', 'admin'] },
  },
  {
    path: '/invoices/:id',
    name: 'invoice',
    component: () => import('./views/InvoiceView.vue'),
    meta: { roles: ['receptionist', 'dentist', 'admin'] },
  },
  { path: '/admin/staff', name: 'staff', component: () => import('./views/StaffView.vue'), meta: { roles: ['admin'] } },
  {
    path: '/admin/procedures',
    name: 'procedures',
    component: () => import('./views/ProceduresView.vue'),
    meta: { roles: ['admin'] },
  },
  { path: '/admin/reports', name: 'reports', component: () => import('./views/ReportsView.vue'), meta: { roles: ['admin'] } },
  { path: '/:rest(.*)*', redirect: '/' },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  const auth = useAuthStore()
  if (!auth.isAuthenticated && !(await auth.restore())) {
    return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
  }
  if (to.meta.roles && !auth.hasRole(...to.meta.roles)) {
    useUiStore().toast('error', 'Your role cannot open this screen.', 'Forbidden')
    return { name: 'dashboard' }
  }
  return true
})

/// <reference types="vitest/config" />
import { defineConfig, loadEnv } from 'vite'
import vue from '@vitejs/plugin-vue'
import tailwindcss from '@tailwindcss/vite'

// The dev server proxies the API so that the app, the refresh cookie (Path=/auth) and the
// readable csrf_token cookie share one origin, as they do behind nginx in production.
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, process.cwd(), '')
  const api = env.CLINIC_API_URL || 'http://127.0.0.1:3000'
  const proxy = { target: api, changeOrigin: false }
  return {
    plugins: [vue(), tailwindcss()],
    server: {
      port: 5173,
      strictPort: true,
      proxy: { '/api': proxy, '/auth': proxy, '/me': proxy },
    },
    test: {
      environment: 'happy-dom',
      include: ['tests/**/*.test.ts'],
    },
  }
})

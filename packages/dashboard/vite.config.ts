import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// In development the dashboard runs on Vite's server and the API on :3000; proxying keeps them same-origin,
// so the better-auth session cookie works without CORS. In production the API serves dist/ itself.
const api = process.env.SWITCHBOARD_API_URL ?? 'http://localhost:3000';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  server: {
    proxy: {
      '/api': api,
      '/openapi.json': api,
      '/codec': api,
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
});

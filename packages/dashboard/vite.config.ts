import react from '@vitejs/plugin-react';
import { defineConfig, type ProxyOptions } from 'vite';

// In development the dashboard runs on Vite's server and the API on :3000; proxying keeps them same-origin,
// so the better-auth session cookie works without CORS. In production the API serves dist/ itself.
const api = process.env.SWITCHBOARD_API_URL ?? 'http://localhost:3000';

const toApi: ProxyOptions = {
  target: api,
  changeOrigin: true,
  configure: (proxy) => {
    proxy.on('proxyReq', (proxyReq, incoming) => {
      // The API accepts cookie-authenticated writes only from its own origin (CSRF defence). A request the
      // dashboard makes from this dev server's own page stands in for that origin; any other origin is
      // passed on unchanged, so the API still rejects it.
      if (incoming.headers.origin === `http://${incoming.headers.host}`)
        proxyReq.setHeader('origin', new URL(api).origin);
    });
  },
};

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  server: {
    proxy: {
      '/api': toApi,
      '/openapi.json': toApi,
      '/codec': toApi,
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
});

# One image for the API and the worker (the command differs). Node 24 runs the TypeScript sources directly.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/database/package.json packages/database/
COPY packages/dashboard/package.json packages/dashboard/
RUN npm ci --no-audit --no-fund
COPY . .
RUN cd packages/dashboard && npx vite build

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
EXPOSE 3000
# V8 flags: worker/node-flags.ts (API_NODE_FLAGS)
CMD ["node", "--max-semi-space-size=2", "api/server.ts"]

# syntax=docker/dockerfile:1
# Switchboard: build with the dev toolchain, run on production dependencies only, as a non-root user.
# Node 24 LTS, the line CI tests the image's runtime on (.ci/node24 pins the same major).
ARG NODE_VERSION=24

# ---- build: every dependency, then the client (its browser bundle goes into the console) and
# src/ to dist/
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# client/ is an npm workspace: npm ci needs its package.json beside the lockfile.
COPY package.json package-lock.json ./
COPY client/package.json ./client/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY client ./client
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies and the compiled output, nothing else
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json ./client/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The official image's unprivileged user; the files above stay root-owned, so read-only to it.
USER node
EXPOSE 3000
# Liveness over HTTP with node itself: the slim image has no curl or wget.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]

# One image for every function: FUNCTION picks the one an instance serves (stack.yml sets it),
# plain HTTP on 8080, as OpenFaaS runs a `dockerfile` function and deploy/functions.yaml runs it
# under Knative: GET /_/health (OpenFaaS), /health/readiness and /health/liveness (Knative).
#
#   docker build -t faas-admission .
#   docker run --rm -p 8080:8080 -e FUNCTION=node-selector faas-admission

# Compile the TypeScript sources to dist/ with the locked dependencies, dev ones included.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY shared ./shared
COPY functions ./functions
COPY runtimes ./runtimes
COPY cli ./cli
COPY scripts ./scripts
# tsc to dist/ (the CLI, cert-upkeep), then the servers bundled to dist/server/ (scripts/bundle.ts).
RUN npm run build

# Production dependencies only: no compiler, linter or test tools in the final image.
FROM node:24-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production \
    PORT=8080 \
    NODE_COMPILE_CACHE=/app/compile-cache
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir compile-cache && chown 1000:1000 compile-cache
# The image's unprivileged `node` user, by number so that Kubernetes' runAsNonRoot can check it.
USER 1000:1000
# Every chunk of the bundle compiled into Node's compile cache now, by the image's user and with
# the CMD's V8 flags (Node keys the cache by both): a new container compiles nothing at its start.
RUN node --max-semi-space-size=1 --no-maglev dist/server/compile-cache.mjs
EXPOSE 8080
# No HEALTHCHECK: OpenFaaS and Kubernetes probe the health paths themselves.
# dist/server/image.mjs: FUNCTION's function on Node's HTTP server (runtimes/image.ts). A 1 MB
# young generation and no Maglev tier (its compilations leave memory freed but not returned)
# keep the process near 80 MB under load instead of 100-120 MB (docs/knative.md); npm start
# runs with the same flags.
CMD ["node", "--max-semi-space-size=1", "--no-maglev", "dist/server/image.mjs"]

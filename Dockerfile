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
RUN npm run build

# Production dependencies only: no compiler, linter or test tools in the final image.
FROM node:24-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production \
    PORT=8080
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The image's unprivileged `node` user, by number so that Kubernetes' runAsNonRoot can check it.
USER 1000:1000
EXPOSE 8080
# No HEALTHCHECK: OpenFaaS and Kubernetes probe the health paths themselves.
# The young generation capped at 8 MB: left to grow under load it holds 100 MB and more of
# mostly empty heap (docs/bench.md).
CMD ["node", "--enable-source-maps", "--max-semi-space-size=8", "dist/runtimes/openfaas.js"]

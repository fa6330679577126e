# syntax=docker/dockerfile:1
#
# docker build -t nest-gateway .
# docker run --rm -p 8080:8080 -v "$PWD/my-gateway.yaml:/app/config/gateway.yaml:ro" nest-gateway
#
# Build stage: install everything, compile TypeScript, then drop the dev dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/copy-assets.js ./scripts/
# The gateway alone: `npm run build` also compiles examples/, which the image leaves out.
RUN npx tsc -p tsconfig.build.json && node scripts/copy-assets.js && npm prune --omit=dev && npm cache clean --force

# Runtime stage: production dependencies, the compiled gateway and the default config only.
FROM node:24-bookworm-slim
# GATEWAY_HOST and GATEWAY_PORT keep their defaults (0.0.0.0, 8080), so PORT=... still works.
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only for the process: the gateway never writes to its own files.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The demo config and the digests of its demo API keys; mount your own over them, or point
# GATEWAY_CONFIG elsewhere. Plugins of your own: copy their compiled modules in and name them
# in GATEWAY_PLUGINS (docs/plugins.md "Write your own plugin").
COPY config/gateway.yaml config/api-keys.yaml ./config/
# The unprivileged user that ships with the official Node images (uid 1000).
USER node
EXPOSE 8080
# No curl in slim images: Node does the probe. Assumes the default managementPrefix (/_gateway).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "const r=require('node:http').get({host:'127.0.0.1',port:process.env.GATEWAY_PORT||process.env.PORT||8080,path:'/_gateway/health/live',timeout:2000},(s)=>process.exit(s.statusCode===200?0:1));r.on('timeout',()=>r.destroy(new Error('timeout')));r.on('error',()=>process.exit(1));"]
# SIGTERM (docker stop) makes the gateway close its server and exit.
STOPSIGNAL SIGTERM
# A 16 MiB young generation (docs/operations.md "Running in production"): Node 24 would grow it to 64 MiB.
CMD ["node", "--max-semi-space-size=16", "dist/main.js"]

# One image for every command: `aegir-operator controller`, `aegir-operator webhook`, ...
# Node 24 runs the TypeScript sources directly (type stripping), so there is no build stage
# beyond installing production dependencies.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY controller ./controller
COPY common ./common
COPY crds ./crds
COPY reconcilers ./reconcilers
COPY webhook ./webhook
USER node
# `controller` re-executes itself in place with its V8 heap flags (controller/node-flags.ts), so
# the image, the chart and a plain `node controller/bin.ts controller` all run the same heap.
ENTRYPOINT ["node", "controller/bin.ts"]
CMD ["help"]

# credwarden worker image. Build: docker build -t credwarden .
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY jobs ./jobs
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The dashboard's stylesheet and script, served by `credwarden serve` as they are.
COPY --from=build /app/src/web/assets ./src/web/assets
COPY package.json ./
# The default policy packs (used when the config names no policies).
COPY policies ./policies
# The audit mirror's volume: a named volume takes this directory's owner on first mount.
RUN mkdir -p /var/lib/credwarden && chown node:node /var/lib/credwarden
USER node
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["worker"]

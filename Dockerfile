# Gatehouse in a container: built from this repository, run as an unprivileged user.
#   docker build -t gatehouse .
#   docker run -p 4280:4280 -v gatehouse-data:/var/lib/gatehouse gatehouse
# docs/deploy.md: configuration, TLS in front, several processes on one PostgreSQL.

# Build: compile the native SQLite addon, the server and the web page; then drop dev dependencies.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && npm rebuild better-sqlite3
COPY tsconfig*.json ./
COPY bin ./bin
COPY src ./src
COPY web ./web
COPY api ./api
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# Run: only what `gatehouse start` needs, owned by root and read-only to the server's user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    GATEHOUSE_HOST=0.0.0.0 \
    GATEHOUSE_PORT=4280 \
    GATEHOUSE_DATA_DIR=/var/lib/gatehouse \
    GATEHOUSE_LOG_FORMAT=json
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
RUN mkdir -p /var/lib/gatehouse && chown node:node /var/lib/gatehouse && chmod 0700 /var/lib/gatehouse
USER node
VOLUME ["/var/lib/gatehouse"]
EXPOSE 4280
# Ready: the database answers and its schema is this build's (GET /api/ready).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:4280/api/ready').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The server itself as PID 1's child of node: SIGTERM reaches it (not through npm).
ENTRYPOINT ["node", "bin/gatehouse.js"]
CMD ["start"]

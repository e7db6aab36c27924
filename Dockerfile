# Dockerfile: Drover's control plane image (API + dashboard). Node 24 runs the TypeScript sources natively (type
# stripping), so there is no compile step for the server; only the dashboard is built (SvelteKit static build).
# Built on a lab node by ansible (roles/drover/tasks/build.yml) or by your CI:  docker build -t drover:<tag> .

# ---- build: full install (dev dependencies included) and the dashboard build
FROM node:24-bookworm-slim AS build
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY . .
RUN npm ci \
 && npm run build -w web --if-present

# ---- runtime: production dependencies, the sources and the built dashboard, run as the unprivileged node user
FROM node:24-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    DROVER_PORT=3000 \
    DROVER_DATA_DIR=/var/lib/drover \
    npm_config_update_notifier=false
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/scheduler ./scheduler
COPY --from=build /app/server ./server
COPY --from=build /app/cli ./cli
COPY --from=build /app/web ./web
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p /var/lib/drover \
 && chown node:node /var/lib/drover
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.DROVER_PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "server/src/main.ts"]

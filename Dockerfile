FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json .nvmrc tsconfig.json ./
COPY apps ./apps
COPY libs ./libs
COPY migrations ./migrations
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund && npm run build:console && npm cache clean --force
# The server runs as the unprivileged `node` user, which owns its data directory: a named volume mounted on
# /data starts with this ownership, so the server can write its master key, setup code and embedded database.
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
ENV ENCLAVE_DATA_DIR=/data NODE_ENV=production
VOLUME ["/data"]
USER node
EXPOSE 8443 4222/udp
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=5 CMD ["node", "scripts/healthcheck.cjs", "server"]
CMD ["npm", "start"]

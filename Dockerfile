FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json .nvmrc tsconfig.json ./
COPY apps ./apps
COPY libs ./libs
COPY migrations ./migrations
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund && npm run build:console && npm cache clean --force
USER node
EXPOSE 8443 4222/udp
CMD ["npm", "start"]

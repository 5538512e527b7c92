# syntax=docker/dockerfile:1
# tap-scarf as an Airbyte source image (also usable as a Singer tap: same CLI).
# The steps mirror .ci/run: the same Node major (20, package.json engines), `npm ci` and
# `npm run build` to compile, then a runtime stage holding only the built output and the
# production dependencies (`npm ci --omit=dev`).
#
#   docker build -t ghcr.io/tap-scarf/source-scarf:0.5.0 .
#   docker run --rm ghcr.io/tap-scarf/source-scarf:0.5.0 spec
#   docker run --rm -e SCARF_API_TOKEN -e SCARF_ENTITY_NAME -e PSQL_CONN_STRING ghcr.io/tap-scarf/source-scarf:0.5.0 load

FROM node:20-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds, and the sources are not copied in yet.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:20-slim AS runtime
ENV NODE_ENV=production
# Airbyte's convention for where a connector's code lives; AIRBYTE_ENTRYPOINT points into it.
WORKDIR /airbyte/integration_code
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# Only what runs: compiled src (not sim/test/bench), the bins, and the runtime JSON that
# src/paths.ts reads from the package root.
COPY --from=build /build/dist/src ./dist/src
COPY --from=build /build/bin ./bin
COPY --from=build /build/schemas ./schemas
COPY --from=build /build/spec.json /build/catalog.json ./
# The connector needs no write access anywhere: run it as the image's unprivileged user.
USER node
# Airbyte on Kubernetes starts the container with its own command and reads the real one
# from AIRBYTE_ENTRYPOINT, so it must be exactly the ENTRYPOINT below.
# The node flags are those of bin/source-scarf.js's #! line (test/packaging/docker.test.ts checks).
ENV AIRBYTE_ENTRYPOINT="node --max-semi-space-size=4 /airbyte/integration_code/bin/source-scarf.js"
ENTRYPOINT ["node", "--max-semi-space-size=4", "/airbyte/integration_code/bin/source-scarf.js"]
LABEL io.airbyte.name="ghcr.io/tap-scarf/source-scarf" \
      io.airbyte.version="0.5.0" \
      org.opencontainers.image.source="https://github.com/tap-scarf/tap-scarf" \
      org.opencontainers.image.licenses="Apache-2.0"

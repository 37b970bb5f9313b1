# auditrelay as a drop-in for the fluentd container of Teleport's guides:
#   docker run -v $(pwd):/keys -v $(pwd)/conf:/fluentd/etc -p 8888:8888 auditrelay
# Reads /fluentd/etc/$FLUENTD_CONF like fluent/fluentd's entrypoint; a `command:`
# that starts with `fluentd` (as compose files for that image do) works unchanged.
FROM node:24-bookworm-slim
WORKDIR /opt/auditrelay
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY conf ./conf
ENV FLUENTD_CONF=fluent.conf
RUN mkdir -p /fluentd/etc /var/log/fluent && chown node:node /var/log/fluent
USER node
EXPOSE 8888
ENTRYPOINT ["/opt/auditrelay/bin/auditrelay"]

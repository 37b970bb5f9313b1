# auditrelay as a drop-in for the fluent/fluentd container of Teleport's guides:
#   docker run -u $(id -u) -v $(pwd):/keys -v $(pwd)/conf:/fluentd/etc -p 8888:8888 auditrelay
#   docker run auditrelay auditrelay-event-handler start --config /etc/teleport-event-handler.toml
# One Node only: the base image's. `--ignore-scripts` skips the npm `node`
# package's preinstall (it would download a second Node 24); bin/launch.sh then
# runs on the Node 24 on PATH. protobufjs's postinstall only prints a notice.
FROM node:24-bookworm-slim
WORKDIR /opt/auditrelay
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY conf ./conf
ENV FLUENTD_CONF=fluent.conf PATH=/opt/auditrelay/bin:$PATH
# Node's compile cache (bin/node-env) in the container's own /tmp: /opt/auditrelay is not
# writable by the runtime user, and a warm cache spares ~17 MB of RSS from the second start
# of a container on (the first start of a new container is cold).
ENV NODE_COMPILE_CACHE=/tmp/auditrelay-compile-cache
# Any uid (`-u $(id -u)`) can write the buffer: sticky, world-writable like /tmp.
RUN mkdir -p /fluentd/etc /fluentd/plugins /var/log/fluent && chmod 1777 /var/log/fluent
USER node
EXPOSE 8888
ENTRYPOINT ["/opt/auditrelay/bin/docker-entrypoint"]
CMD ["fluentd", "-c", "/fluentd/etc/fluent.conf"]

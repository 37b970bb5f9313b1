// The three text files `configure` writes, from upstream's v16 templates
// (docs/compatibility-event-handler.md §1.1 "Templates"; integrations/event-handler/tpl/*.tpl).
// Upstream renders them with text/template and no escaping; so do we, so a passphrase or path
// containing `"` breaks the file exactly as it would upstream.

/** tpl/teleport-event-handler-role.yaml.tpl as the 16.4.8 guide prints it (role version v5). */
export function renderRoleYaml(): string {
  return `kind: role
metadata:
  name: teleport-event-handler
spec:
  allow:
    rules:
      - resources: ['event', 'session']
        verbs: ['list','read']
version: v5
---
kind: user
metadata:
  name: teleport-event-handler
spec:
  roles: ['teleport-event-handler']
version: v2
`;
}

export interface TomlTemplateData {
  /** Joined path of the CA cert (out made absolute, as kong's existingdir does). */
  readonly caCertPath: string;
  readonly clientCertPath: string;
  readonly clientKeyPath: string;
  /** Teleport auth/proxy address, the `addr` positional. */
  readonly addr: string;
}

/** tpl/teleport-event-handler.toml.tpl, the v16 version (`/test.log`, `session-url`, refresh). */
export function renderToml(d: TomlTemplateData): string {
  return `storage = "./storage"
timeout = "10s"
batch = 20

[forward.fluentd]
ca = "${d.caCertPath}"
cert = "${d.clientCertPath}"
key = "${d.clientKeyPath}"
url = "https://localhost:8888/test.log"
session-url = "https://localhost:8888/session"

[teleport]
addr = "${d.addr}"
identity = "identity"
refresh.enabled = true
`;
}

export interface FluentConfTemplateData {
  readonly caCertFileName: string;
  readonly serverCertFileName: string;
  readonly serverKeyFileName: string;
  /** Binary string (one char per byte); the caller writes the file as latin1. */
  readonly passphrase: string;
}

/**
 * Upstream's `<source>` (tpl/fluent.conf.tpl, verbatim), then, instead of its two stdout matches,
 * the Panther guide's `<filter>`/`<match>` with the S3 settings as placeholders, and a
 * `<match session.**>`: session events are POSTed to `<session-url>.<sid>.log`, i.e. tag
 * `session.<sid>.log`, which the guide's `session.*` does not match (docs/compatibility.md tag matching).
 */
export function renderFluentConf(d: FluentConfTemplateData): string {
  return sourceSection(d) + GUIDE_SECTIONS;
}

/** tpl/fluent.conf.tpl's `<source>`, verbatim. */
function sourceSection(d: FluentConfTemplateData): string {
  return `<source>
    @type http
    port 8888

    <transport tls>
        client_cert_auth true
        ca_path "/keys/${d.caCertFileName}"
        cert_path "/keys/${d.serverCertFileName}"
        private_key_path "/keys/${d.serverKeyFileName}"
        private_key_passphrase "${d.passphrase}"
    </transport>

    <parse>
      @type json
      json_parser oj

      # This time format is used by Go marshaller
      time_type string
      time_format %Y-%m-%dT%H:%M:%S
    </parse>

    # If the number of events is high, fluentd will start failing the ingestion
    # with the following error message: buffer space has too many data errors.
    # The following configuration prevents data loss in case of a restart and
    # overcomes the limitations of the default fluentd buffer configuration.
    # This configuration is optional.
    # See https://docs.fluentd.org/configuration/buffer-section for more details.
    <buffer>
      @type file
      flush_thread_count 8
      flush_interval 1s
      chunk_limit_size 10M
      queue_limit_length 16
      retry_max_interval 30
      retry_forever true
    </buffer>
</source>
`;
}

/** The Panther guide's `<filter>`/`<match>` and our `<match session.**>`; nothing in them varies. */
const GUIDE_SECTIONS = `
# Everything below follows Teleport's "Export Teleport Audit Events to Panther" guide.
# The ca_path/cert_path/private_key_path above are the paths inside the guide's fluentd
# container (-v $(pwd):/keys); write the directory of these files when running elsewhere.

# Exactly once across restarts: the exporter may send an event again after a crash or a
# restart; an event whose uid was accepted within the window is answered 200 and dropped.
# path holds the journal of accepted uids (bounded by window and max_keys); keep it on the
# buffer's disk (it follows the buffer's fsync).
<filter test.log>
  @type dedup
  key uid
  path /var/log/fluent/dedup/test-log
  window 1h
</filter>

# Session recordings: the exporter resumes a recording at its last saved index, so that event
# (and, after a crash, a few more) can arrive twice; an event is its session id plus its index.
<filter session.**>
  @type dedup
  key sid,ei
  path /var/log/fluent/dedup/session
  window 1h
</filter>

<filter test.log>
  @type record_transformer
  enable_ruby true
  <record>
    time \${time.utc.strftime("%Y-%m-%dT%H:%M:%SZ")}
  </record>
</filter>

# PLACEHOLDERS: every REPLACE_* value below must be replaced before use.
#
# To try the pipeline without AWS, run the embedded S3 store (s3rver, installed with
# auditrelay):
#   npx s3rver -d ./s3-data --configure-bucket teleport-events
# and use these lines instead of the four aws_key_id/aws_sec_key/s3_bucket/s3_region lines:
#   aws_key_id S3RVER
#   aws_sec_key S3RVER
#   s3_bucket teleport-events
#   s3_region us-east-1
#   s3_endpoint http://127.0.0.1:4568
#   force_path_style true
<match test.log>
  @type s3
  aws_key_id  REPLACE_aws_access_key
  aws_sec_key  REPLACE_aws_secret_access_key
  s3_bucket  REPLACE_s3_bucket
  s3_region us-west-2
  path teleport/logs
  <buffer>
    @type file
    path /var/log/fluent/buffer/s3-events
    timekey 60
    timekey_wait 0
    timekey_use_utc true
    chunk_limit_size 256m
  </buffer>
  time_slice_format %Y%m%d%H%M%S
  <format>
    @type json
  </format>
</match>

# Session recordings arrive as session.<session-id>.log: session.** matches them, the
# guide's session.* would not.
<match session.**>
  @type stdout
</match>
`;

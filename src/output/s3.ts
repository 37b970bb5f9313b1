// out_s3: one buffer chunk → one S3 object, laid out exactly as
// fluent-plugin-s3 1.8.5 lays it out (docs/compatibility.md §9, §12, O5), without its
// duplicates (docs/compatibility.md "deliberately differs"): the key, index included, is
// decided once per chunk, persisted in the chunk before the first PUT and
// reused by every retry; indexes are reserved per plugin instance against
// concurrent flushes and written with `If-None-Match: *` against other
// processes and replicas.

import { Agent as HttpsAgent } from 'node:https';
import { HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ConfigElement } from '../params/element.ts';
import type { ParamSchema, ParamsOf } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import { ConfigError } from '../params/errors.ts';
import type { ChunkKeyInfo, ChunkSink, ChunkView } from '../plugin-api.ts';
import type { Formatter, PluginContext } from '../plugin-api.ts';
import { KeyTemplate } from './s3-key.ts';
import { timekeyToTimeFormat } from '../time/timekey-format.ts';
import { chooseCredentials } from './s3-credentials.ts';
import { isNotFound, ObjectUploader, storeAsTypes, type ObjectOptions, type StoreAs } from './s3-upload.ts';
import { S3OutputError } from './s3-errors.ts';
import { localZone, parseZone } from '../time/zone.ts';
import { runStartupChecks } from './s3-startup.ts';

const MiB = 1024 * 1024;
const DEFAULT_KEY_FORMAT = '%{path}%{time_slice}_%{index}.%{file_extension}';

export const params = {
  aws_key_id: { type: 'string', secret: true, desc: 'AWS access key id.' },
  aws_sec_key: { type: 'string', secret: true, desc: 'AWS secret key.' },
  aws_profile: { type: 'string', desc: 'Profile in the shared AWS config/credentials files.' },
  aws_credential_process: { type: 'string', desc: 'Command printing credentials (not supported yet).' },
  s3_bucket: { type: 'string', required: true, desc: 'Bucket that receives the objects.' },
  s3_region: { type: 'string', default: process.env.AWS_REGION ?? 'us-east-1', desc: 'Region (default ENV AWS_REGION or us-east-1).' },
  s3_endpoint: { type: 'string', desc: 'Endpoint of an S3-compatible service (MinIO, s3rver); not for AWS itself.' },
  force_path_style: {
    type: 'bool', default: false, desc: 'Keep the bucket in the URI path instead of the host name.',
    deprecated: 'S3 will drop path style API in 2020: See https://aws.amazon.com/blogs/aws/amazon-s3-path-deprecation-plan-the-rest-of-the-story/',
  },
  ssl_verify_peer: { type: 'bool', default: true, desc: 'Verify the endpoint TLS certificate.' },
  enable_transfer_acceleration: { type: 'bool', default: false, desc: 'Use the S3 Transfer Acceleration endpoint.' },
  enable_dual_stack: { type: 'bool', default: false, desc: 'Use the IPv4/IPv6 dual-stack endpoint.' },
  path: { type: 'string', default: '', desc: 'Key prefix; strftime and ${tag} placeholders allowed.' },
  s3_object_key_format: { type: 'string', default: DEFAULT_KEY_FORMAT, desc: 'Object key template.' },
  time_slice_format: { type: 'string', desc: '%{time_slice} format; unset = derived from timekey.' },
  index_format: { type: 'string', default: '%d', desc: '`sprintf` format of %{index}: %d, %0Nd, %x, %X.' },
  hex_random_length: { type: 'integer', default: 4, desc: 'Length of %{hex_random} (at most 16).' },
  store_as: { type: 'string', default: 'gzip', desc: 'Object encoding: gzip, json or text; sets the extension.' },
  check_object: { type: 'bool', default: true, desc: 'Probe for a free %{index} and write conditionally.' },
  check_bucket: { type: 'bool', default: true, desc: 'Check at start that the bucket exists.' },
  auto_create_bucket: { type: 'bool', default: true, desc: 'Create the bucket at start when it is missing.' },
  check_apikey_on_start: { type: 'bool', default: true, desc: 'Call ListObjects at start to test the credentials.' },
  overwrite: { type: 'bool', default: false, desc: 'Overwrite an existing key when the format has no %{index}.' },
  storage_class: { type: 'string', default: 'STANDARD', desc: 'Storage class (STANDARD, STANDARD_IA, …).' },
  acl: { type: 'string', desc: 'Canned ACL of the objects.' },
  grant_full_control: { type: 'string', desc: 'Grantees with READ, READ_ACP and WRITE_ACP.' },
  grant_read: { type: 'string', desc: 'Grantees allowed to read the objects.' },
  grant_read_acp: { type: 'string', desc: 'Grantees allowed to read the object ACL.' },
  grant_write_acp: { type: 'string', desc: 'Grantees allowed to write the object ACL.' },
  tagging: { type: 'string', desc: 'Object tag set, URL-query encoded (k1=v1&k2=v2).' },
  use_server_side_encryption: { type: 'string', desc: 'Server-side encryption: AES256 or aws:kms.' },
  ssekms_key_id: { type: 'string', secret: true, desc: 'KMS key id for aws:kms encryption.' },
  sse_customer_algorithm: { type: 'string', desc: 'SSE-C algorithm (AES256).' },
  sse_customer_key: { type: 'string', secret: true, desc: 'SSE-C key.' },
  sse_customer_key_md5: { type: 'string', secret: true, desc: 'MD5 of the SSE-C key.' },
  compute_checksums: { type: 'bool', desc: 'Request/response checksums: unset = SDK default.' },
  multipart_threshold: { type: 'size', default: 16 * MiB, desc: 'auditrelay: chunks this big or bigger stream via multipart upload.' },
  multipart_part_size: { type: 'size', default: 5 * MiB, desc: 'auditrelay: multipart part size (at least 5m).', minimum: 5 * MiB },
  multipart_queue_size: {
    type: 'integer', default: 2, minimum: 1,
    desc: 'auditrelay: parts uploaded in parallel; an upload holds queue_size + 1 part buffers (RSS +17 MiB at 2 against a slow store, +27 at 4).',
  },
} as const satisfies ParamSchema;

export type S3Params = ParamsOf<typeof params>;

// out_s3 can load these through extra gems (s3_compressor_*.rb); we cannot.
const EXTERNAL_COMPRESSORS = new Set(['lzo', 'lzma2', 'zstd', 'gzip_command', 'parquet']);
const REMOVED_PLACEHOLDERS = ['%{uuid}', '%{uuid:random}', '%{uuid:hostname}', '%{uuid:timestamp}'];
const MAX_HEX_RANDOM_LENGTH = 16;

export class S3Output implements ChunkSink {
  static readonly type = 's3';
  /** The BufferedOutput's defaults for <buffer> (out_s3.rb config_section :buffer). */
  static readonly bufferDefaults = { chunkKeys: ['time'], timekey: 86400 } as const;
  readonly bufferDefaults = S3Output.bufferDefaults;
  readonly formatter: Formatter;
  readonly params: S3Params;
  /** s3_object_key_format after its %{hostname}/%{uuid_flush} checks; the template is built in bind(). */
  readonly #keyFormat: string;
  #keyTemplate: KeyTemplate | undefined;
  readonly storeAs: StoreAs;
  readonly #ctx: PluginContext;
  readonly #where: (param: string) => string;
  readonly #clientConfig: S3ClientConfig;
  readonly #credentialSource: string;
  readonly #objectOptions: ObjectOptions;
  readonly #conditional: boolean;
  /** Keys held by chunks of this instance that are not uploaded yet. */
  readonly #reservedKeys = new Set<string>();
  #client: S3Client | undefined;
  #uploader: ObjectUploader | undefined;

  constructor(element: ConfigElement, ctx: PluginContext) {
    this.#ctx = ctx;
    this.#where = (param) => element.where(param);
    const warn = (m: string): void => ctx.log.warn(m);
    const p = configureParams(params, element, warn);
    this.params = p;
    const at = (key: string) => element.params.get(key)?.pos ?? element.pos;

    if (p.s3_endpoint && rejectS3Endpoint(p.s3_endpoint)) {
      throw new ConfigError('AR_CONF_BAD_VALUE', at('s3_endpoint'),
        's3_endpoint parameter is not supported for S3, use s3_region instead. This parameter is for S3 compatible services');
    }
    this.storeAs = pickStoreAs(p.store_as, at('store_as'), warn);
    this.formatter = ctx.createFormatter(element.sections('format')[0], 'out_file', element);
    if (p.hex_random_length > MAX_HEX_RANDOM_LENGTH) {
      throw new ConfigError('AR_CONF_BAD_VALUE', at('hex_random_length'),
        `hex_random_length parameter must be less than or equal to ${MAX_HEX_RANDOM_LENGTH}`);
    }
    if (!/^%(0\d*)?[dxX]$/.test(p.index_format)) {
      throw new ConfigError('AR_CONF_BAD_VALUE', at('index_format'),
        'index_format parameter should follow `%[flags][width]type`. `0` is the only supported flag, and is mandatory if width is specified. `d`, `x` and `X` are supported types');
    }


    const format = keyFormatOf(p, element, ctx.hostname, warn, ctx.workers ?? 1);
    this.#keyFormat = format;
    this.#conditional = p.check_object && !p.overwrite;
    this.#objectOptions = objectOptionsOf(p);

    const credentials = chooseCredentials(element, {
      awsKeyId: p.aws_key_id,
      awsSecKey: p.aws_sec_key,
      awsProfile: p.aws_profile,
      awsCredentialProcess: p.aws_credential_process,
      s3Region: p.s3_region,
    }, warn);
    this.#credentialSource = credentials.source;
    this.#clientConfig = clientConfigOf(p, credentials.provider);
  }

  /**
   * The buffer driving this output tells its chunk keys (ChunkSink.bind), as it does
   * for out_file: chunk keys, timekey and the zone time placeholders are printed in.
   */
  bind(keys: ChunkKeyInfo): void {
    const p = this.params;
    const timekey = keys.chunkKeyTime ? keys.timekey : undefined;
    this.#keyTemplate = new KeyTemplate({
      format: this.#keyFormat,
      path: p.path,
      extension: this.storeAs.extension,
      timeSliceFormat: p.time_slice_format ?? timekeyToTimeFormat(timekey),
      // O5 (observed on real Fluentd, which wins over the source reading):
      // the time slice is printed in the process's local zone even with
      // `timekey_use_utc true`; an explicit timekey_zone is honoured.
      zone: keys.timekeyZoneParam !== undefined ? parseZone(keys.timekeyZoneParam) : localZone(),
      indexFormat: p.index_format,
      hexRandomLength: p.hex_random_length,
      chunkKeyTime: keys.chunkKeyTime,
      chunkKeyTag: keys.chunkKeyTag,
      chunkKeys: keys.recordKeys,
      checkObject: p.check_object,
    });
  }

  get keyTemplate(): KeyTemplate {
    if (!this.#keyTemplate) throw new Error('BUG: S3Output.bind() was not called');
    return this.#keyTemplate;
  }

  async start(): Promise<void> {
    const p = this.params;
    const client = new S3Client(this.#clientConfig);
    this.#client = client;
    this.#uploader = new ObjectUploader({
      client,
      bucket: p.s3_bucket,
      storeAs: this.storeAs,
      objectOptions: this.#objectOptions,
      multipartThreshold: p.multipart_threshold,
      partSize: p.multipart_part_size,
      queueSize: p.multipart_queue_size,
    });
    this.#ctx.log.debug(`out_s3: credentials from ${this.#credentialSource}`);
    await runStartupChecks({
      client,
      bucket: p.s3_bucket,
      prefix: p.path,
      region: p.s3_region,
      endpoint: p.s3_endpoint,
      checkApiKey: p.check_apikey_on_start,
      checkBucket: p.check_bucket,
      autoCreateBucket: p.auto_create_bucket,
      where: this.#where,
      log: this.#ctx.log,
    });
  }

  async stop(): Promise<void> {
    this.#client?.destroy();
    this.#client = undefined;
    this.#uploader = undefined;
  }

  async write(chunk: ChunkView): Promise<string> {
    const uploader = this.#uploader;
    if (!uploader) throw new S3OutputError('AR_S3_NOT_STARTED', 'out_s3: write() before start()');
    const bucket = this.params.s3_bucket;
    let key = chunk.attribute('s3_key');
    let index = Number(chunk.attribute('s3_index') ?? '0');
    if (key === undefined) ({ key, index } = await this.#reserveKey(chunk, 0));
    else this.#reservedKeys.add(key); // resumed after a retry or a restart

    const log = this.#ctx.log;
    const began = performance.now();
    let objectBytes = chunk.byteSize;
    const sent = (n: number): void => {
      objectBytes = n;
    };
    if (log.isLevelEnabled('debug')) {
      log.debug(`out_s3: write chunk ${chunk.idHex} with metadata ${JSON.stringify(chunk.metadata)} to s3://${bucket}/${key}`);
    }
    for (;;) {
      const outcome = await uploader.upload(chunk, key, this.#conditional, sent);
      if (outcome === 'ours') log.info(`out_s3: s3://${bucket}/${key} already holds chunk ${chunk.idHex} (an earlier attempt succeeded)`);
      if (outcome !== 'taken') break;
      // Another process or replica won this key between our probe and PUT.
      this.#reservedKeys.delete(key);
      if (!this.keyTemplate.hasIndex) {
        throw new S3OutputError('AR_S3_DUPLICATED_PATH',
          `duplicated path is generated. use %{index} in s3_object_key_format: path = ${key}`);
      }
      log.info(`out_s3: s3://${bucket}/${key} was written by another writer; taking the next index`);
      ({ key, index } = await this.#reserveKey(chunk, index + 1));
    }
    this.#reservedKeys.delete(key);
    // One line per delivered object: what an operator greps for when a file is missing.
    const ms = Math.round(performance.now() - began);
    log.info({ bucket, key, events: chunk.recordCount, bytes: objectBytes, ms, chunk_id: chunk.idHex },
      `out_s3: uploaded s3://${bucket}/${key}: ${chunk.recordCount} events, ${objectBytes} bytes in ${ms} ms`);
    if (log.isLevelEnabled('debug')) {
      log.debug(`out_s3: completed to write chunk ${chunk.idHex} with metadata ${JSON.stringify(chunk.metadata)} to s3://${bucket}/${key}`);
    }
    return `s3://${bucket}/${key}`;
  }

  /**
   * Picks the first index from `from` whose key no chunk of this instance
   * holds and (check_object) HEAD says is free, as out_s3's probe loop does,
   * then persists it in the chunk before anything is uploaded. The key joins
   * #reservedKeys before the HEAD await so concurrent flushes skip it.
   */
  async #reserveKey(chunk: ChunkView, from: number): Promise<{ key: string; index: number }> {
    const template = this.keyTemplate;
    let index = from;
    let previous: string | undefined;
    let key: string;
    for (;;) {
      key = template.build(chunk, index);
      if (key === previous) {
        if (!this.params.overwrite) {
          throw new S3OutputError('AR_S3_DUPLICATED_PATH',
            `duplicated path is generated. use %{index} in s3_object_key_format: path = ${key}`);
        }
        this.#ctx.log.warn(`${key} already exists, but will overwrite`);
        break;
      }
      previous = key;
      if (!this.#reservedKeys.has(key)) {
        if (!this.params.check_object) break;
        this.#reservedKeys.add(key);
        let exists: boolean;
        try {
          exists = await this.#exists(key);
        } catch (err) {
          this.#reservedKeys.delete(key); // nothing holds it: the retry may take it again
          throw err;
        }
        if (!exists) break;
        this.#reservedKeys.delete(key);
      }
      index++;
    }
    this.#reservedKeys.add(key);
    await chunk.setAttribute('s3_index', String(index));
    await chunk.setAttribute('s3_key', key);
    return { key, index };
  }

  async #exists(key: string): Promise<boolean> {
    try {
      await this.#client!.send(new HeadObjectCommand({ Bucket: this.params.s3_bucket, Key: key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}

/** out_s3.rb reject_s3_endpoint?: AWS itself is reached through s3_region. */
function rejectS3Endpoint(endpoint: string): boolean {
  return !endpoint.endsWith('vpce.amazonaws.com') && endpoint.endsWith('amazonaws.com') &&
    !endpoint.includes('fips') && !endpoint.includes('gov');
}

function pickStoreAs(name: string, pos: ConfigElement['pos'], warn: (m: string) => void): StoreAs {
  const known = storeAsTypes[name];
  if (known) return known;
  if (EXTERNAL_COMPRESSORS.has(name)) {
    throw new ConfigError('AR_CONF_UNSUPPORTED', pos,
      `store_as ${name} is not supported (fluent-plugin-s3 needs an external command or gem for it); use gzip (default), json or text`);
  }
  // out_s3.rb configure: an unknown compressor falls back to text with a warning.
  warn(`'${name}' not supported. Use 'text' instead: error = Unknown s3_compressor_type plugin '${name}'`);
  return storeAsTypes.text;
}

/** The key template's format after out_s3.rb configure's checks and rewrites (removed placeholders, %{hostname}, check_object). */
function keyFormatOf(p: S3Params, element: ConfigElement, hostname: string, warn: (m: string) => void, workers: number): string {
  let format = p.s3_object_key_format;
  for (const ph of REMOVED_PLACEHOLDERS) {
    if (format.includes(ph)) {
      throw new ConfigError('AR_CONF_BAD_VALUE', element.params.get('s3_object_key_format')?.pos ?? element.pos,
        `${ph} placeholder in s3_object_key_format is removed; use %{uuid_flush}, %{hex_random} or \${chunk_id}`);
    }
  }
  if (format.includes('%{hostname}')) {
    warn('%{hostname} will be removed in the future. Use "#{Socket.gethostname}" instead');
    format = format.replaceAll('%{hostname}', hostname);
  }
  const formatGiven = element.params.has('s3_object_key_format');
  if (!p.check_object) {
    if (formatGiven) {
      warn("Set 'check_object false' and s3_object_key_format is specified. Check s3_object_key_format is unique in each write. If not, existing file will be overwritten.");
    } else {
      warn("Set 'check_object false' and s3_object_key_format is not specified. Use '%{path}/%{time_slice}_%{hms_slice}.%{file_extension}' for s3_object_key_format");
      format = '%{path}/%{time_slice}_%{hms_slice}.%{file_extension}';
    }
  }
  if (!formatGiven) {
    warn('The default value of s3_object_key_format will use ${chunk_id} instead of %{index} to avoid object conflict in v2');
  }
  // out_s3.rb check_s3_path_safety. Here %{index} keys do not collide anyway: the
  // reservation keeps a worker's flush threads apart, If-None-Match: * the workers.
  const threads = Number(element.elements.find((e) => e.name === 'buffer')?.params.get('flush_thread_count')?.value ?? '1');
  if ((threads > 1 || workers > 1) && !['${chunk_id}', '%{uuid_flush}', '%{hex_random}'].some((k) => format.includes(k))) {
    warn('No ${chunk_id}, %{uuid_flush} or %{hex_random} in s3_object_key_format with multiple flush threads or multiple workers. Recommend to set ${chunk_id}, %{uuid_flush} or %{hex_random} to avoid data lost by object conflict');
  }
  return format;
}

/** The S3 client settings of the params (endpoint, addressing, TLS, checksums). */
function clientConfigOf(p: S3Params, provider: S3ClientConfig['credentials'] | undefined): S3ClientConfig {
  return {
    region: p.s3_region,
    forcePathStyle: p.force_path_style,
    useAccelerateEndpoint: p.enable_transfer_acceleration,
    useDualstackEndpoint: p.enable_dual_stack,
    ...(p.s3_endpoint ? { endpoint: p.s3_endpoint } : {}),
    ...(provider ? { credentials: provider } : {}),
    ...(p.ssl_verify_peer ? {} : { requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsAgent({ rejectUnauthorized: false }) }) }),
    ...(p.compute_checksums === undefined ? {} : {
      requestChecksumCalculation: p.compute_checksums ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
      responseChecksumValidation: p.compute_checksums ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
    }),
  };
}

/** PutObject/CreateMultipartUpload options of the params (storage class, encryption, ACL, tagging). */
function objectOptionsOf(p: S3Params): ObjectOptions {
  return {
    StorageClass: p.storage_class as ObjectOptions['StorageClass'],
    ...(p.use_server_side_encryption ? { ServerSideEncryption: p.use_server_side_encryption as ObjectOptions['ServerSideEncryption'] } : {}),
    ...(p.ssekms_key_id ? { SSEKMSKeyId: p.ssekms_key_id } : {}),
    ...(p.sse_customer_algorithm ? { SSECustomerAlgorithm: p.sse_customer_algorithm } : {}),
    ...(p.sse_customer_key ? { SSECustomerKey: p.sse_customer_key } : {}),
    ...(p.sse_customer_key_md5 ? { SSECustomerKeyMD5: p.sse_customer_key_md5 } : {}),
    ...(p.acl ? { ACL: p.acl as ObjectOptions['ACL'] } : {}),
    ...(p.grant_full_control ? { GrantFullControl: p.grant_full_control } : {}),
    ...(p.grant_read ? { GrantRead: p.grant_read } : {}),
    ...(p.grant_read_acp ? { GrantReadACP: p.grant_read_acp } : {}),
    ...(p.grant_write_acp ? { GrantWriteACP: p.grant_write_acp } : {}),
    ...(p.tagging ? { Tagging: p.tagging } : {}),
  };
}

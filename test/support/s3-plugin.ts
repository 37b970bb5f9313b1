// Builds an S3Output from fluent.conf text the way the receiver does (parser
// → <match> element → plugin), with a PluginContext whose log is captured.

import { createFormatter } from '../../src/format/registry.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfigString } from '../../src/config/parser.ts';
import type { ConfigElement } from '../../src/params/element.ts';
import type { PluginContext } from '../../src/plugin-api.ts';
import { S3Output } from '../../src/output/s3.ts';
import { chunkKeyInfoOf, resolveBufferConfig } from '../../src/buffer/params.ts';

export interface CapturedLog {
  readonly level: number;
  readonly msg: string;
}

export function captureContext(): { ctx: PluginContext; logs: CapturedLog[] } {
  const logs: CapturedLog[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => { logs.push(JSON.parse(line) as CapturedLog); } });
  const ctx: PluginContext = {
    log,
    hostname: 'test-host',
    workerId: 0,
    writeLogLine: () => {},
    emitErrorEvent: () => {},
    emitToLabel: async () => {},
    createFormatter: (section, type, fallback) => createFormatter(section, ctx, type, fallback),
  };
  return { ctx, logs };
}

/** The <match> element of `conf` (one <match> block). */
export function matchElement(conf: string): ConfigElement {
  const root = parseConfigString(conf, 'fluent.conf', process.cwd());
  const match = root.elements.find((e) => e.name === 'match');
  if (!match) throw new Error('no <match> in test config');
  return match;
}

/** The seed config's <match test.log> (fluentd fixtures), endpoint and keys swapped. */
export function seedMatch(endpoint: string, bucket: string, extra = '', buffer = 'timekey 60\n    timekey_wait 0\n    timekey_use_utc true'): string {
  return `<match test.log>
  @type s3
  aws_key_id S3RVER
  aws_sec_key S3RVER
  s3_bucket ${bucket}
  s3_region us-west-2
  s3_endpoint ${endpoint}
  force_path_style true
  path teleport/logs
  ${extra}
  <buffer>
    @type file
    path /var/log/fluent/buffer/s3-events
    ${buffer}
    chunk_limit_size 256m
  </buffer>
  <format>
    @type json
  </format>
</match>
`;
}

export function newS3Output(conf: string): { output: S3Output; logs: CapturedLog[] } {
  const { ctx, logs } = captureContext();
  const element = matchElement(conf);
  const output = new S3Output(element, ctx);
  // What the BufferedOutput driving it would tell it (ChunkSink.bind).
  const cfg = resolveBufferConfig(element.sections('buffer')[0], S3Output.bufferDefaults, () => {});
  output.bind(chunkKeyInfoOf(cfg));
  return { output, logs };
}

export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

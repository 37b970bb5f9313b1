// out_secondary_file's configure-time rules (out_secondary_file.rb) and the <secondary>
// section rules of output.rb, each user mistake → one ConfigError saying how to fix it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanup } from '../support/cleanup.ts';
import { captureContext, matchElement, tempDir } from '../support/s3-plugin.ts';
import { buffered } from '../../src/buffer/buffered-plugin.ts';
import { S3Output } from '../../src/output/s3.ts';
import { FileOutput } from '../../src/output/file.ts';
import { loadReceiver } from '../../src/receiver.ts';
import { unusedWarnings } from '../../src/config/unused.ts';

function s3Match(secondary: string, bufferArg = 'time', extra = ''): string {
  return `<match test.log>
  @type s3
  aws_key_id S3RVER
  aws_sec_key S3RVER
  s3_bucket audit
  s3_region us-west-2
  s3_endpoint http://127.0.0.1:1
  force_path_style true
  <buffer ${bufferArg}>
    @type memory
    timekey 60
    ${extra}
  </buffer>
${secondary}
</match>
`;
}

function build(conf: string): void {
  const { ctx } = captureContext();
  new (buffered(S3Output))(matchElement(conf), ctx);
}

async function dir(t: import('node:test').TestContext): Promise<string> {
  const tmp = await tempDir('ar-secfile-');
  cleanup(t)(() => tmp.remove());
  return tmp.dir;
}

const sec = (body: string): string => `  <secondary>\n${body}\n  </secondary>`;

test('a valid secondary_file builds; directory need not exist yet (its nearest parent is writable)', async (t) => {
  const d = await dir(t);
  assert.doesNotThrow(() => build(s3Match(sec(`    @type secondary_file\n    directory ${join(d, 'a', 'b')}\n    basename \${chunk_id}-%Y%m%d`))));
});

test('basename with a slash is refused', async (t) => {
  const d = await dir(t);
  assert.throws(() => build(s3Match(sec(`    @type secondary_file\n    directory ${d}\n    basename x/dump.bin`))),
    { code: 'AR_CONF_BAD_VALUE', message: /basename should not include `\/`/ });
});

test('directory is required', () => {
  assert.throws(() => build(s3Match(sec('    @type secondary_file'))), { code: 'AR_CONF_MISSING', message: /'directory' parameter is required/ });
});

test('compress accepts text|gzip only', async (t) => {
  const d = await dir(t);
  assert.throws(() => build(s3Match(sec(`    @type secondary_file\n    directory ${d}\n    compress zstd`))), { code: 'AR_CONF_BAD_ENUM' });
});

test('a directory path through a regular file is refused at configure time', async (t) => {
  const d = await dir(t);
  await writeFile(join(d, 'file'), '');
  assert.throws(() => build(s3Match(sec(`    @type secondary_file\n    directory ${join(d, 'file', 'x')}`))),
    { code: 'AR_CONF_BAD_VALUE', message: /should be writable/ });
});

test('placeholders must match the primary\'s chunk keys', async (t) => {
  const d = await dir(t);
  assert.throws(() => build(s3Match(sec(`    @type secondary_file\n    directory ${d}\n    basename \${tag}`))),
    { code: 'AR_CONF_BAD_VALUE', message: /incompatible placeholder \$\{tag\}, remove tag placeholder/ });
  assert.throws(() => build(s3Match(sec(`    @type secondary_file\n    directory ${d}\n    basename \${sid}`))),
    { message: /incompatible placeholder \$\{sid\}, remove variable placeholder/ });
  assert.throws(() => build(s3Match(sec(`    @type secondary_file\n    directory ${d}\n    basename %Y%m%d`), '[]', '')),
    { message: /remove time formats/ });
  assert.doesNotThrow(() => build(s3Match(sec(`    @type secondary_file\n    directory ${d}\n    basename \${tag[1]}.\${sid}`), 'time,tag,sid')));
});

test('<secondary> rules: once, no <buffer> or <secondary> inside, a known @type, s3 cannot be its own secondary', async (t) => {
  const d = await dir(t);
  const ok = `    @type secondary_file\n    directory ${d}`;
  assert.throws(() => build(s3Match(sec(ok) + '\n' + sec(ok))), { code: 'AR_CONF_DUPLICATE_SECTION' });
  assert.throws(() => build(s3Match(sec(`${ok}\n    <buffer>\n    </buffer>`))), { message: /<secondary> section cannot have <buffer> section/ });
  assert.throws(() => build(s3Match(sec(`${ok}\n    <secondary>\n      @type file\n      path ${d}/x\n    </secondary>`))), { message: /<secondary> section cannot have <secondary> section/ });
  assert.throws(() => build(s3Match(sec('    @type forward'))), { code: 'AR_CONF_UNKNOWN_TYPE', message: /use one of: secondary_file, file/ });
  assert.throws(() => build(s3Match(sec(`    directory ${d}`))), { code: 'AR_CONF_MISSING', message: /add '@type secondary_file'/ });
});

test('out_file with a <secondary> of its own type gets no "different plugin" warning', async (t) => {
  const d = await dir(t);
  const { ctx, logs } = captureContext();
  new (buffered(FileOutput))(matchElement(`<match x>\n  @type file\n  path ${join(d, 'out')}\n  <buffer time>\n    @type memory\n    timekey 60\n  </buffer>\n  <secondary>\n    @type file\n    path ${join(d, 'failed')}\n  </secondary>\n</match>\n`), ctx);
  assert.ok(!logs.some((l) => l.msg.startsWith('Use different plugin for secondary')));
});

test('receiver: <secondary> is read (no unused warning); <match> @type secondary_file is refused', async (t) => {
  const d = await dir(t);
  const good = join(d, 'good.conf');
  await writeFile(good, s3Match(sec(`    @type secondary_file\n    directory ${d}\n    append true`)).replace('@type memory', `@type file\n    path ${join(d, 'buf')}`));
  const { root } = await loadReceiver({ configPath: good, level: 'silent' });
  assert.deepEqual(unusedWarnings(root).map((w) => w.message), []);
  const bad = join(d, 'bad.conf');
  await writeFile(bad, `<match x>\n  @type secondary_file\n  directory ${d}\n</match>\n`);
  await assert.rejects(loadReceiver({ configPath: bad, level: 'silent' }), { message: /This plugin can only be used in the <secondary> section/ });
});

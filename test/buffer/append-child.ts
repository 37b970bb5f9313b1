// Child for the kill -9 test: appends forever to a file buffer and prints each
// record's uid once its emit resolved (= acknowledged).
import { BufferedOutput } from '../../src/buffer/buffered-output.ts';
import { section, context, ev, RecordingSink, jsonLines } from './helpers.ts';
import type { Formatter } from '../../src/plugin-api.ts';

const dir = process.argv[2];
const sink = new RecordingSink(1_000_000);
// `lines`: a formatter that declares newline-terminated records (like formatter_json),
// so the buffer skips the per-batch meta rewrite and recovers from the data file.
if (process.argv[3] === 'lines') (sink as { formatter: Formatter }).formatter = { format: jsonLines.format, newlineRecords: true };
const out = new BufferedOutput(section('buffer', 'time', { path: dir, timekey: 60, timekey_use_utc: true, chunk_limit_size: 2000 }), sink, context(), {
  chunkKeys: ['time'], bufferType: 'file',
});
await out.start();
let n = 0;
for (;;) {
  const batch = [];
  for (let i = 0; i < 5; i++) batch.push(`u${n++}`);
  // several emits in flight at once, like concurrent HTTP requests
  await Promise.all(batch.map(async (uid, i) => {
    await out.emit('t', [ev(i * 30, { uid, pad: 'x'.repeat(40) })]);
    process.stdout.write(uid + '\n');
  }));
}

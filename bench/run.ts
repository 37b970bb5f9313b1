// `npm run bench`: every benchmark, each in its own process (so one's heap and
// sockets do not colour another's numbers). Results land in bench/results/*.json.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const only = process.argv.slice(2);
const all = ['receiver.bench.ts', 'json.bench.ts', 's3-multipart.bench.ts', 'exporter.bench.ts'];
for (const file of only.length ? only : all) {
  const path = new URL(`./${file}`, import.meta.url).pathname;
  if (!existsSync(path)) continue;
  console.log(`\n=== ${file}`);
  const r = spawnSync(process.execPath, [path], { stdio: 'inherit', env: { ...process.env, TZ: 'UTC' } });
  if (r.status !== 0) process.exitCode = 1;
}

// `<source> @type teleport` under kill -9 (issue 14 §3 (b)): the receiver with the exporter
// inside is killed 3 times at random moments while it exports, then restarted on the same
// buffer and state directories. The cursor only moves past events whose buffer append was
// acknowledged, so nothing is lost; what a kill can repeat is the window between an
// acknowledged append and the cursor save after it. With a dedup filter by uid in front of
// the s3 match, every audit event is in S3 exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startChild } from '../support/child.ts';
import { waitFor } from '../e2e/harness.ts';
import { buffersEmpty, s3Records, teleportSourceWorld } from '../support/teleport-source.ts';

const KILLS = 3;

/** Audit records in the buffer's chunk files and in S3: how far the export got. */
async function storedCount(bufferPath: string, inS3: () => Promise<string[]>): Promise<number> {
  let n = (await inS3()).length;
  for (const f of await readdir(bufferPath).catch(() => [])) {
    if (f.endsWith('.log')) n += (await readFile(join(bufferPath, f), 'utf8')).split('\n').filter((l) => l.includes('"uid"')).length;
  }
  return n;
}

for (const dedup of [false, true]) {
  test(`teleport source: kill -9 ×${KILLS} at random moments, restart: no audit event lost${dedup ? ', none twice (dedup by uid)' : ''}`, async (t) => {
    const w = await teleportSourceWorld(t, 'ar-tsrc-kill-', { bulk: false, count: 1500, days: 1, perSession: 10, sessions: 4, dedup, timekey: 3600 });
    const uids = w.fake.events.map((e) => String(e.json['uid']));
    const index = new Map(w.fake.events.map((e, i) => [e.id, i]));
    const inS3 = async () => (await s3Records(w, 'logs')).map((r) => String(r['uid']));
    const kills: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      const child = await startChild(w.confPath);
      w.children.push(child);
      // A random moment of the export: once the saved cursor (`id`, the window/page path's
      // last committed event) passes a random event of the k-th quarter.
      const target = Math.floor((uids.length * (k + 1)) / (KILLS + 1) + Math.random() * 150);
      const idFile = join(w.storage, `127.0.0.1_${w.fake.port}`, 'id');
      await waitFor(`the cursor past event ${target}`, async () => {
        const id = await readFile(idFile, 'utf8').catch(() => '');
        return (index.get(id) ?? -1) >= target ? true : undefined;
      }, 60_000, 2);
      child.proc.kill('SIGKILL');
      await child.exited;
      kills.push(`event ${target} (${await storedCount(w.bufferPath, inS3)} stored)`);
    }
    const last = await startChild(w.confPath);
    w.children.push(last);
    await waitFor('every audit event in S3 and the buffers empty', async () => {
      const got = new Set(await inS3());
      return uids.every((u) => got.has(u)) && (await buffersEmpty(w)) ? true : undefined;
    }, 90_000, 250).catch(async (err: Error) => {
      const got = new Set(await inS3());
      throw new Error(`${err.message}: ${uids.filter((u) => !got.has(u)).length} of ${uids.length} missing\n${last.lines.slice(-20).join('\n')}`);
    });
    last.proc.kill('SIGTERM');
    assert.equal(await last.exited, 0, last.stderr());

    const lines = await inS3();
    const counts = new Map<string, number>();
    for (const u of lines) counts.set(u, (counts.get(u) ?? 0) + 1);
    const delivered = uids.filter((u) => counts.has(u)).length;
    const lost = uids.length - delivered;
    const duplicated = lines.length - counts.size;
    // Where the duplicates come from: an upload the kill interrupted before its chunk file was
    // removed is sent again whole (the receiver's side, also for HTTPS), the rest are re-emits.
    const bodies = [...(await w.s3.objects('teleport/logs')).values()];
    const seen = new Set<string>();
    let reuploaded = 0;
    for (const b of bodies) {
      if (seen.has(b)) reuploaded += b.split('\n').filter(Boolean).length;
      seen.add(b);
    }
    t.diagnostic(`dedup ${dedup ? 'on' : 'off'}: ${reuploaded} of the duplicates are whole re-uploaded chunks, ${duplicated - reuploaded} re-emitted events`);
    t.diagnostic(`dedup ${dedup ? 'on' : 'off'}: kills after ${kills.join(', ')}; ${uids.length} events, delivered ${delivered}, duplicated ${duplicated}, lost ${lost}`);
    assert.equal(lost, 0, 'audit events lost');
    for (const u of counts.keys()) assert.ok(uids.includes(u), `unknown uid ${u}`);
    if (dedup) assert.equal(duplicated, 0, 'audit events stored twice despite the dedup filter');
    // Without dedup: the events acknowledged after the last completed cursor save, per kill (the
    // save runs latest-wins beside the export; measured 3–100 for 3 kills, i.e. ≤ ~35 per kill).
    else assert.ok(duplicated <= KILLS * 100, `${duplicated} duplicates after ${KILLS} kills`);
  });
}

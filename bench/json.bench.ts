// Micro benchmark: parseJson vs JSON.parse and ojDump vs JSON.stringify on the
// Teleport fixture events (the fast path), plus the exact parser and a float-heavy
// record (the slow path). Prints ops/s and ratios only; no assertions.
// Run: node_modules/.bin/node bench/json.bench.ts

import { readFileSync } from 'node:fs';
import { parseJson, parseJsonExact } from '../src/parser/json-text.ts';
import { ojDump } from '../src/value/oj-json.ts';
import type { JsonValue } from '../src/value/json-value.ts';

const fixture = new URL('../test/fixtures/teleport-events.jsonl', import.meta.url);
const events = readFileSync(fixture, 'utf8').split('\n').filter((l) => l !== '');
const floaty = JSON.stringify({
  event: 'db.session.query', time: '2024-02-23T18:56:57.648137154Z', ratio: 0.125, cpu: 12.75, mem: 1.0,
  big: '12345678901234567890', latency_ms: [1.5, 2.25, 3.125, 1e-5], counts: { '1': 3, '2': 4 },
}).replace('"12345678901234567890"', '12345678901234567890');

let sink = 0; // keeps results alive so nothing is optimised away

function bench(name: string, texts: string[], fn: (text: string) => unknown): number {
  const minMs = 400;
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < minMs) {
    for (let r = 0; r < 200; r++) {
      for (let i = 0; i < texts.length; i++) {
        const out = fn(texts[i]);
        if (out !== undefined) sink++;
      }
      ops += texts.length;
    }
    now = performance.now();
  }
  const perSec = (ops * 1000) / (now - start);
  console.log(`${name.padEnd(44)} ${Math.round(perSec).toLocaleString('en-US').padStart(12)} ops/s`);
  return perSec;
}

const ratios: Record<string, { oursOpsPerSec: number; nativeOpsPerSec: number; ratio: number }> = {};
function pair(label: string, texts: string[], ours: (t: string) => unknown, native: (t: string) => unknown, nativeName: string): void {
  for (let w = 0; w < 1000; w++) for (const t of texts) { ours(t); native(t); } // warm-up
  const a = bench(`${label}: ours`, texts, ours);
  const b = bench(`${label}: ${nativeName}`, texts, native);
  ratios[label] = { oursOpsPerSec: Math.round(a), nativeOpsPerSec: Math.round(b), ratio: +(a / b).toFixed(2) };
  console.log(`${label}: ours / ${nativeName} = ${(a / b).toFixed(2)}\n`);
}

const parsedEvents = events.map((e) => parseJson(e));
const nativeEvents = events.map((e) => JSON.parse(e) as JsonValue);
const parsedFloaty = [parseJson(floaty)];
const nativeFloaty = [JSON.parse(floaty) as JsonValue];

pair('parse teleport events (fast path)', events, parseJson, JSON.parse, 'JSON.parse');
pair('parse teleport events (exact parser)', events, parseJsonExact, JSON.parse, 'JSON.parse');
pair('parse float record (exact parser)', [floaty], parseJson, JSON.parse, 'JSON.parse');
// Dump benches index into the pre-parsed values by the text's position.
const idx = new Map(events.map((e, i) => [e, i]));
pair('dump teleport events', events, (t) => ojDump(parsedEvents[idx.get(t)!]), (t) => JSON.stringify(nativeEvents[idx.get(t)!]), 'JSON.stringify');
pair('dump float record', [floaty], () => ojDump(parsedFloaty[0]), () => JSON.stringify(nativeFloaty[0]), 'JSON.stringify');
console.log(`(${events.length} fixture events, ${sink > 0 ? 'done' : ''})`);
const { mkdirSync, writeFileSync } = await import('node:fs');
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/json.json', import.meta.url),
  JSON.stringify({ bench: 'json', date: new Date().toISOString(), node: process.version, ratios }, null, 2) + '\n');

// The hostile-input guard (src/parser/json-balance.ts): a text it calls unbalanced is one the
// exact parser refuses too; the byte scan and the string scan agree; a long refused body gets
// in_http's answer with every byte echoed while the message (the log) keeps only the start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { unbalancedAt } from '../../src/parser/json-balance.ts';
import { parseJsonExact } from '../../src/parser/json-text.ts';
import { parseConfigString } from '../../src/config/parser.ts';
import { JsonParser } from '../../src/parser/json.ts';
import { parseWithParser } from '../../src/input/http-body.ts';
import type { PluginContext } from '../../src/plugin-api.ts';
import { rng } from '../support/hostile.ts';

const PIECES = ['[', ']', '{', '}', '"', '\\', '/*', '*/', '//', '\n', '\u0000', ':', ',', '1', 'a', ' ', '"k":', 'é', '[]', '{}'];

test('unbalanced → the exact parser refuses; bytes and text agree (20,000 seeded texts)', () => {
  const r = rng(20_000);
  let unbalanced = 0;
  for (let n = 0; n < 20_000; n++) {
    const text = Array.from({ length: 1 + Math.floor(r() * 24) }, () => PIECES[Math.floor(r() * PIECES.length)]).join('');
    const at = unbalancedAt(text);
    const bytes = Buffer.from(text, 'utf8');
    assert.equal(unbalancedAt(bytes) === -1, at === -1, `bytes and text disagree on ${JSON.stringify(text)}`);
    if (at === -1) continue;
    unbalanced++;
    assert.throws(() => parseJsonExact(text), Error, `parser accepted ${JSON.stringify(text)}, the scan refused it`);
  }
  assert.ok(unbalanced > 1000, `only ${unbalanced} unbalanced texts: the generator tests nothing`);
  for (const ok of ['[[]]', '{"a":"]"}', '[/* ] */1]', '[1 // ]\n]', '{"a":"\\"]"}']) assert.equal(unbalancedAt(ok), -1, ok);
  assert.equal(unbalancedAt('['.repeat(200_000)), 200_000);
  assert.equal(unbalancedAt('{"a":'.repeat(50_000)), 250_000);
});

test('a long unbalanced body: 400 answer echoes every byte, the message is clipped', () => {
  const root = parseConfigString('<parse>\n@type json\n</parse>', 'test.conf', '/tmp');
  const parser = new JsonParser(root.elements[0], { log: pino({ level: 'silent' }) } as unknown as PluginContext);
  const body = Buffer.concat([Buffer.from('['.repeat(100_000)), Buffer.from([0xff, 0xc3])]);
  try {
    parseWithParser(parser, { body, contentType: 'application/json', params: new Map() });
    assert.fail('accepted');
  } catch (err) {
    const e = err as Error & { answer?: readonly Buffer[]; code?: string };
    assert.equal(e.code, 'AR_HTTP_NOT_JSON');
    assert.deepEqual(Buffer.concat(e.answer ?? []), Buffer.concat([Buffer.from('Received event is not json: '), body]));
    assert.ok(e.message.length < 1200, `message of ${e.message.length} characters`);
  }
});

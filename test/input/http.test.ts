// in_http end to end: the real receiver on real mTLS sockets, answers compared
// byte for byte with what Fluentd sent (docs/compatibility.md O2–O4).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync, deflateSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { encode as msgpackEncode } from '@msgpack/msgpack';
import { makeCerts, type CertFiles } from '../support/certs.ts';
import { startTestReceiver, seedSource, mtlsSource, rawRequest, type TestReceiver } from '../support/receiver.ts';

const FILTER_AND_MATCHES = `
<filter test.log>
  @type record_transformer
  enable_ruby true
  <record>
    time \${time.utc.strftime("%Y-%m-%dT%H:%M:%SZ")}
  </record>
</filter>
<match test.log>
  @type stdout
</match>
<match session.*>
  @type stdout
</match>
`;

const A_200 = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n';
const A_CLOSE_200 = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n';
/** Layout B (docs/compatibility.md O2): a 400 that keeps the connection alive. */
const B_400 = (body: string) =>
  `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: Keep-Alive\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const C_200 = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Type: text/plain\r\n\r\n';

let certs: CertFiles;
let r: TestReceiver;

before(async () => {
  certs = await makeCerts();
  r = await startTestReceiver(seedSource(certs, 'body_size_limit 1k') + FILTER_AND_MATCHES);
});
after(async () => {
  await r?.receiver.close();
});

function post(path: string, body: string | Buffer, headers: Record<string, string> = {}, version = '1.1', method = 'POST'): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  let head = `${method} ${path} HTTP/${version}\r\nHost: localhost\r\nContent-Length: ${b.length}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n'), b]);
}

async function stdoutLinesAfter(n: number, count: number): Promise<string[]> {
  await r.log.waitFor(() => r.log.rawLines().length >= n + count);
  return r.log.rawLines().slice(n, n + count);
}

const TELEPORT_EVENT = readFileSync(new URL('../fixtures/teleport-events.jsonl', import.meta.url), 'utf8').split('\n')[0];

test('a Teleport event on /test.log: 200 and time rewritten from the event time, appended last', async () => {
  const n = r.log.rawLines().length;
  const res = await rawRequest(r.port, certs, post('/test.log', TELEPORT_EVENT, { 'Content-Type': 'application/json' }));
  assert.equal(res.raw, A_200);
  assert.equal(res.closed, false, 'keep-alive connection stays open');
  const [line] = await stdoutLinesAfter(n, 1);
  const original = JSON.parse(TELEPORT_EVENT) as Record<string, unknown>;
  delete original.time;
  const expected = JSON.stringify({ ...original, time: '2024-02-23T18:56:57Z' });
  assert.equal(line, `2024-02-23 18:56:57.000000000 +0000 test.log: ${expected}`);
});

test('/session.abc prints Fluentd\'s exact stdout line', async () => {
  const n = r.log.rawLines().length;
  const res = await rawRequest(r.port, certs, post('/session.abc', '{"event":"session.start","uid":"abc","time":"2022-09-21T18:51:04.849Z"}'));
  assert.equal(res.raw, A_200);
  assert.deepEqual(await stdoutLinesAfter(n, 1), ['2022-09-21 18:51:04.000000000 +0000 session.abc: {"event":"session.start","uid":"abc"}']);
});

test('JSON fidelity: big integers, floats, escapes and unicode come out as Oj writes them', async () => {
  const n = r.log.rawLines().length;
  const body = '{"big":12345678901234567890,"one":1.0,"small":1e-5,"ls":"\\u2028","s":"é\\/","neg":-9223372036854775809,"f5":1.5e300,"nz":-0.0,"esc":"a\\"b\\\\c\\n\\t\\u0001","time":"2024-01-01T00:00:00Z"}';
  const res = await rawRequest(r.port, certs, post('/session.x', body));
  assert.equal(res.raw, A_200);
  const [line] = await stdoutLinesAfter(n, 1);
  assert.equal(line, '2024-01-01 00:00:00.000000000 +0000 session.x: {"big":12345678901234567890,"one":1.0,"small":1.0e-05,"ls":"\u2028","s":"é/","neg":-9223372036854775809,"f5":1.5e+300,"nz":0.0,"esc":"a\\"b\\\\c\\n\\t\\u0001"}');
});

test('a JSON array is a batch: one event per object, separate lines', async () => {
  const n = r.log.rawLines().length;
  const res = await rawRequest(r.port, certs, post('/session.abc', '[{"k":1,"time":"2024-01-01T00:00:01Z"},{"k":2,"time":"2024-01-01T00:00:02Z"}]'));
  assert.equal(res.raw, A_200);
  assert.deepEqual(await stdoutLinesAfter(n, 2), [
    '2024-01-01 00:00:01.000000000 +0000 session.abc: {"k":1}',
    '2024-01-01 00:00:02.000000000 +0000 session.abc: {"k":2}',
  ]);
});

test('gzip and deflate Content-Encoding are undone; a broken gzip body gets 400 with an empty body and a close', async () => {
  const n = r.log.rawLines().length;
  const res = await rawRequest(r.port, certs, post('/session.gz', gzipSync('{"z":1,"time":"2024-01-01T00:00:03Z"}'), { 'Content-Encoding': 'gzip' }));
  assert.equal(res.raw, A_200);
  assert.deepEqual(await stdoutLinesAfter(n, 1), ['2024-01-01 00:00:03.000000000 +0000 session.gz: {"z":1}']);
  const n2 = r.log.rawLines().length;
  assert.equal((await rawRequest(r.port, certs, post('/session.gz', deflateSync('{"d":1,"time":"2024-01-01T00:00:04Z"}'), { 'Content-Encoding': 'deflate' }))).raw, A_200);
  assert.deepEqual(await stdoutLinesAfter(n2, 1), ['2024-01-01 00:00:04.000000000 +0000 session.gz: {"d":1}']);
  const bad = await rawRequest(r.port, certs, post('/session.gz', '{"z":1}', { 'Content-Encoding': 'gzip' }));
  assert.equal(bad.raw, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nContent-Type: text/plain\r\n\r\n');
  assert.equal(bad.closed, true);
});

test('?time= sets the event time (Float#to_f, so precision beyond the double is lost); ?time=abc is now', async () => {
  const n = r.log.rawLines().length;
  await rawRequest(r.port, certs, post('/session.abc?time=1700000000', '{"tq":1}'));
  await rawRequest(r.port, certs, post('/session.abc?time=1700000000.123456789', '{"tq":2}'));
  const lines = await stdoutLinesAfter(n, 2);
  assert.deepEqual(lines, [
    '2023-11-14 22:13:20.000000000 +0000 session.abc: {"tq":1}',
    '2023-11-14 22:13:20.123456700 +0000 session.abc: {"tq":2}',
  ]);
  const before = Date.now() / 1000;
  await rawRequest(r.port, certs, post('/session.abc?time=abc', '{"tq":3}'));
  const [nowLine] = await stdoutLinesAfter(n + 2, 1);
  const stamp = Date.parse(nowLine.slice(0, 19).replace(' ', 'T') + 'Z') / 1000;
  assert.ok(Math.abs(stamp - before) < 5, nowLine);
});

test('Fluentd answers, byte for byte', async (t) => {
  const cases: { name: string; request: string | Buffer; expect: string; closed: boolean }[] = [
    { name: 'GET → 200, Content-Length first, closed', request: 'GET /test.log?json={} HTTP/1.1\r\nHost: x\r\n\r\n', expect: C_200, closed: true },
    { name: 'OPTIONS without CORS → 403, closed', request: 'OPTIONS /test.log HTTP/1.1\r\nHost: x\r\n\r\n', expect: 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nContent-Type: text/plain\r\n\r\n', closed: true },
    { name: 'Connection: close → no Connection header, closed', request: post('/session.abc', '{"c":1}', { Connection: 'close' }), expect: A_CLOSE_200, closed: true },
    { name: 'HTTP/1.0 → HTTP/1.1 status line, closed', request: post('/session.abc', '{"c":2}', {}, '1.0'), expect: A_CLOSE_200, closed: true },
    { name: 'body over body_size_limit → 413 Too large, closed', request: post('/session.abc', '{"x":"' + 'a'.repeat(2000) + '"}'), expect: 'HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 9\r\nContent-Type: text/plain\r\n\r\nToo large', closed: true },
    { name: 'Expect: foo → 417, closed', request: post('/session.abc', '{}', { Expect: 'foo' }), expect: 'HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\nContent-Type: text/plain\r\n\r\n', closed: true },
    { name: 'Expect: 100-continue → 100 then 200', request: post('/session.abc', '{"e":1}', { Expect: '100-continue' }), expect: 'HTTP/1.1 100 Continue\r\n\r\n' + A_200, closed: false },
    { name: 'Expect: 100-continue over the limit → 413 before the body', request: post('/session.abc', 'x'.repeat(1024), { Expect: '100-continue' }), expect: 'HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 9\r\nContent-Type: text/plain\r\n\r\nToo large', closed: true },
    { name: 'exactly body_size_limit is accepted (the check is >)', request: post('/session.abc', '{"p":"' + 'a'.repeat(1024 - 8) + '"}'), expect: A_200, closed: false },
    { name: 'time that does not parse → 400 with Fluentd\'s message, kept alive', request: post('/test.log', '{"time":"nope"}'), expect: B_400("400 Bad Request\ninvalid time format: value = nope, error_class = ArgumentError, error = string doesn't match\n"), closed: false },
    { name: 'non-string time → 400 value must be string', request: post('/test.log', '{"time":12}'), expect: B_400('400 Bad Request\nvalue must be string: 12\n'), closed: false },
    { name: 'bad JSON → 400 echoing the body (deliberate: Fluentd 1.19 says 200)', request: post('/test.log', '{"a":'), expect: 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: Keep-Alive\r\nContent-Length: 50\r\n\r\n400 Bad Request\nReceived event is not json: {"a":\n', closed: false },
    { name: 'empty body → 400', request: post('/test.log', ''), expect: 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: Keep-Alive\r\nContent-Length: 45\r\n\r\n400 Bad Request\nReceived event is not json: \n', closed: false },
    { name: 'null → 400', request: post('/test.log', 'null'), expect: 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: Keep-Alive\r\nContent-Length: 49\r\n\r\n400 Bad Request\nReceived event is not json: null\n', closed: false },
    { name: 'scalar 123 → 400 saying a record must be an object', request: post('/test.log', '123'), expect: B_400('400 Bad Request\nReceived event is not a JSON object: 123 (a record must be a JSON object or an array of objects)\n'), closed: false },
    { name: 'scalar "str" → 400 saying a record must be an object', request: post('/test.log', '"str"'), expect: B_400('400 Bad Request\nReceived event is not a JSON object: "str" (a record must be a JSON object or an array of objects)\n'), closed: false },
    { name: '[] → 200, nothing emitted', request: post('/session.abc', '[]'), expect: A_200, closed: false },
    { name: 'PUT is an event POST', request: post('/session.abc', '{"put":1}', {}, '1.1', 'PUT'), expect: A_200, closed: false },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      const res = await rawRequest(r.port, certs, c.request);
      assert.equal(res.raw, c.expect);
      assert.equal(res.closed, c.closed);
    });
  }
});

test('tags: unmatched tags answer 200 and warn (sampled); paths are neither decoded nor normalised', async () => {
  const warnsBefore = r.log.entries().filter((e) => e.msg === 'no patterns matched').length;
  const n = r.log.rawLines().length;
  for (const path of ['/session', '/session.a.b', '/nomatch.x']) {
    const res = await rawRequest(r.port, certs, post(path, '{"u":1}'));
    assert.equal(res.raw, A_200, path);
  }
  // slashes become dots; a trailing slash is dropped; %20 stays as is
  await rawRequest(r.port, certs, post('/session/xyz', '{"u":2,"time":"2024-01-01T00:00:00Z"}'));
  await rawRequest(r.port, certs, post('/session.abc/', '{"u":3,"time":"2024-01-01T00:00:00Z"}'));
  await rawRequest(r.port, certs, post('/session.a%20b', '{"u":4,"time":"2024-01-01T00:00:00Z"}'));
  assert.deepEqual(await stdoutLinesAfter(n, 3), [
    '2024-01-01 00:00:00.000000000 +0000 session.xyz: {"u":2}',
    '2024-01-01 00:00:00.000000000 +0000 session.abc: {"u":3}',
    '2024-01-01 00:00:00.000000000 +0000 session.a%20b: {"u":4}',
  ]);
  const warns = r.log.entries().filter((e) => e.msg === 'no patterns matched');
  assert.ok(warns.length > warnsBefore, 'no patterns matched was logged');
  assert.ok(warns.some((w) => w.tag === 'session'));
});

test('//session.abc has no path: 400 with our message, and the server keeps serving', async () => {
  const res = await rawRequest(r.port, certs, post('//session.abc', '{}'));
  assert.match(res.raw, /^HTTP\/1\.1 400 Bad Request\r\nContent-Type: text\/plain\r\nConnection: Keep-Alive\r\nContent-Length: \d+\r\n\r\n400 Bad Request\nthe request target has no path/);
  const ok = await rawRequest(r.port, certs, post('/session.abc', '{"after":1}'));
  assert.equal(ok.raw, A_200);
});

test('two requests on one keep-alive connection both answer 200', async () => {
  const res = await rawRequest(r.port, certs, Buffer.concat([post('/session.k', '{"k":1}'), post('/session.k', '{"k":2}')]), { responses: 2 });
  assert.equal(res.raw, A_200 + A_200);
});

test('pipelined requests on one connection reach the output in the order sent, even when the first is gzip', async () => {
  const n = r.log.rawLines().length;
  // 300 kB of JSON that gzips to a few hundred bytes: its gunzip runs on the thread pool
  // while the plain request behind it is already parsed.
  const big = gzipSync(`{"seq":1,"pad":"${'x'.repeat(300_000)}","time":"2024-01-01T00:00:00Z"}`);
  const res = await rawRequest(r.port, certs, Buffer.concat([
    post('/session.order', big, { 'Content-Encoding': 'gzip' }),
    post('/session.order', '{"seq":2,"time":"2024-01-01T00:00:00Z"}'),
    post('/session.order', '{"seq":3,"time":"2024-01-01T00:00:00Z"}'),
  ]), { responses: 3 });
  assert.equal(res.raw, A_200 + A_200 + A_200);
  const lines = await stdoutLinesAfter(n, 3);
  assert.deepEqual(lines.map((l) => /"seq":(\d)/.exec(l)?.[1]), ['1', '2', '3']);
});

test('the startup warns about the session.* trap', () => {
  const warn = r.log.entries().find((e) => typeof e.msg === 'string' && e.msg.includes('never matches teleport-event-handler session events'));
  assert.ok(warn, 'session.* trap warning logged');
  assert.match(String(warn.msg), /session\.\*\*/);
});

test('without <parse>: form json=, msgpack and ndjson bodies, by Content-Type', async () => {
  const plain = await startTestReceiver(`${mtlsSource(certs)}<match **>
  @type stdout
</match>`);
  try {
    const form = 'json=' + encodeURIComponent('{"form":"json","time":1700000000}');
    assert.equal((await rawRequest(plain.port, certs, post('/a.form', form, { 'Content-Type': 'application/x-www-form-urlencoded' }))).raw, A_200);
    const mp = Buffer.from(msgpackEncode({ mp: 1, time: 1700000001 }));
    assert.equal((await rawRequest(plain.port, certs, post('/a.mp', mp, { 'Content-Type': 'application/msgpack' }))).raw, A_200);
    assert.equal((await rawRequest(plain.port, certs, post('/a.nd', '{"l":1,"time":1700000002}\n{"l":2,"time":1700000003}\n', { 'Content-Type': 'application/x-ndjson' }))).raw, A_200);
    assert.equal((await rawRequest(plain.port, certs, post('/a.json', '{"j":1,"time":1700000004.5}', { 'Content-Type': 'application/json; charset=utf-8' }))).raw, A_200);
    const missing = await rawRequest(plain.port, certs, post('/a.none', '{"j":1}', { 'Content-Type': 'text/plain' }));
    assert.match(missing.raw, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*'json', 'ndjson' or 'msgpack' parameter is required\n$/);
    await plain.log.waitFor(() => plain.log.rawLines().length >= 5);
    assert.deepEqual(plain.log.rawLines(), [
      '2023-11-14 22:13:20.000000000 +0000 a.form: {"form":"json"}',
      '2023-11-14 22:13:21.000000000 +0000 a.mp: {"mp":1}',
      '2023-11-14 22:13:22.000000000 +0000 a.nd: {"l":1}',
      '2023-11-14 22:13:23.000000000 +0000 a.nd: {"l":2}',
      '2023-11-14 22:13:24.500000000 +0000 a.json: {"j":1}',
    ]);
  } finally {
    await plain.receiver.close();
  }
});

test('POST with neither Content-Length nor chunked: 400 then close, even when its body follows; nothing emitted', async () => {
  const n = r.log.rawLines().length;
  for (const req of [
    'POST /session.abc HTTP/1.1\r\nHost: x\r\n\r\n{"nocl":1}',
    'POST /session.abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n{"nocl":2}',
  ]) {
    const res = await rawRequest(r.port, certs, req, { waitMs: 1000 });
    assert.match(res.raw, /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\n400 Bad Request\nReceived event is not json: \n$/, req);
    assert.equal(res.closed, true, req);
  }
  const ok = await rawRequest(r.port, certs, post('/session.abc', '{"after":1}'));
  assert.equal(ok.raw, A_200);
  await stdoutLinesAfter(n, 1);
  assert.equal(r.log.rawLines().slice(n).filter((l) => l.includes('nocl')).length, 0);
});

// Routing through labels as Fluentd's RootAgent/EventRouter does it: a source
// with @label, relabel into another label, @ROOT back to the top, @ERROR for
// events a filter could not process, first <match> wins, filters in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestReceiver, type TestReceiver } from '../support/receiver.ts';

let r: TestReceiver;
before(async () => {
  r = await startTestReceiver(`
<source>
  @type http
  port 0
  bind 127.0.0.1
  @label @IN
  <parse>
    @type json
  </parse>
</source>
<match top.**>
  @type stdout
</match>
<label @IN>
  <filter **>
    @type record_transformer
    <record>
      step1 \${tag}
    </record>
  </filter>
  <filter a.**>
    @type record_transformer
    enable_ruby true
    <record>
      step2 \${record["step1"] + "!"}
      bad \${record["missing"].upcase}
    </record>
  </filter>
  <match a.relabel>
    @type relabel
    @label @OUT
  </match>
  <match a.root>
    @type relabel
    @label @ROOT
  </match>
  <match b.**>
    @type stdout
  </match>
  <match b.**>
    @type null
  </match>
</label>
<label @OUT>
  <match **>
    @type stdout
  </match>
</label>
<label @ERROR>
  <match **>
    @type stdout
  </match>
</label>
`);
});
after(async () => {
  await r?.receiver.close();
});

async function post(path: string, body: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${r.port}${path}`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
  await res.arrayBuffer();
  return res.status;
}

test('a source with @label routes into that label only; the first matching <match> wins', async () => {
  const n = r.log.rawLines().length;
  assert.equal(await post('/b.x?time=1700000000', '{"v":1}'), 200);
  assert.equal(await post('/top.x?time=1700000000', '{"v":2}'), 200); // top-level <match top.**> is not in @IN
  await r.log.waitFor(() => r.log.rawLines().length >= n + 1);
  await new Promise((res) => setTimeout(res, 100));
  assert.deepEqual(r.log.rawLines().slice(n), ['2023-11-14 22:13:20.000000000 +0000 b.x: {"v":1,"step1":"b.x"}']);
  assert.ok(r.log.entries().some((e) => e.msg === 'no patterns matched' && e.tag === 'top.x'));
});

test('relabel hands the filtered events to @OUT and @ROOT; a failing expansion goes to @ERROR', async () => {
  const n = r.log.rawLines().length;
  assert.equal(await post('/a.relabel?time=1700000000', '{"v":3,"missing":"x"}'), 200);
  assert.equal(await post('/a.root?time=1700000000', '{"v":4,"missing":"y"}'), 200);
  assert.equal(await post('/a.relabel?time=1700000000', '{"v":5}'), 200); // record["missing"] is nil → NoMethodError
  await r.log.waitFor(() => r.log.rawLines().length >= n + 2);
  await new Promise((res) => setTimeout(res, 100));
  const lines = r.log.rawLines().slice(n);
  assert.deepEqual(lines.slice(0, 1), ['2023-11-14 22:13:20.000000000 +0000 a.relabel: {"v":3,"missing":"x","step1":"a.relabel","step2":"a.relabel!","bad":"X"}']);
  // @ROOT: the top-level chain has no match for a.root → dropped with the warning
  assert.ok(r.log.entries().some((e) => e.msg === 'no patterns matched' && e.tag === 'a.root'));
  // @ERROR receives the event that failed, as it was before the failing filter
  assert.ok(lines.includes('2023-11-14 22:13:20.000000000 +0000 a.relabel: {"v":5,"step1":"a.relabel"}'), lines.join('\n'));
});

// The live status page at / of `<source> @type prometheus` (README "Metrics and
// health"): one self-contained HTML document, no build step and no external asset, so
// it works offline and behind any proxy. Its script polls status.json (status.ts) once
// a second and writes every value with textContent: tags, keys and log lines come from
// clients and S3 and are never parsed as HTML.

/** Only what the page itself holds may run or load; it fetches status.json from its own origin. */
export const STATUS_PAGE_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:";

export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>auditrelay status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
  h1 { font-size: 1.3em; margin: 0 0 .3em; }
  h2 { font-size: 1.1em; margin: 0 0 .5em; }
  .meta { color: #666; margin-bottom: 1em; }
  .ready { color: #176d2c; font-weight: bold; }
  .not-ready { color: #b3261e; font-weight: bold; }
  section.output { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 1em; margin-bottom: 1em; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1.2em; margin: 0 0 .8em; }
  dt { color: #555; }
  dd { margin: 0; font-variant-numeric: tabular-nums; }
  .bar { display: inline-block; width: 10em; height: .7em; background: #e5e5e5; border-radius: 3px; vertical-align: middle; margin-right: .5em; }
  .bar > span { display: block; height: 100%; background: #3d7bd9; border-radius: 3px; }
  ol.errors { margin: 0; padding-left: 1.5em; font: 12px/1.4 ui-monospace, monospace; }
  ol.errors li.error, ol.errors li.fatal { color: #b3261e; }
  ol.errors li.warn { color: #8a5a00; }
  ul.reasons { margin: .3em 0 1em; }
</style>
</head>
<body>
<h1>auditrelay status</h1>
<div class="meta">updated <span id="updated">never</span> · <span id="readiness">loading…</span>
  · in_http requests <span id="http-requests">–</span>, <span id="http-bytes">–</span> received</div>
<ul class="reasons" id="reasons"></ul>
<div id="outputs"></div>
<div class="meta" id="poll-error"></div>
<script>
"use strict";
const FIELDS = [
  ['events_in_total', 'events in'],
  ['events_in_per_second', 'events/s in'],
  ['events_out_total', 'events out (uploaded)'],
  ['events_out_per_second', 'events/s out'],
  ['buffer', 'buffer'],
  ['queued_chunks', 'queued chunks'],
  ['staged_chunks', 'staged chunks'],
  ['oldest_chunk_age_seconds', 'oldest chunk age'],
  ['last_upload_at', 'last upload'],
  ['last_upload_key', 'last upload key'],
  ['retry', 'retry'],
];
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + units[i];
}
function percent(ratio) {
  const p = ratio * 100;
  return (p > 0 && p < 0.01 ? '< 0.01' : p.toFixed(2)) + ' %';
}
function ago(iso, now) {
  const s = Math.max(0, (Date.parse(now) - Date.parse(iso)) / 1000);
  return iso + ' (' + s.toFixed(0) + ' s ago)';
}
function valueOf(o, key, now) {
  switch (key) {
    case 'events_in_per_second': case 'events_out_per_second':
      return o[key] === null ? '–' : o[key].toFixed(2);
    case 'buffer':
      return bytes(o.buffer_bytes) + ' of ' + bytes(o.buffer_limit_bytes) + ' (' + percent(o.buffer_fill_ratio) + ')';
    case 'oldest_chunk_age_seconds':
      return o[key] === null ? 'empty' : o[key].toFixed(1) + ' s';
    case 'last_upload_at':
      return o.last_upload === null ? 'none yet' : ago(o.last_upload.at, now);
    case 'last_upload_key':
      return o.last_upload === null || o.last_upload.key === null ? '–' : o.last_upload.key;
    case 'retry':
      if (o.retry === null) return 'none (uploads succeed)';
      return 'retry_times ' + o.retry.retry_times + ', next retry ' + (o.retry.next_retry_at || '–') +
        ', failing for ' + o.retry.failing_seconds.toFixed(0) + ' s';
    default:
      return String(o[key]);
  }
}
function render(s) {
  document.getElementById('updated').textContent = s.now;
  const r = document.getElementById('readiness');
  r.textContent = s.ready ? 'ready' : 'not ready';
  r.className = s.ready ? 'ready' : 'not-ready';
  document.getElementById('reasons').replaceChildren(...s.not_ready.map((w) => el('li', {}, w)));
  document.getElementById('http-requests').textContent = String(s.http_requests_total);
  document.getElementById('http-bytes').textContent = bytes(s.http_received_bytes_total);
  const sections = s.outputs.map((o) => {
    const sec = el('section', { class: 'output', 'data-plugin-id': o.plugin_id });
    sec.append(el('h2', {}, o.plugin_id + ' (@type ' + o.type + ')'));
    const dl = el('dl');
    for (const [key, label] of FIELDS) {
      dl.append(el('dt', {}, label));
      const dd = el('dd', { 'data-field': key }, valueOf(o, key, s.now));
      if (key === 'buffer') {
        const bar = el('span', { class: 'bar' });
        bar.append(el('span', { style: 'width:' + Math.min(100, o.buffer_fill_ratio * 100).toFixed(1) + '%' }));
        dd.prepend(bar);
      }
      dl.append(dd);
    }
    sec.append(dl, el('h2', {}, 'recent warnings and errors'));
    const ol = el('ol', { class: 'errors', 'data-field': 'recent_errors' });
    if (o.recent_errors.length === 0) ol.append(el('li', {}, 'none'));
    for (const e of o.recent_errors.slice().reverse()) ol.append(el('li', { class: e.level }, e.at + ' [' + e.level + '] ' + e.line));
    sec.append(ol);
    return sec;
  });
  document.getElementById('outputs').replaceChildren(...sections);
}
async function poll() {
  try {
    const res = await fetch('status.json', { cache: 'no-store' });
    if (!res.ok) throw new Error('status.json answered ' + res.status);
    render(await res.json());
    document.getElementById('poll-error').textContent = '';
  } catch (err) {
    document.getElementById('poll-error').textContent = 'cannot read status.json: ' + err.message;
  }
  setTimeout(poll, 1000);
}
poll();
</script>
</body>
</html>
`;

// in_http's optional behaviours, answers byte for byte as in_http.rb writes
// them: add_http_headers / add_query_params / add_remote_addr (keys appended
// after the parsed ones), use_204_response, respond_with_empty_img, CORS.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startTestReceiver, type TestReceiver } from '../support/receiver.ts';

const started: TestReceiver[] = [];
after(async () => {
  for (const r of started) await r.receiver.close();
});

async function receiver(sourceExtra: string): Promise<TestReceiver> {
  const r = await startTestReceiver(`<source>
  @type http
  port 0
  bind 127.0.0.1
  ${sourceExtra}
  <parse>
    @type json
  </parse>
</source>
<match **>
  @type stdout
</match>
`);
  started.push(r);
  return r;
}

/** Raw HTTP over TCP; resolves with all bytes once the server is quiet or closes. */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(request));
    let data = '';
    let timer: NodeJS.Timeout | undefined;
    s.on('data', (d) => {
      data += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => {
        s.destroy();
        resolve(data);
      }, 150);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    s.on('error', reject);
  });
}

function post(path: string, body: string, headers: Record<string, string> = {}, method = 'POST'): string {
  let head = `${method} ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return head + '\r\n' + body;
}

test('add_http_headers, add_query_params and add_remote_addr append keys after the record', async () => {
  const r = await receiver('add_http_headers true\n  add_query_params true\n  add_remote_addr true');
  const res = await raw(r.port, post('/h.x?time=1700000000&a-b=c', '{"v":1}', { 'X-Forwarded-For': '10.0.0.1, 10.0.0.2', 'X-Custom': 'yes' }));
  assert.match(res, /^HTTP\/1\.1 200 OK\r\n/);
  await r.log.waitFor(() => r.log.rawLines().length >= 1);
  assert.equal(r.log.rawLines()[0],
    '2023-11-14 22:13:20.000000000 +0000 h.x: {"v":1,"HTTP_HOST":"localhost","HTTP_CONTENT_LENGTH":"7","HTTP_X_FORWARDED_FOR":"10.0.0.1, 10.0.0.2","HTTP_X_CUSTOM":"yes","QUERY_TIME":"1700000000","QUERY_A_B":"c","REMOTE_ADDR":"10.0.0.1"}');
});

test('use_204_response and respond_with_empty_img', async () => {
  const r204 = await receiver('use_204_response true');
  assert.equal(await raw(r204.port, post('/x', '{}')), 'HTTP/1.1 204 No Content\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\nContent-Type: text/plain\r\n\r\n');
  const gif = await receiver('respond_with_empty_img true');
  const res = await raw(gif.port, post('/x', '{}'));
  const head = 'HTTP/1.1 200 OK\r\nContent-Type: image/gif; charset=utf-8\r\nConnection: Keep-Alive\r\nContent-Length: 35\r\n\r\n';
  assert.equal(res.slice(0, head.length), head);
  // in_http.rb EMPTY_GIF_IMAGE, byte by byte (35 bytes: Fluentd's literal, not the usual 43-byte GIF)
  assert.equal(Buffer.from(res.slice(head.length), 'latin1').toString('hex'),
    '474946383961' + '01000100' + '80ff00' + 'ffffff' + '000000' + '2c' + '00000000' + '01000100' + '000202' + '44' + '0100' + '3b');
});

test('CORS: preflight, allowed and refused origins, wildcard patterns, credentials', async () => {
  const r = await receiver('cors_allow_origins ["https://app.example.com", "https://*.example.org"]\n  cors_allow_credentials true');
  assert.equal(
    await raw(r.port, 'OPTIONS /x HTTP/1.1\r\nHost: h\r\nOrigin: https://app.example.com\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\r\n'),
    'HTTP/1.1 200 OK\r\nAccess-Control-Allow-Methods: POST\r\nAccess-Control-Allow-Headers: content-type\r\nAccess-Control-Allow-Origin: https://app.example.com\r\nAccess-Control-Allow-Credentials: true\r\nContent-Length: 0\r\nContent-Type: text/plain\r\n\r\n');
  assert.equal(
    await raw(r.port, 'OPTIONS /x HTTP/1.1\r\nHost: h\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\n\r\n'),
    'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nContent-Type: text/plain\r\n\r\n');
  assert.equal(
    await raw(r.port, post('/x', '{}', { Origin: 'https://a.example.org' })),
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nAccess-Control-Allow-Origin: https://a.example.org\r\nAccess-Control-Allow-Credentials: true\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n');
  assert.equal(
    await raw(r.port, post('/x', '{}', { Origin: 'https://evil.example' })),
    'HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\nContent-Type: text/plain\r\n\r\n');
  // no Origin at all passes (server-to-server, Fluentd 1.19)
  assert.match(await raw(r.port, post('/x', '{}')), /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/plain\r\nConnection: Keep-Alive\r\n/);
});

test('cors_allow_credentials without specific origins is a config error', async () => {
  await assert.rejects(receiver('cors_allow_origins ["*"]\n  cors_allow_credentials true'), { code: 'AR_CONF_BAD_VALUE' });
});

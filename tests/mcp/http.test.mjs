// MCP over Streamable HTTP at the gateway's own /mcp, driven by the official MCP TypeScript
// SDK (StreamableHTTPClientTransport) and by plain fetch for the wire details the SDK hides:
// progress while people decide, approvals and denials, cancellation by a client-side timeout
// or abort, sessions and their end, and every refusal (401, 403, 400, 404, 405, 202, -32700).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

import { Gateway } from './harness.mjs';

const TOOL_NAMES = ['request_approval', 'ask_human', 'get_request', 'cancel_request',
  'permission_prompt'];
const ACCEPT = 'application/json, text/event-stream';

let gateway;
let agent;  // the requester: the MCP client's token
let other;  // another agent, who must not reach the first one's sessions
let alice;  // an approver: decides over the HTTP API
let client;
let transport;

// Progress every second, so the tests see some without waiting long (the setting's variable).
process.env.COUNTERSIGN_MCP_PROGRESS = '1s';

async function connect(token) {
  const t = new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const c = new Client({ name: 'countersign-http-tests', version: '1.0.0' });
  await c.connect(t);
  return { client: c, transport: t };
}

before(async () => {
  gateway = await new Gateway().start();
  agent = await gateway.createToken('mcp-agent', 'agent');
  other = await gateway.createToken('other-agent', 'agent');
  alice = await gateway.createToken('alice', 'approver', ['sre']);
  ({ client, transport } = await connect(agent));
});

after(async () => {
  await client?.close();
  await gateway?.stop();
});

function textOf(result) {
  assert.equal(result.content[0].type, 'text');
  return result.content[0].text;
}

function progressRecorder() {
  const seen = [];
  let first;
  const firstSeen = new Promise((resolveFirst) => { first = resolveFirst; });
  return { seen, firstSeen, onprogress: (p) => { seen.push(p); first(p); } };
}

// One raw POST /mcp. `session`, `token`, `headers` as given; the body is sent as is when a
// string.
function post(body, { session, token = agent, headers = {} } = {}) {
  const all = { 'Content-Type': 'application/json', Accept: ACCEPT, ...headers };
  if (token) all.Authorization = `Bearer ${token}`;
  if (session) all['Mcp-Session-Id'] = session;
  return fetch(`${gateway.url}/mcp`, {
    method: 'POST', headers: all, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function rawSession(token = agent) {
  const response = await post({
    jsonrpc: '2.0', id: 0, method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  }, { token });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^application\/json/);
  const session = response.headers.get('mcp-session-id');
  assert.match(session, /^[\x21-\x7e]{16,}$/);
  const body = await response.json();
  assert.equal(body.result.protocolVersion, '2025-11-25');
  const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' },
    { session, token });
  assert.equal(initialized.status, 202);
  return session;
}

// The events of an SSE response, as {id, event, data} objects, as they arrive.
async function* sseEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = { id: undefined, event: undefined, data: undefined, comment: false };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) { event.comment = true; continue; }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`;
        else if (field === 'id') event.id = value;
        else if (field === 'event') event.event = value;
      }
      yield event;
    }
  }
}

function callBody(id, name, args, progressToken) {
  const params = { name, arguments: args };
  if (progressToken !== undefined) params._meta = { progressToken };
  return { jsonrpc: '2.0', id, method: 'tools/call', params };
}

describe('/mcp with the TypeScript SDK', () => {
  test('lists the five tools in a session', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name), TOOL_NAMES);
    assert.equal(client.getServerVersion().name, 'countersign');
    assert.match(transport.sessionId, /^[\x21-\x7e]+$/);
    assert.deepEqual(await client.ping(), {});
  });

  test('request_approval reports progress while nobody answers, then returns the approval and its receipt', async () => {
    const progress = progressRecorder();
    const call = client.callTool({
      name: 'request_approval',
      arguments: {
        action: 'deploy_production', title: 'Deploy v3 over HTTP', arguments: { ref: 'v3' },
        approvers: ['group:sre'], timeout_seconds: 600, session: 'http-approve-1',
      },
    }, undefined, { onprogress: progress.onprogress, resetTimeoutOnProgress: true, timeout: 30_000 });

    const first = await progress.firstSeen;  // before anyone decided
    assert.equal(typeof first.progress, 'number');
    assert.match(first.message, /waiting for approval from group:sre/);
    const pending = await gateway.pendingRequest({ session: 'http-approve-1' });
    assert.equal(pending.requester, 'mcp-agent');
    await gateway.decide(pending.id, alice, { choice: 'approve', comment: 'ok' });
    const result = await call;

    assert.equal(result.isError, undefined);
    const approved = result.structuredContent;
    assert.equal(approved.request_id, pending.id);
    assert.equal(approved.status, 'approved');
    assert.deepEqual(approved.approved_by, ['alice']);
    assert.deepEqual(approved.arguments, { ref: 'v3' });
    assert.equal(typeof approved.receipt, 'string');
    assert.ok(approved.receipt.length > 20);
    assert.deepEqual(JSON.parse(textOf(result)), approved);
  });

  test('a denial is a tool error with reason denied', async () => {
    const call = client.callTool({
      name: 'request_approval',
      arguments: { action: 'db.drop_table', title: 'Drop it over HTTP', session: 'http-deny-1' },
    });
    const pending = await gateway.pendingRequest({ session: 'http-deny-1' });
    await gateway.decide(pending.id, alice, { choice: 'deny', comment: 'not today' });
    const result = await call;
    assert.equal(result.isError, true);
    assert.equal(result.structuredContent, undefined);
    assert.match(textOf(result), /^denied: /);
    assert.match(textOf(result), /not today/);
  });

  test('get_request and cancel_request answer at once', async () => {
    const call = client.callTool({
      name: 'request_approval',
      arguments: { action: 'deploy_staging', title: 'Withdrawn over HTTP', session: 'http-cancel-1' },
    });
    const pending = await gateway.pendingRequest({ session: 'http-cancel-1' });
    const read = await client.callTool({ name: 'get_request', arguments: { id: pending.id } });
    assert.equal(read.structuredContent.status, 'pending');
    const cancelled = await client.callTool({
      name: 'cancel_request', arguments: { id: pending.id, reason: 'not needed' },
    });
    assert.equal(cancelled.structuredContent.status, 'cancelled');
    const result = await call;
    assert.equal(result.isError, true);
    assert.match(textOf(result), /^cancelled: /);
  });

  test('a client-side timeout cancels the request on the gateway', async () => {
    await assert.rejects(
      client.callTool({
        name: 'request_approval',
        arguments: { action: 'deploy_production', title: 'HTTP agent gives up', session: 'http-timeout-1' },
      }, undefined, { timeout: 1500 }),
      (error) => error instanceof McpError && error.code === -32001);
    const request = (await gateway.call('GET', '/v1/requests?session=http-timeout-1')).body.requests[0];
    const settled = await gateway.settled(request.id);
    assert.equal(settled.status, 'cancelled');
    assert.deepEqual(settled.resolved_by, ['mcp-agent']);
    assert.deepEqual(await client.ping(), {});
  });

  test('an AbortSignal cancels the request on the gateway too', async () => {
    const abort = new AbortController();
    const call = client.callTool({
      name: 'request_approval',
      arguments: { action: 'deploy_production', title: 'HTTP abort', session: 'http-abort-1' },
    }, undefined, { signal: abort.signal });
    const pending = await gateway.pendingRequest({ session: 'http-abort-1' });
    abort.abort('the user pressed stop');
    await assert.rejects(call);
    const settled = await gateway.settled(pending.id);
    assert.equal(settled.status, 'cancelled');
  });

  test('terminateSession ends the session: its id is then 404', async () => {
    const second = await connect(agent);
    const session = second.transport.sessionId;
    await second.client.listTools();
    await second.transport.terminateSession();
    await second.client.close();
    const response = await post({ jsonrpc: '2.0', id: 1, method: 'ping' },
      { session, headers: { 'MCP-Protocol-Version': '2025-11-25' } });
    assert.equal(response.status, 404);
  });
});

describe('/mcp on the wire', () => {
  test('no token is 401 with a Bearer challenge', async () => {
    const response = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { token: null });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate'), /^Bearer/);
    const body = await response.json();
    assert.equal(body.jsonrpc, '2.0');
    assert.equal(body.id, undefined);
  });

  test('a foreign Origin is 403; a loopback one is served', async () => {
    const refused = await post({ jsonrpc: '2.0', id: 1, method: 'ping' },
      { headers: { Origin: 'https://evil.example' } });
    assert.equal(refused.status, 403);
    const session = await rawSession();
    const served = await post({ jsonrpc: '2.0', id: 1, method: 'ping' },
      { session, headers: { Origin: 'http://localhost:5173' } });
    assert.equal(served.status, 200);
  });

  test('a request without a session id is 400, an unknown one 404, another principal\'s 404', async () => {
    const missing = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(missing.status, 400);
    const unknown = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { session: 'mcp_no_such_session' });
    assert.equal(unknown.status, 404);
    const session = await rawSession();
    const foreign = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { session, token: other });
    assert.equal(foreign.status, 404);
    const own = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { session });
    assert.equal(own.status, 200);
    assert.equal((await own.json()).result.tools.length, 5);
  });

  test('an unsupported MCP-Protocol-Version is 400; a supported or absent one is served', async () => {
    const session = await rawSession();
    const bad = await post({ jsonrpc: '2.0', id: 1, method: 'ping' },
      { session, headers: { 'MCP-Protocol-Version': '1999-01-01' } });
    assert.equal(bad.status, 400);
    const good = await post({ jsonrpc: '2.0', id: 2, method: 'ping' },
      { session, headers: { 'MCP-Protocol-Version': '2025-06-18' } });
    assert.equal(good.status, 200);
    assert.deepEqual((await good.json()).result, {});
  });

  test('GET is 405 with Allow: POST, DELETE', async () => {
    const response = await fetch(`${gateway.url}/mcp`, {
      headers: { Authorization: `Bearer ${agent}`, Accept: 'text/event-stream' },
    });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST, DELETE');
  });

  test('a notification is 202 without a body', async () => {
    const session = await rawSession();
    const response = await post({ jsonrpc: '2.0', method: 'notifications/whatever' }, { session });
    assert.equal(response.status, 202);
    assert.equal(await response.text(), '');
  });

  test('a malformed body is a -32700 error', async () => {
    const session = await rawSession();
    const response = await post('{"jsonrpc": "2.0", "id": ', { session });
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.equal(body.error.code, -32700);
    assert.equal(body.id, undefined);
  });

  test('a waiting call streams a priming event, progress, and the response, each with an id', async () => {
    const session = await rawSession();
    const response = await post(callBody(5, 'request_approval',
      { action: 'deploy_production', title: 'Raw SSE', session: 'raw-sse-1' }, 'tok-5'), { session });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/event-stream/);
    const events = [];
    let decided = false;
    for await (const event of sseEvents(response)) {
      events.push(event);
      assert.ok(event.id, 'every event has an id');
      assert.equal(event.event, undefined);
      const message = event.data ? JSON.parse(event.data) : null;
      if (message?.method === 'notifications/progress' && !decided) {
        assert.equal(message.params.progressToken, 'tok-5');
        decided = true;
        const pending = await gateway.pendingRequest({ session: 'raw-sse-1' });
        await gateway.decide(pending.id, alice, { choice: 'approve' });
      }
    }
    assert.equal(events[0].data, '');  // the priming event
    const last = JSON.parse(events.at(-1).data);
    assert.equal(last.id, 5);
    assert.equal(last.result.structuredContent.status, 'approved');
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'ids are unique');
  });

  test('notifications/cancelled ends the stream without a response and cancels the request', async () => {
    const session = await rawSession();
    const response = await post(callBody(6, 'request_approval',
      { action: 'deploy_production', title: 'Raw cancel', session: 'raw-cancel-1' }), { session });
    assert.match(response.headers.get('content-type'), /^text\/event-stream/);
    const pending = await gateway.pendingRequest({ session: 'raw-cancel-1' });
    const cancelled = await post({
      jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 6, reason: 'gave up' },
    }, { session });
    assert.equal(cancelled.status, 202);
    const messages = [];
    for await (const event of sseEvents(response)) {
      if (event.data) messages.push(JSON.parse(event.data));
    }
    assert.ok(messages.every((m) => m.id === undefined), 'no response on the stream');
    const settled = await gateway.settled(pending.id);
    assert.equal(settled.status, 'cancelled');
    const audit = await gateway.call('GET', `/v1/audit?request=${pending.id}`);
    assert.match(JSON.stringify(audit.body), /cancelled by the MCP client/);
  });

  test('a client that disconnects does not cancel, and its retry finds the same request', async () => {
    const session = await rawSession();
    const abort = new AbortController();
    const body = callBody(9, 'request_approval',
      { action: 'deploy_production', title: 'Raw retry', session: 'raw-retry-1' });
    const first = await fetch(`${gateway.url}/mcp`, {
      method: 'POST', signal: abort.signal, body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', Accept: ACCEPT, Authorization: `Bearer ${agent}`, 'Mcp-Session-Id': session },
    });
    assert.equal(first.status, 200);
    const pending = await gateway.pendingRequest({ session: 'raw-retry-1' });
    abort.abort();
    // The retry may reach the server before it has noticed the first connection closing:
    // "in use" until then.
    let retry;
    for (let i = 0; i < 200; i++) {
      retry = await post(body, { session });
      if (retry.headers.get('content-type')?.startsWith('text/event-stream')) break;
      const answer = await retry.json();
      assert.match(answer.error.message, /in use/);
      await new Promise((resolveLater) => setImmediate(resolveLater));
    }
    assert.match(retry.headers.get('content-type'), /^text\/event-stream/);
    assert.equal((await gateway.getRequest(pending.id)).status, 'pending');
    await gateway.decide(pending.id, alice, { choice: 'approve' });
    let last;
    for await (const event of sseEvents(retry)) if (event.data) last = JSON.parse(event.data);
    assert.equal(last.result.structuredContent.request_id, pending.id);
    const all = (await gateway.call('GET', '/v1/requests?session=raw-retry-1')).body.requests;
    assert.equal(all.length, 1);
  });

  test('/metrics counts MCP sessions and tool calls', async () => {
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    assert.match(metrics, /^countersign_mcp_sessions_total [1-9]/m);
    assert.match(metrics, /^countersign_mcp_tool_calls_total [1-9]/m);
  });

  test('DELETE ends a session; the id is then 404', async () => {
    const session = await rawSession();
    const ended = await fetch(`${gateway.url}/mcp`, {
      method: 'DELETE', headers: { Authorization: `Bearer ${agent}`, 'Mcp-Session-Id': session },
    });
    assert.equal(ended.status, 204);
    const after = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { session });
    assert.equal(after.status, 404);
  });
});

// `countersign mcp proxy --upstream-url` in front of the real @modelcontextprotocol/server-everything
// in Streamable HTTP mode, driven by the official MCP TypeScript SDK's
// StreamableHTTPClientTransport against a real gateway: ungated tools pass through, gated ones
// wait for a person (progress, edited arguments, denial, cancellation), the upstream's
// elicitations are answered by a person through the gateway, and the wire details (Origin,
// DELETE, usage errors, a broken or absent upstream) hold.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { BIN, Gateway, progressRecorder, runCli, texts } from './harness.mjs';
import {
  CLIENT_NAME, EVERYTHING, LONG_ARGS, bridgesElicitation, cancelsOnClientTimeout, deniesCall,
  passesThrough, runsWithEditedArguments,
} from './proxy_scenarios.mjs';

const START_TIMEOUT_MS = 30_000;
const INITIALIZE = {
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

let gateway;
let agent;  // the proxy's token
let alice;  // an approver: decides over the HTTP API
let everything;  // the upstream: { url, mark(), postsBetween() }
const processes = [];
const clients = [];

// Keeps what `proc` writes on `stream` in proc.output[stream].
function record(proc, stream) {
  proc.output ??= {};
  proc.output[stream] = '';
  proc[stream].setEncoding('utf8');
  proc[stream].on('data', (chunk) => { proc.output[stream] += chunk; });
}

// Resolves with the first match of `pattern` in what `proc` wrote on `stream` (record()ed);
// rejects when the process exits first.
function waitForOutput(proc, stream, pattern) {
  return new Promise((resolveMatch, reject) => {
    const check = () => {
      const match = proc.output[stream].match(pattern);
      if (!match) return false;
      clearTimeout(timer);
      proc[stream].off('data', check);
      proc.off('exit', onExit);
      resolveMatch(match);
      return true;
    };
    const onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}):\n${proc.output[stream]}`));
    };
    const timer = setTimeout(() => {
      proc[stream].off('data', check);
      reject(new Error(`no ${pattern} within ${START_TIMEOUT_MS} ms:\n${proc.output[stream]}`));
    }, START_TIMEOUT_MS);
    if (check()) return;
    proc[stream].on('data', check);
    proc.once('exit', onExit);
  });
}

// A port nothing listens on now (server-everything takes no port 0).
function freePort() {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function startEverything() {
  const port = await freePort();
  const proc = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  processes.push(proc);
  // It logs "Received MCP POST request" on stdout for every POST it gets: how the tests see
  // what reached it.
  record(proc, 'stdout');
  record(proc, 'stderr');
  await waitForOutput(proc, 'stderr', /listening on port/);
  const stdout = { get text() { return proc.output.stdout; } };
  const url = `http://127.0.0.1:${port}/mcp`;
  return {
    url,
    // A point in its log: a session of its own, started directly; answers where its log has
    // reached once it shows that session (all before it has then been read: one pipe, in order).
    async mark() {
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
        body: JSON.stringify(INITIALIZE),
      });
      await r.text();
      const id = r.headers.get('mcp-session-id');
      for (let i = 0; i < 400 && !stdout.text.includes(id); i++) await delay(25);
      assert.ok(stdout.text.includes(id), 'the upstream never logged its session');
      return stdout.text.indexOf(id);
    },
    postsBetween: (from, to) => stdout.text.slice(from, to).split('Received MCP POST request').length - 1,
  };
}

// `countersign mcp proxy --upstream-url UPSTREAM --listen 127.0.0.1:0 ...args`; answers
// { url, proc } once it prints where it listens.
async function startProxy(args, upstream = everything.url) {
  const proc = spawn(BIN, ['mcp', 'proxy', '--upstream-url', upstream, '--listen', '127.0.0.1:0',
    '--progress-interval', '1', ...args], {
    env: { PATH: process.env.PATH, COUNTERSIGN_URL: gateway.url, COUNTERSIGN_TOKEN: agent },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  processes.push(proc);
  record(proc, 'stderr');
  const [, url] = await waitForOutput(proc, 'stderr', /listening on (http:\/\/\S+\/mcp)/);
  return { url, proc };
}

async function connect(url, capabilities = {}) {
  const client = new Client({ name: CLIENT_NAME, version: '1.0.0' }, { capabilities });
  client.strays = [];
  client.onerror = (error) => { client.strays.push(String(error)); };
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

// One raw POST of `body` to `url`: { status, type, text }.
async function post(url, body, headers = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

before(async () => {
  gateway = await new Gateway().start();
  agent = await gateway.createToken('proxy-agent', 'agent');
  alice = await gateway.createToken('alice', 'approver', ['sre']);
  everything = await startEverything();
});

after(async () => {
  for (const client of clients) await client.close().catch(() => {});
  for (const proc of processes) {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolveExit) => proc.once('exit', resolveExit));
      proc.kill('SIGTERM');
      await exited;
    }
  }
  await gateway?.stop();
});

describe('countersign mcp proxy --upstream-url', () => {
  test('without gates every tool passes straight through and nobody is asked', async () => {
    const proxy = await startProxy(['--name', 'open']);
    await passesThrough((await connect(proxy.url)).client, gateway, 'open');
  });

  test('--name defaults to the upstream URL\'s host', async () => {
    const proxy = await startProxy(['--gate', 'get-sum']);
    const { client } = await connect(proxy.url);
    const call = client.callTool({ name: 'get-sum', arguments: { a: 1, b: 1 } });
    const pending = await gateway.pendingRequest({ action: 'mcp.127.0.0.1.get-sum' });
    await gateway.decide(pending.id, alice, { choice: 'approve' });
    assert.match(texts(await call), /The sum of 1 and 1 is 2\./);
  });

  test('a gated call waits with progress and runs with the arguments the approver edited', async () => {
    const proxy = await startProxy(['--name', 'edit', '--gate', 'get-sum']);
    const { client } = await connect(proxy.url);
    await runsWithEditedArguments(client, gateway, alice, 'edit');
    assert.deepEqual(client.strays, []);
  });

  test('a denied call never reaches the upstream', async () => {
    const proxy = await startProxy(['--name', 'deny', '--gate', 'trigger-long-running-operation']);
    const { client } = await connect(proxy.url);
    const before = await everything.mark();
    const first = await deniesCall(client, gateway, alice, 'deny');

    // Between the two marks the upstream got one POST only: the second mark's own.
    const afterDenial = await everything.mark();
    assert.equal(everything.postsBetween(before, afterDenial), 1);

    // The same call approved runs upstream; its progress continues the proxy's count.
    const approvedProgress = progressRecorder();
    const approved = client.callTool({ name: 'trigger-long-running-operation', arguments: LONG_ARGS },
      undefined, { onprogress: approvedProgress.onprogress, resetTimeoutOnProgress: true, timeout: 30_000 });
    const second = await gateway.pendingRequest({ action: 'mcp.deny.trigger-long-running-operation' });
    assert.notEqual(second.id, first.id);
    await approvedProgress.firstSeen;
    await gateway.decide(second.id, alice, { choice: 'approve' });
    assert.match(texts(await approved), /Long running operation completed/);
    assert.ok(approvedProgress.seen.some((p) => p.total !== undefined));
    for (let i = 1; i < approvedProgress.seen.length; i++) {
      assert.ok(approvedProgress.seen[i].progress > approvedProgress.seen[i - 1].progress);
    }
  });

  test('a client that cancels a held call (its timeout) cancels the request', async () => {
    const proxy = await startProxy(['--name', 'cancel', '--gate', 'get-sum']);
    await cancelsOnClientTimeout((await connect(proxy.url)).client, gateway, 'cancel');
  });

  test('an agent that leaves while its call is held cancels nothing, and the call is never made', async () => {
    const proxy = await startProxy(['--name', 'leave', '--gate', 'get-sum']);
    const headers = { 'MCP-Protocol-Version': '2025-06-18' };
    const init = await fetch(proxy.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify(INITIALIZE),
    });
    await init.text();
    headers['Mcp-Session-Id'] = init.headers.get('mcp-session-id');
    assert.equal((await post(proxy.url, { jsonrpc: '2.0', method: 'notifications/initialized' },
      headers)).status, 202);
    const before = await everything.mark();
    const abort = new AbortController();
    const held = await fetch(proxy.url, {
      method: 'POST',
      signal: abort.signal,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call',
        params: { name: 'get-sum', arguments: { a: 1, b: 2 }, _meta: { progressToken: 'p' } } }),
    });
    assert.match(held.headers.get('content-type'), /text\/event-stream/);
    const reader = held.body.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /notifications\/progress/);
    abort.abort();
    await waitForOutput(proxy.proc, 'stderr', /went away while it waited/);
    const pending = await gateway.pendingRequest({ action: 'mcp.leave.get-sum' });
    await gateway.decide(pending.id, alice, { choice: 'approve' });
    const after = await everything.mark();
    assert.equal(everything.postsBetween(before, after), 1);  // the second mark's own
  });

  test('a person answers the upstream\'s elicitation through the gateway', async () => {
    // No elicitation capability: the proxy declares it upstream and bridges.
    const proxy = await startProxy(['--name', 'elicit']);
    await bridgesElicitation((await connect(proxy.url)).client, gateway, alice, 'elicit');
  });

  describe('the wire', () => {
    let proxy;
    before(async () => { proxy = await startProxy(['--name', 'wire']); });

    test('a foreign Origin is 403; a loopback one passes', async () => {
      const foreign = await post(proxy.url, INITIALIZE, { Origin: 'https://evil.example' });
      assert.equal(foreign.status, 403);
      assert.match(JSON.parse(foreign.text).error.message, /Origin/);
      const local = await post(proxy.url, INITIALIZE, { Origin: 'http://localhost:3000' });
      assert.equal(local.status, 200, local.text);
    });

    test('GET is 405; a body that is not JSON is 400 -32700', async () => {
      const get = await fetch(proxy.url, { headers: { Accept: 'text/event-stream' } });
      assert.equal(get.status, 405);
      assert.equal(get.headers.get('allow'), 'POST, DELETE');
      const garbage = await post(proxy.url, '{"jsonrpc":');
      assert.equal(garbage.status, 400);
      assert.equal(JSON.parse(garbage.text).error.code, -32700);
    });

    test('a request for an unknown session is 404', async () => {
      const r = await post(proxy.url, { jsonrpc: '2.0', id: 2, method: 'tools/list' },
        { 'Mcp-Session-Id': 'no-such-session' });
      assert.equal(r.status, 404);
    });

    test('DELETE ends the session here and upstream', async () => {
      const { client, transport } = await connect(proxy.url);
      await client.listTools();
      const id = transport.sessionId;
      assert.ok(id);
      await transport.terminateSession();
      const again = await post(proxy.url, { jsonrpc: '2.0', id: 9, method: 'tools/list' },
        { 'Mcp-Session-Id': id, 'MCP-Protocol-Version': '2025-06-18' });
      assert.equal(again.status, 404);
      const upstream = await post(everything.url, { jsonrpc: '2.0', id: 9, method: 'tools/list' },
        { 'Mcp-Session-Id': id, 'MCP-Protocol-Version': '2025-06-18' });
      assert.equal(upstream.status, 400);
      assert.match(upstream.text, /No valid session ID/);
    });
  });

  describe('a broken upstream', () => {
    let bad;
    let badUrl;
    let mode;
    let seenHeaders;
    before(async () => {
      bad = createServer((req, res) => {
        seenHeaders = req.headers;
        req.resume();
        req.on('end', () => {
          if (mode === 'garbage') {
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.end('this is not JSON');
          } else if (mode === 'huge') {
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.end(`{"jsonrpc":"2.0","id":1,"result":{"pad":"${'x'.repeat(11 * 1024 * 1024)}"}}`);
          } else if (mode === 'stream') {
            res.writeHead(200, { 'Content-Type': 'text/event-stream' });
            res.end(`data: not json\n\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"hi"}}\n\ndata: ${'y'.repeat(11 * 1024 * 1024)}\n\n`);
          }
        });
      });
      await new Promise((r) => bad.listen(0, '127.0.0.1', r));
      badUrl = `http://127.0.0.1:${bad.address().port}/mcp`;
    });
    after(() => new Promise((r) => bad.close(r)));

    test('an answer that is not JSON is a 502 JSON-RPC error for the request', async () => {
      const proxy = await startProxy(['--upstream-header', 'Authorization: Bearer up-token'],
        badUrl);
      mode = 'garbage';
      const r = await post(proxy.url, INITIALIZE);
      assert.equal(r.status, 502);
      const { id, error } = JSON.parse(r.text);
      assert.equal(id, 1);
      assert.equal(error.code, -32603);
      assert.match(error.message, /something other than JSON-RPC/);
      assert.equal(seenHeaders.authorization, 'Bearer up-token');
      assert.equal(seenHeaders.accept, 'application/json, text/event-stream');
    });

    test('an answer over 10 MiB is a 502', async () => {
      const proxy = await startProxy([], badUrl);
      mode = 'huge';
      const r = await post(proxy.url, INITIALIZE);
      assert.equal(r.status, 502);
      assert.match(JSON.parse(r.text).error.message, /over 10485760 bytes/);
    });

    test('a stream of junk relays what is MCP and ends with an error for the request', async () => {
      const proxy = await startProxy([], badUrl);
      mode = 'stream';
      const r = await post(proxy.url, INITIALIZE);
      assert.equal(r.status, 200);
      assert.match(r.type, /text\/event-stream/);
      const events = r.text.split('\n\n').filter((e) => e.startsWith('data: '))
        .map((e) => JSON.parse(e.slice(6)));
      assert.equal(events.length, 2, r.text.slice(0, 500));
      assert.equal(events[0].method, 'notifications/message');
      assert.equal(events[1].id, 1);
      assert.match(events[1].error.message, /ended its event stream without answering/);
    });

    test('an upstream that is down is a 502 naming it', async () => {
      const down = `http://127.0.0.1:${await freePort()}/mcp`;
      const proxy = await startProxy([], down);
      const r = await post(proxy.url, INITIALIZE);
      assert.equal(r.status, 502);
      assert.match(JSON.parse(r.text).error.message,
        new RegExp(`cannot reach the upstream MCP server at ${down}`));
      // The SDK's client fails at once rather than waiting for a timeout.
      const client = new Client({ name: 'down', version: '1' });
      await assert.rejects(client.connect(new StreamableHTTPClientTransport(new URL(proxy.url))),
        (e) => e.code === 502 && /cannot reach the upstream MCP server/.test(e.message));
    });
  });

  describe('usage', () => {
    const env = () => ({ COUNTERSIGN_URL: gateway.url, COUNTERSIGN_TOKEN: agent });

    test('both --upstream-url and a command is exit 3', async () => {
      const r = await runCli(['mcp', 'proxy', '--upstream-url', everything.url, '--',
        process.execPath, EVERYTHING], env());
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /either --upstream-url URL or the upstream's command after --, not both/);
    });

    test('neither is exit 3', async () => {
      const r = await runCli(['mcp', 'proxy', '--gate', 'x'], env());
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /needs the upstream: --upstream-url URL, or its command after --/);
    });

    test('--listen without --upstream-url, a bad header or URL are exit 3', async () => {
      let r = await runCli(['mcp', 'proxy', '--listen', '127.0.0.1:0', '--', process.execPath,
        EVERYTHING], env());
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /--listen and --upstream-header go with --upstream-url/);
      r = await runCli(['mcp', 'proxy', '--upstream-url', everything.url, '--upstream-header',
        'Mcp-Session-Id: x'], env());
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /sets this header itself/);
      r = await runCli(['mcp', 'proxy', '--upstream-url', 'ftp://example.com/mcp'], env());
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /unsupported scheme 'ftp' in --upstream-url/);
    });
  });
});

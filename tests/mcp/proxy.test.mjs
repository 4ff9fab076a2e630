// `countersign mcp proxy` in front of the real @modelcontextprotocol/server-everything, driven
// by the official MCP TypeScript SDK over stdio, against a real gateway: ungated tools pass
// through, gated ones wait for a person (progress, edited arguments, denial, session grants,
// cancellation), and the upstream's elicitations are answered by a person through the gateway.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { BIN, Gateway, progressRecorder, runCli, texts } from './harness.mjs';
import {
  CLIENT_NAME, EVERYTHING, LONG_ARGS, bridgesElicitation, cancelsOnClientTimeout, deniesCall,
  passesThrough, runsWithEditedArguments,
} from './proxy_scenarios.mjs';

let gateway;
let agent;  // the proxy's token
let alice;  // an approver: decides over the HTTP API
const clients = [];

before(async () => {
  gateway = await new Gateway().start();
  agent = await gateway.createToken('proxy-agent', 'agent');
  alice = await gateway.createToken('alice', 'approver', ['sre']);
});

after(async () => {
  for (const client of clients) await client.close();
  await gateway?.stop();
});

// Whether a stray the SDK reported is a progress notification that is the last step of its
// total (the upstream's final progress, read in the same chunk as the response it precedes).
function isFinalUpstreamProgress(stray) {
  const at = stray.indexOf('{');
  if (!stray.includes('unknown token') || at < 0) return false;
  try {
    const { method, params } = JSON.parse(stray.slice(at));
    return method === 'notifications/progress' && params.total !== undefined &&
      params.progress === params.total;
  } catch {
    return false;
  }
}

// An MCP client of `countersign mcp proxy --name NAME ...proxyArgs -- node everything stdio`.
// Errors the SDK reports outside a request (a response or progress for an unknown id) are kept
// in client.strays.
async function connectProxy(name, proxyArgs, capabilities = {}) {
  const transport = new StdioClientTransport({
    command: BIN,
    args: ['mcp', 'proxy', '--progress-interval', '1', '--name', name, ...proxyArgs,
      '--', process.execPath, EVERYTHING, 'stdio'],
    env: { COUNTERSIGN_URL: gateway.url, COUNTERSIGN_TOKEN: agent },
    stderr: 'inherit',
  });
  const client = new Client({ name: CLIENT_NAME, version: '1.0.0' }, { capabilities });
  client.strays = [];
  client.onerror = (error) => { client.strays.push(String(error)); };
  await client.connect(transport);
  clients.push(client);
  return client;
}

describe('countersign mcp proxy', () => {
  test('without gates every tool passes straight through and nobody is asked', async () => {
    await passesThrough(await connectProxy('open', []), gateway, 'open');
  });

  test('a gated call waits with progress and runs with the arguments the approver edited', async () => {
    const client = await connectProxy('edit', ['--gate', 'get-sum', '--gate', 'trigger-long-*']);
    await runsWithEditedArguments(client, gateway, alice, 'edit');
  });

  test('a denied call never reaches the upstream', async () => {
    const client = await connectProxy('deny', ['--gate', 'trigger-long-running-operation']);
    const first = await deniesCall(client, gateway, alice, 'deny');

    // The same call approved afterwards runs upstream, started later than the denied one would
    // have been and as long: by its end, anything the upstream did for the denied call (its
    // progress, its response) would have arrived, as a stray the SDK reports.
    const approvedProgress = progressRecorder();
    const approved = client.callTool({ name: 'trigger-long-running-operation', arguments: LONG_ARGS },
      undefined, { onprogress: approvedProgress.onprogress, timeout: 30_000 });
    const second = await gateway.pendingRequest({ action: 'mcp.deny.trigger-long-running-operation' });
    assert.notEqual(second.id, first.id);
    await gateway.decide(second.id, alice, { choice: 'approve' });
    const ran = await approved;
    assert.match(texts(ran), /Long running operation completed/);
    // The SDK handles a notification a microtask later than a response read in the same chunk,
    // so the upstream's last progress (step 2 of 2), written just before its response, can
    // reach the SDK after the call ended and be reported as a stray. That is the approved
    // call's and says nothing about the denied one; anything else is a stray of the denied
    // call (its progress would be step 1 too, its response an unknown id).
    const strays = client.strays.filter((s) => !isFinalUpstreamProgress(s));
    assert.deepEqual(strays, []);
    // The upstream's own progress (it carries a total) came for the approved call, after the
    // proxy's, still increasing.
    const upstream = approvedProgress.seen.filter((p) => p.total !== undefined);
    assert.ok(upstream.length >= 1 && upstream.length <= 2);
    for (let i = 1; i < approvedProgress.seen.length; i++) {
      assert.ok(approvedProgress.seen[i].progress > approvedProgress.seen[i - 1].progress);
    }
  });

  test('a session grant lets the next matching call through at once', async () => {
    const client = await connectProxy('grant', ['--gate', 'get-sum']);
    const call = client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
    const pending = await gateway.pendingRequest({ action: 'mcp.grant.get-sum' });
    await gateway.decide(pending.id, alice,
      { choice: 'approve', grant: { scope: 'session', ttl_seconds: 3600 } });
    assert.match(texts(await call), /The sum of 2 and 3 is 5\./);

    const again = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
    assert.match(texts(again), /The sum of 2 and 3 is 5\./);
    const requests = await gateway.requestsFor('mcp.grant.get-sum');
    assert.equal(requests.length, 2);
    assert.equal(requests[0].status, 'approved');
    assert.equal(requests[0].session, pending.session);
    assert.match(requests[0].resolved_by[0], /^grant:/);
  });

  test('a client that cancels a held call (its timeout) cancels the request', async () => {
    await cancelsOnClientTimeout(await connectProxy('cancel', ['--gate', 'get-sum']), gateway,
      'cancel');
  });

  describe('the elicitation bridge', () => {
    let client;
    before(async () => {
      // No elicitation capability: the proxy declares it upstream and bridges.
      client = await connectProxy('elicit', ['--gate', 'get-sum']);
    });

    test('a person answers the upstream form through the gateway', async () => {
      await bridgesElicitation(client, gateway, alice, 'elicit');
    });

    test('a person who declines makes it a decline', async () => {
      const call = client.callTool({ name: 'trigger-elicitation-request', arguments: {} },
        undefined, { timeout: 60_000 });
      const pending = await gateway.pendingRequest({ action: 'mcp.elicit.elicitation' });
      await gateway.decide(pending.id, alice, { choice: 'deny' });
      assert.match(texts(await call), /User declined to provide the requested information/);
    });
  });

  test('a client that declares elicitation answers it itself', async () => {
    const { ElicitRequestSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const client = await connectProxy('own', [], { elicitation: {} });
    client.setRequestHandler(ElicitRequestSchema, async () => (
      { action: 'accept', content: { name: 'Grace Hopper' } }));
    const result = await client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    assert.match(texts(result), /- Name: Grace Hopper/);
    assert.deepEqual(await gateway.requestsFor('mcp.own.elicitation'), []);
  });

  describe('a bad config file', () => {
    let dir;
    before(() => { dir = mkdtempSync(join(tmpdir(), 'countersign-proxy-')); });
    after(() => rmSync(dir, { recursive: true, force: true }));

    async function runWith(toml) {
      const file = join(dir, 'proxy.toml');
      writeFileSync(file, toml);
      return runCli(['mcp', 'proxy', '--config', file, '--', process.execPath, EVERYTHING],
        { COUNTERSIGN_URL: gateway.url, COUNTERSIGN_TOKEN: agent });
    }

    test('an unknown gate key stops the proxy, naming the key', async () => {
      const r = await runWith('[[mcp.gate]]\ntool = "get-sum"\napprover = ["alice"]\n');
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /proxy\.toml:3: mcp\.gate\[0\]\.approver: unknown key/);
    });

    test('a gate value of the wrong type names its key', async () => {
      const r = await runWith('[[mcp.gate]]\ntool = "get-sum"\ntimeout_seconds = "soon"\n');
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /mcp\.gate\[0\]\.timeout_seconds must be an integer/);
    });

    test('a gate without a tool names the missing key', async () => {
      const r = await runWith('[[mcp.gate]]\napprovers = ["alice"]\n');
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /mcp\.gate\[0\]\.tool is required/);
    });
  });
});

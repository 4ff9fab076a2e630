// What `countersign mcp proxy` must do whichever transport it speaks (stdio in
// proxy.test.mjs, Streamable HTTP in proxy_http.test.mjs): each scenario takes an MCP client
// connected through a proxy started with `--name NAME` and the gates it names, the Gateway, and
// the approver's token. The client's name must be 'proxy-tests'.
import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { McpError } from '@modelcontextprotocol/sdk/types.js';

import { progressRecorder, texts } from './harness.mjs';

export const CLIENT_NAME = 'proxy-tests';
// The upstream: the package's own bin (package.json "bin"), run with this node (no npx, no
// network).
export const EVERYTHING = resolve(dirname(fileURLToPath(import.meta.url)), 'node_modules',
  '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');

// No gates: every tool passes straight through and nobody is asked.
export async function passesThrough(client, gateway, name) {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  assert.ok(names.includes('echo') && names.includes('get-sum'), names.join(','));
  assert.equal(texts(await client.callTool({ name: 'echo', arguments: { message: 'hi' } })),
    'Echo: hi');
  const sum = await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
  assert.match(texts(sum), /The sum of 1 and 2 is 3\./);
  assert.equal(client.getServerVersion().name, 'mcp-servers/everything');
  assert.deepEqual(await gateway.requestsFor(`mcp.${name}.get-sum`), []);
}

// `--gate get-sum`: the call waits with progress and runs with the arguments the approver
// edited; an ungated tool of the same proxy is not held.
export async function runsWithEditedArguments(client, gateway, alice, name) {
  assert.equal(texts(await client.callTool({ name: 'echo', arguments: { message: 'x' } })),
    'Echo: x');
  const progress = progressRecorder();
  const call = client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } }, undefined,
    { onprogress: progress.onprogress, resetTimeoutOnProgress: true, timeout: 30_000 });
  const first = await progress.firstSeen;
  assert.match(first.message, /waiting for approval/);
  const pending = await gateway.pendingRequest({ action: `mcp.${name}.get-sum` });
  assert.equal(pending.requester, 'proxy-agent');
  assert.equal(pending.title, `${CLIENT_NAME} wants to call get-sum on ${name}`);
  assert.deepEqual(pending.details, { server: name, tool: 'get-sum' });
  assert.deepEqual(pending.arguments, { a: 1, b: 2 });
  assert.match(pending.session, /^mcp-proxy-/);

  await gateway.decide(pending.id, alice, { choice: 'approve', arguments: { a: 10, b: 20 } });
  const result = await call;
  assert.equal(result.isError, undefined);
  assert.match(texts(result), /The sum of 10 and 20 is 30\./);
}

// `--gate get-sum`: a client whose call times out sends notifications/cancelled, which
// cancels the request.
export async function cancelsOnClientTimeout(client, gateway, name) {
  const call = client.callTool({ name: 'get-sum', arguments: { a: 1, b: 1 } }, undefined,
    { timeout: 3_000 });
  const pending = await gateway.pendingRequest({ action: `mcp.${name}.get-sum` });
  await assert.rejects(call, (e) => e instanceof McpError && e.code === -32001);
  const settled = await gateway.settled(pending.id);
  assert.equal(settled.status, 'cancelled');
}

// A client without the elicitation capability: a person answers the upstream's form through
// the gateway.
export async function bridgesElicitation(client, gateway, alice, name) {
  const { tools } = await client.listTools();
  assert.ok(tools.some((t) => t.name === 'trigger-elicitation-request'));
  const call = client.callTool({ name: 'trigger-elicitation-request', arguments: {} },
    undefined, { timeout: 60_000 });
  const pending = await gateway.pendingRequest({ action: `mcp.${name}.elicitation` });
  assert.equal(pending.title, 'Please provide inputs for the following fields:');
  assert.equal(pending.response_schema.type, 'object');
  assert.deepEqual(pending.response_schema.required, ['name']);
  assert.equal(pending.response_schema.properties.email.format, 'email');
  assert.deepEqual(pending.choices.map((c) => c.id), ['approve', 'deny']);

  await gateway.decide(pending.id, alice,
    { choice: 'approve', response: { name: 'Ada Lovelace', check: true, integer: 7 } });
  const text = texts(await call);
  assert.match(text, /User provided the requested information/);
  assert.match(text, /- Name: Ada Lovelace/);
  assert.match(text, /- Favorite Integer: 7/);
}

// `--gate trigger-long-running-operation`: a person denies the call and the client gets the
// isError result. Answers the denied request and the progress the client saw, for the
// transport's own proof that the upstream never saw the call.
export const LONG_ARGS = { duration: 1, steps: 2 };
export async function deniesCall(client, gateway, alice, name) {
  const progress = progressRecorder();
  const denied = client.callTool({ name: 'trigger-long-running-operation', arguments: LONG_ARGS },
    undefined, { onprogress: progress.onprogress, timeout: 30_000 });
  const request = await gateway.pendingRequest({ action: `mcp.${name}.trigger-long-running-operation` });
  await gateway.decide(request.id, alice, { choice: 'deny', comment: 'not now' });
  const result = await denied;
  assert.equal(result.isError, true);
  assert.match(texts(result), /^denied: request req_\w+ was denied by alice \("not now"\)/);
  // The upstream's own progress carries a total; the proxy's does not.
  assert.ok(progress.seen.every((p) => p.total === undefined));
  return request;
}

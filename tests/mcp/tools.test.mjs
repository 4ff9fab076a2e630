// `countersign mcp` driven by the official MCP TypeScript SDK over stdio, against a real
// gateway: every tool, progress while people decide, cancellation by a client-side timeout,
// and the failures a model sees.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { McpError } from '@modelcontextprotocol/sdk/types.js';

import { Gateway, connectMcp, runCli } from './harness.mjs';

const TOOL_NAMES = ['request_approval', 'ask_human', 'get_request', 'cancel_request',
  'permission_prompt'];

let gateway;
let agent;  // the requester: the MCP server's token
let alice;  // an approver: decides over the HTTP API (the requester may not)
let client;

before(async () => {
  gateway = await new Gateway().start();
  agent = await gateway.createToken('mcp-agent', 'agent');
  alice = await gateway.createToken('alice', 'approver', ['sre']);
  client = await connectMcp(gateway.url, agent);
});

after(async () => {
  await client?.close();
  await gateway?.stop();
});

function textOf(result) {
  assert.equal(result.content[0].type, 'text');
  return result.content[0].text;
}

// Resolves with the first progress notification of a call.
function progressRecorder() {
  const seen = [];
  let first;
  const firstSeen = new Promise((resolveFirst) => { first = resolveFirst; });
  return { seen, firstSeen, onprogress: (p) => { seen.push(p); first(p); } };
}

describe('countersign mcp over stdio', () => {
  test('lists the five tools, each with input and output schemas and annotations', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name), TOOL_NAMES);
    for (const tool of tools) {
      assert.equal(tool.inputSchema.type, 'object', tool.name);
      assert.equal(tool.outputSchema.type, 'object', tool.name);
      assert.equal(typeof tool.annotations, 'object', tool.name);
      assert.ok(tool.description.length > 40, tool.name);
    }
    const approval = tools.find((t) => t.name === 'request_approval');
    assert.deepEqual(approval.inputSchema.required, ['action', 'title']);
    assert.equal(approval.annotations.readOnlyHint, false);
    assert.equal(tools.find((t) => t.name === 'get_request').annotations.readOnlyHint, true);
    assert.equal(client.getServerVersion().name, 'countersign');
    assert.match(client.getInstructions(), /request_approval/);
  });

  test('request_approval reports progress while nobody answers, then returns the approval and its receipt', async () => {
    const progress = progressRecorder();
    const call = client.callTool({
      name: 'request_approval',
      arguments: {
        action: 'deploy_production', title: 'Deploy v2.0 to production',
        details: { ticket: 'OPS-42' }, arguments: { ref: 'v2.0', replicas: 3 },
        approvers: ['group:sre'], timeout_seconds: 600, session: 'approve-1',
      },
    }, undefined, { onprogress: progress.onprogress, resetTimeoutOnProgress: true, timeout: 30_000 });

    const first = await progress.firstSeen;  // before anyone decided
    assert.equal(typeof first.progress, 'number');
    assert.match(first.message, /waiting for approval from group:sre/);
    const pending = await gateway.pendingRequest({ session: 'approve-1' });
    assert.equal(pending.requester, 'mcp-agent');
    assert.deepEqual(pending.arguments, { ref: 'v2.0', replicas: 3 });

    const edited = { ref: 'v2.0', replicas: 2 };
    await gateway.decide(pending.id, alice, { choice: 'approve', comment: 'canary is green', arguments: edited });
    const result = await call;

    assert.equal(result.isError, undefined);
    const approved = result.structuredContent;
    assert.equal(approved.request_id, pending.id);
    assert.equal(approved.status, 'approved');
    assert.equal(approved.reason_code, 'approved');
    assert.deepEqual(approved.approved_by, ['alice']);
    assert.deepEqual(approved.arguments, edited);
    assert.equal(approved.arguments_edited, true);
    assert.deepEqual(approved.comments, [{ by: 'alice', comment: 'canary is green' }]);
    assert.deepEqual(JSON.parse(textOf(result)), approved);
    for (let i = 1; i < progress.seen.length; i++) {
      assert.ok(progress.seen[i].progress > progress.seen[i - 1].progress, 'progress increases');
    }

    // The receipt verifies against the gateway's keys, for the action and the edited arguments.
    const dir = mkdtempSync(join(tmpdir(), 'countersign-receipt-'));
    try {
      const file = join(dir, 'arguments.json');
      writeFileSync(file, JSON.stringify(edited));
      const verified = await runCli(['receipt', 'verify', approved.receipt, '--url', gateway.url,
        '--action', 'deploy_production', '--arguments', file]);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      const refused = await runCli(['receipt', 'verify', approved.receipt, '--url', gateway.url,
        '--action', 'delete_production']);
      assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a denial is a tool error with reason denied, the denier and the comment', async () => {
    const call = client.callTool({
      name: 'request_approval',
      arguments: { action: 'db.drop_table', title: 'Drop the users table', session: 'deny-1' },
    });
    const pending = await gateway.pendingRequest({ session: 'deny-1' });
    await gateway.decide(pending.id, alice, { choice: 'deny', comment: 'not on a Friday' });
    const result = await call;
    assert.equal(result.isError, true);
    assert.equal(result.structuredContent, undefined);
    const text = textOf(result);
    assert.match(text, /^denied: /);
    assert.match(text, /alice/);
    assert.match(text, /not on a Friday/);
    // The exact reason, for a program reading the text.
    assert.match(text, /\(reason_code: denied_by_person\)/);
  });

  test('a client-side timeout cancels the request on the gateway', async () => {
    const progress = progressRecorder();
    await assert.rejects(
      client.callTool({
        name: 'request_approval',
        arguments: { action: 'deploy_production', title: 'Deploy, but the agent gives up', session: 'timeout-1' },
      }, undefined, { timeout: 2000, onprogress: progress.onprogress }),
      (error) => error instanceof McpError && error.code === -32001);
    const request = (await gateway.call('GET', '/v1/requests?session=timeout-1')).body.requests[0];
    const settled = await gateway.settled(request.id);
    assert.equal(settled.status, 'cancelled');
    assert.deepEqual(settled.resolved_by, ['mcp-agent']);
    // The server is still serving after the cancelled call.
    assert.deepEqual(await client.ping(), {});
  });

  test('an AbortSignal cancels the request on the gateway too', async () => {
    const abort = new AbortController();
    const progress = progressRecorder();
    const call = client.callTool({
      name: 'request_approval',
      arguments: { action: 'deploy_production', title: 'Deploy, then abort', session: 'abort-1' },
    }, undefined, { signal: abort.signal, onprogress: progress.onprogress });
    const pending = await gateway.pendingRequest({ session: 'abort-1' });
    abort.abort('the user pressed stop');
    await assert.rejects(call);
    const settled = await gateway.settled(pending.id);
    assert.equal(settled.status, 'cancelled');
  });

  test('ask_human returns the answer given through the decision API', async () => {
    const call = client.callTool({
      name: 'ask_human',
      arguments: { question: 'Which region should the new cluster go to?', details: { options: ['eu-west-1', 'us-east-1'] } },
    });
    const pending = await gateway.pendingRequest({ action: 'mcp.ask_human' });
    assert.equal(pending.kind, 'question');
    assert.equal(pending.title, 'Which region should the new cluster go to?');
    await gateway.decide(pending.id, alice, { answer: 'eu-west-1, close to the customers' });
    const result = await call;
    assert.equal(result.isError, undefined);
    assert.deepEqual(result.structuredContent, {
      request_id: pending.id, status: 'answered', reason_code: 'answered',
      answer: 'eu-west-1, close to the customers', answered_by: 'alice',
    });
  });

  test('permission_prompt allows with the approver\'s edited input', async () => {
    const call = client.callTool({
      name: 'permission_prompt',
      arguments: { tool_name: 'Bash', input: { command: 'rm -rf build/', description: 'clean' }, tool_use_id: 'toolu_01' },
    });
    const pending = await gateway.pendingRequest({ action: 'claude.Bash' });
    assert.equal(pending.title, 'Claude Code wants to use Bash');
    assert.deepEqual(pending.arguments, { command: 'rm -rf build/', description: 'clean' });
    assert.equal(pending.details.tool_use_id, 'toolu_01');
    const edited = { command: 'rm -rf build/tmp', description: 'clean' };
    await gateway.decide(pending.id, alice, { choice: 'approve', arguments: edited });
    const result = await call;
    assert.equal(result.isError, undefined);
    assert.deepEqual(JSON.parse(textOf(result)), { behavior: 'allow', updatedInput: edited });
  });

  test('permission_prompt allows with the original input when nobody edited it', async () => {
    const input = { file_path: '/tmp/notes.txt', content: 'hi' };
    const call = client.callTool({ name: 'permission_prompt', arguments: { tool_name: 'Write', input } });
    const pending = await gateway.pendingRequest({ action: 'claude.Write' });
    await gateway.decide(pending.id, alice, { choice: 'approve' });
    assert.deepEqual(JSON.parse(textOf(await call)), { behavior: 'allow', updatedInput: input });
  });

  test('permission_prompt denies with a message', async () => {
    const call = client.callTool({
      name: 'permission_prompt',
      arguments: { tool_name: 'mcp__github__delete_repo', input: { repo: 'prod' } },
    });
    const pending = await gateway.pendingRequest({ action: 'claude.mcp__github__delete_repo' });
    await gateway.decide(pending.id, alice, { choice: 'deny', comment: 'never delete prod' });
    const result = await call;
    assert.equal(result.isError, undefined);
    const decision = JSON.parse(textOf(result));
    assert.equal(decision.behavior, 'deny');
    assert.match(decision.message, /^denied: /);
    assert.match(decision.message, /never delete prod/);
  });

  test('get_request reads a request and cancel_request cancels it once', async () => {
    const created = await gateway.call('POST', '/v1/requests',
      { action: 'rotate_keys', title: 'Rotate the signing keys' }, agent);
    assert.equal(created.status, 201);
    const id = created.body.id;

    const got = await client.callTool({ name: 'get_request', arguments: { id } });
    assert.equal(got.isError, undefined);
    assert.equal(got.structuredContent.request_id, id);
    assert.equal(got.structuredContent.status, 'pending');
    assert.equal(got.structuredContent.action, 'rotate_keys');

    const cancelled = await client.callTool({ name: 'cancel_request', arguments: { id, reason: 'not needed' } });
    assert.equal(cancelled.isError, undefined);
    assert.equal(cancelled.structuredContent.status, 'cancelled');
    assert.equal((await gateway.getRequest(id)).status, 'cancelled');

    const again = await client.callTool({ name: 'cancel_request', arguments: { id } });
    assert.equal(again.isError, true);
    assert.match(textOf(again), /^conflict: /);

    const missing = await client.callTool({ name: 'get_request', arguments: { id: 'req_01M7YQ0KET0372EXW812BTE32Z' } });
    assert.equal(missing.isError, true);
    assert.match(textOf(missing), /^not_found: /);
  });

  test('bad tool arguments are a tool error, an unknown tool a protocol error', async () => {
    const bad = await client.callTool({ name: 'request_approval', arguments: { title: 'no action' } });
    assert.equal(bad.isError, true);
    assert.match(textOf(bad), /^invalid_arguments: .*action/);
    const refused = await client.callTool({
      name: 'request_approval', arguments: { action: 'x', title: 't', timeout_seconds: 0 },
    });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /^invalid_arguments: /);
    await assert.rejects(client.callTool({ name: 'rm_rf', arguments: {} }),
      (error) => error instanceof McpError && error.code === -32602);
  });
});

describe('countersign mcp without a gateway', () => {
  test('a tool call says unavailable', async () => {
    const offline = await connectMcp('http://127.0.0.1:1', 'cs_nothing');
    try {
      const result = await offline.callTool({
        name: 'request_approval', arguments: { action: 'deploy', title: 'Deploy' },
      });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /^unavailable: /);
      const prompt = await offline.callTool({
        name: 'permission_prompt', arguments: { tool_name: 'Bash', input: { command: 'ls' } },
      });
      const decision = JSON.parse(textOf(prompt));
      assert.equal(decision.behavior, 'deny');
      assert.match(decision.message, /^unavailable: /);
    } finally {
      await offline.close();
    }
  });
});

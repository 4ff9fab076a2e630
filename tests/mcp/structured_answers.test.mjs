// ask_human and request_approval with a response_schema: the form goes to the gateway as given,
// and the person's structured response comes back as `response` (for an approval, bound into
// the receipt as well).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { Gateway, connectMcp } from './harness.mjs';

let gateway;
let alice;
let client;

before(async () => {
  gateway = await new Gateway().start();
  const agent = await gateway.createToken('mcp-agent', 'agent');
  alice = await gateway.createToken('alice', 'approver');
  client = await connectMcp(gateway.url, agent);
});

after(async () => {
  await client?.close();
  await gateway?.stop();
});

test('ask_human passes response_schema through and returns the structured response', async () => {
  const schema = {
    type: 'object',
    properties: {
      region: { type: 'string', enum: ['eu-west-1', 'us-east-1'], title: 'Region' },
      replicas: { type: 'integer', minimum: 1, maximum: 10 },
    },
    required: ['region'],
  };
  const call = client.callTool({
    name: 'ask_human',
    arguments: { question: 'Where should the cluster go, and how big?', response_schema: schema },
  });
  const pending = await gateway.pendingRequest({ action: 'mcp.ask_human' });
  assert.deepEqual(pending.response_schema, schema);
  await gateway.decide(pending.id, alice, { response: { region: 'eu-west-1', replicas: 3 } });
  const result = await call;
  assert.equal(result.isError, undefined);
  assert.equal(result.structuredContent.status, 'answered');
  assert.equal(result.structuredContent.answered_by, 'alice');
  assert.deepEqual(result.structuredContent.response, { region: 'eu-west-1', replicas: 3 });
  assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent);
});

test('a response_schema the gateway refuses is invalid_arguments', async () => {
  const result = await client.callTool({
    name: 'ask_human',
    arguments: { question: 'Nested?', response_schema: { type: 'object', properties: { a: { type: 'object' } } } },
  });
  assert.equal(result.isError, true);
  assert.match(result.content[0].text, /^invalid_arguments: /);
});

test('request_approval with a response_schema needs the form filled in to approve', async () => {
  const schema = {
    type: 'object',
    properties: { ticket: { type: 'string', title: 'Change ticket', minLength: 3 } },
    required: ['ticket'],
  };
  const call = client.callTool({
    name: 'request_approval',
    arguments: { action: 'deploy_production', title: 'Deploy v3', response_schema: schema },
  });
  const pending = await gateway.pendingRequest({ action: 'deploy_production' });
  assert.deepEqual(pending.response_schema, schema);
  const refused = await gateway.call('POST', `/v1/requests/${pending.id}/decisions`,
    { choice: 'approve' }, alice);
  assert.equal(refused.status, 422);
  assert.equal(refused.body.error.field, 'response.ticket');
  await gateway.decide(pending.id, alice, { choice: 'approve', response: { ticket: 'CHG-7' } });
  const result = await call;
  assert.equal(result.isError, undefined);
  assert.equal(result.structuredContent.status, 'approved');
  assert.deepEqual(result.structuredContent.response, { ticket: 'CHG-7' });
  const claims = JSON.parse(Buffer.from(result.structuredContent.receipt.split('.')[1],
    'base64url').toString());
  assert.match(claims.response_sha256, /^[0-9a-f]{64}$/);
});

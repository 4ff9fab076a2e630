// countersign/ai against a real countersign server and the real generateText of the Vercel AI
// SDK, driven by a scripted model (ai/test's MockLanguageModelV3; no network): its first
// answer calls the gated tool, its second is a final text. What the second call's prompt
// holds is what the model was told about the tool call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { convertToModelMessages, generateText, stepCountIs, streamText, tool } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV3 } from 'ai/test';
import { z } from 'zod';
import { Client } from 'countersign';
import { withApproval, isApprovalDenial } from 'countersign/ai';
import { startGateway } from './harness.mjs';

// A bound per test, so a gate that never lets go fails the test instead of hanging the run.
const bounded = { timeout: 20_000 };

let gw;
let client;

before(async () => {
  gw = await startGateway();
  client = new Client({ url: gw.url, token: gw.agentToken });
});

after(async () => {
  await gw?.stop();
});

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 1, text: 1, reasoning: 0 },
};

// A model that calls `toolName` with `input` (as tool call `toolCallId`), then says "done".
// `prompts` collects the prompt of every call it gets.
function scriptedModel(toolName, input, toolCallId) {
  const prompts = [];
  const model = new MockLanguageModelV3({
    doGenerate: async ({ prompt }) => {
      prompts.push(prompt);
      if (prompts.length === 1) {
        return {
          content: [{ type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) }],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage,
          warnings: [],
        };
      }
      return { content: [{ type: 'text', text: 'done' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
    },
  });
  return { model, prompts };
}

// A deploy tool that records every execution.
function deployTool() {
  const runs = [];
  const deploy = tool({
    description: 'Deploy a service',
    inputSchema: z.object({ service: z.string(), env: z.string() }),
    execute: async (input, { toolCallId }) => {
      runs.push({ input, toolCallId });
      return { deployed: input.service, env: input.env };
    },
  });
  return { deploy, runs };
}

// The tool result parts of the prompt's last message (the tool message the model reads).
function toolResultsSeen(prompt) {
  const last = prompt.at(-1);
  assert.equal(last.role, 'tool', `the last message is a ${last.role} message, not the tool's result`);
  return last.content.filter((part) => part.type === 'tool-result');
}

async function requestById(id) {
  const r = await gw.call('GET', `/v1/requests/${id}`);
  assert.equal(r.status, 200);
  return r.body;
}

test('the tool runs only after an approver approves, with the tool input as the request arguments', bounded, async () => {
  const { deploy, runs } = deployTool();
  const { model, prompts } = scriptedModel('deploy', { service: 'api', env: 'prod' }, 'call-approve');
  const tools = { deploy: withApproval(deploy, { client, action: 'ai.deploy.approve', title: (i) => `Deploy ${i.service} to ${i.env}` }) };

  const running = generateText({ model, tools, prompt: 'deploy api to prod', stopWhen: stepCountIs(3) });
  const pending = await gw.pendingRequest({ action: 'ai.deploy.approve' });
  assert.deepEqual(pending.arguments, { service: 'api', env: 'prod' });
  assert.equal(pending.title, 'Deploy api to prod');
  assert.equal(pending.details.tool_call_id, 'call-approve');
  assert.equal(runs.length, 0, 'execute ran before anyone approved');

  await gw.decide(pending.id, gw.aliceToken, { choice: 'approve' });
  const result = await running;

  assert.deepEqual(runs, [{ input: { service: 'api', env: 'prod' }, toolCallId: 'call-approve' }]);
  assert.equal(result.text, 'done');
  const [seen] = toolResultsSeen(prompts[1]);
  assert.equal(seen.toolCallId, 'call-approve');
  assert.deepEqual(seen.output, { type: 'json', value: { deployed: 'api', env: 'prod' } });
  // The outcome was reported, so the request shows what ran.
  const done = await requestById(pending.id);
  assert.equal(done.status, 'approved');
  assert.equal(done.execution?.status, 'succeeded');
});

test('a denial never runs execute and reaches the model as the SDK\'s execution-denied output', bounded, async () => {
  const { deploy, runs } = deployTool();
  const { model, prompts } = scriptedModel('deploy', { service: 'db', env: 'prod' }, 'call-deny');
  const tools = { deploy: withApproval(deploy, { client, action: 'ai.deploy.deny' }) };

  const running = generateText({ model, tools, prompt: 'deploy db to prod', stopWhen: stepCountIs(3) });
  const pending = await gw.pendingRequest({ action: 'ai.deploy.deny' });
  await gw.decide(pending.id, gw.aliceToken, { choice: 'deny', comment: 'not during the freeze' });
  const result = await running;

  assert.equal(runs.length, 0, 'execute ran although the request was denied');
  assert.equal(result.text, 'done', 'generateText went on to the model after the denial');
  const [seen] = toolResultsSeen(prompts[1]);
  assert.equal(seen.toolCallId, 'call-deny');
  assert.equal(seen.output.type, 'execution-denied');
  assert.equal(
    seen.output.reason,
    `denied: request ${pending.id} was denied by alice ("not during the freeze") (reason_code: denied_by_person). Do not perform the action.`,
  );
  // The program finds the details in the step's tool result.
  const [toolResult] = result.steps[0].toolResults;
  assert.ok(isApprovalDenial(toolResult.output));
  assert.equal(toolResult.output.requestId, pending.id);
  assert.equal(toolResult.output.reasonCode, 'denied_by_person');
  assert.deepEqual(toolResult.output.comments, ['not during the freeze']);
});

test('edited arguments reach execute when allowed, and are a denial when not', bounded, async () => {
  const edit = { service: 'api', env: 'staging' };

  const allowed = deployTool();
  const first = scriptedModel('deploy', { service: 'api', env: 'prod' }, 'call-edit-ok');
  const running = generateText({
    model: first.model,
    tools: { deploy: withApproval(allowed.deploy, { client, action: 'ai.deploy.edit', allowEditedArguments: true }) },
    prompt: 'deploy api',
    stopWhen: stepCountIs(3),
  });
  const pending = await gw.pendingRequest({ action: 'ai.deploy.edit' });
  await gw.decide(pending.id, gw.aliceToken, { choice: 'approve', arguments: edit });
  await running;
  assert.deepEqual(allowed.runs.map((r) => r.input), [edit]);
  assert.deepEqual(toolResultsSeen(first.prompts[1])[0].output, { type: 'json', value: { deployed: 'api', env: 'staging' } });

  const refused = deployTool();
  const second = scriptedModel('deploy', { service: 'api', env: 'prod' }, 'call-edit-refused');
  const refusing = generateText({
    model: second.model,
    tools: { deploy: withApproval(refused.deploy, { client, action: 'ai.deploy.noedit' }) },
    prompt: 'deploy api',
    stopWhen: stepCountIs(3),
  });
  const other = await gw.pendingRequest({ action: 'ai.deploy.noedit' });
  await gw.decide(other.id, gw.aliceToken, { choice: 'approve', arguments: edit });
  await refusing;
  assert.equal(refused.runs.length, 0, 'execute ran with arguments the tool does not accept edited');
  const [seen] = toolResultsSeen(second.prompts[1]);
  assert.equal(seen.output.type, 'execution-denied');
  assert.match(seen.output.reason, /only with edited arguments/);
});

test('an edit that does not fit the input schema never runs execute', bounded, async () => {
  const { deploy, runs } = deployTool();
  const { model, prompts } = scriptedModel('deploy', { service: 'api', env: 'prod' }, 'call-edit-bad');
  const running = generateText({
    model,
    tools: { deploy: withApproval(deploy, { client, action: 'ai.deploy.badedit', allowEditedArguments: true }) },
    prompt: 'deploy api',
    stopWhen: stepCountIs(3),
  });
  const pending = await gw.pendingRequest({ action: 'ai.deploy.badedit' });
  await gw.decide(pending.id, gw.aliceToken, { choice: 'approve', arguments: { service: 42 } });
  const result = await running;
  assert.equal(runs.length, 0);
  // The SDK's tool-error path: the model reads the error's message.
  const [seen] = toolResultsSeen(prompts[1]);
  assert.equal(seen.output.type, 'error-text');
  assert.match(seen.output.value, /edited arguments do not fit the tool's input schema/);
  assert.equal(result.steps[0].content.find((p) => p.type === 'tool-error')?.toolCallId, 'call-edit-bad');
  // The request records that the approved call failed.
  assert.equal((await requestById(pending.id)).execution?.status, 'failed');
});

test('aborting generateText while it waits cancels the request', bounded, async () => {
  const { deploy, runs } = deployTool();
  const { model, prompts } = scriptedModel('deploy', { service: 'api', env: 'prod' }, 'call-abort');
  const controller = new AbortController();
  const running = generateText({
    model,
    tools: { deploy: withApproval(deploy, { client, action: 'ai.deploy.abort' }) },
    prompt: 'deploy api',
    stopWhen: stepCountIs(3),
    abortSignal: controller.signal,
  });
  const pending = await gw.pendingRequest({ action: 'ai.deploy.abort' });
  controller.abort();
  await assert.rejects(running, (error) => error.name === 'AbortError');

  assert.equal(runs.length, 0);
  assert.equal(prompts.length, 1, 'the model was called again after the abort');
  const cancelled = await requestById(pending.id);
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.reason_code, 'cancelled_by_requester');
});

test('an agent that stops waiting (waitTimeoutMs) cancels the request and tells the model', bounded, async () => {
  const { deploy, runs } = deployTool();
  const { model, prompts } = scriptedModel('deploy', { service: 'api', env: 'prod' }, 'call-wait');
  // Nobody decides: the client's own wait bound is what ends it.
  const result = await generateText({
    model,
    tools: { deploy: withApproval(deploy, { client, action: 'ai.deploy.wait', waitTimeoutMs: 300 }) },
    prompt: 'deploy api',
    stopWhen: stepCountIs(3),
  });
  assert.equal(runs.length, 0);
  const [seen] = toolResultsSeen(prompts[1]);
  assert.equal(seen.output.type, 'execution-denied');
  assert.match(seen.output.reason, /^expired: .*no decision within 0\.3 s; it was cancelled \(reason_code: cancelled_by_requester\)\. Do not perform the action\.$/);
  const output = result.steps[0].toolResults[0].output;
  assert.equal((await requestById(output.requestId)).reason_code, 'cancelled_by_requester');
});

test('the same tool call asked again finds its request, and an approval runs the tool once', bounded, async () => {
  const { deploy, runs } = deployTool();
  const gated = withApproval(deploy, { client, action: 'ai.deploy.retry' });
  const first = scriptedModel('deploy', { service: 'api', env: 'prod' }, 'call-retry');
  const running = generateText({ model: first.model, tools: { deploy: gated }, prompt: 'deploy api', stopWhen: stepCountIs(3) });
  const pending = await gw.pendingRequest({ action: 'ai.deploy.retry' });
  await gw.decide(pending.id, gw.aliceToken, { choice: 'approve' });
  await running;
  assert.equal(runs.length, 1);

  // The same tool call again (its result lost, the conversation replayed): the idempotency
  // key finds the approved, already carried out request; nobody is asked, nothing runs twice.
  const again = scriptedModel('deploy', { service: 'api', env: 'prod' }, 'call-retry');
  await generateText({ model: again.model, tools: { deploy: gated }, prompt: 'deploy api', stopWhen: stepCountIs(3) });
  assert.equal((await gw.requestsFor('ai.deploy.retry')).length, 1);
  assert.equal(runs.length, 1, 'one approval ran the tool twice');
  const [seen] = toolResultsSeen(again.prompts[1]);
  assert.equal(seen.output.type, 'error-text');
  assert.match(seen.output.value, /already carried out/);
});

test('streamText and a stored UI conversation tell the model of a denial the same way', bounded, async () => {
  const { deploy, runs } = deployTool();
  const gated = withApproval(deploy, { client, action: 'ai.deploy.stream' });
  const prompts = [];
  const model = new MockLanguageModelV3({
    doStream: async ({ prompt }) => {
      prompts.push(prompt);
      const parts = prompts.length === 1
        ? [{ type: 'tool-call', toolCallId: 'call-stream', toolName: 'deploy', input: '{"service":"api","env":"prod"}' },
          { type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage }]
        : [{ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'ok' }, { type: 'text-end', id: 't' },
          { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage }];
      return { stream: convertArrayToReadableStream(parts) };
    },
  });
  const stream = streamText({ model, tools: { deploy: gated }, prompt: 'deploy api', stopWhen: stepCountIs(3) });
  const text = stream.text;
  const pending = await gw.pendingRequest({ action: 'ai.deploy.stream' });
  await gw.decide(pending.id, gw.aliceToken, { choice: 'deny', comment: 'no' });
  assert.equal(await text, 'ok');
  assert.equal(runs.length, 0);
  const [seen] = toolResultsSeen(prompts[1]);
  assert.equal(seen.output.type, 'execution-denied');
  assert.match(seen.output.reason, /denied by alice \("no"\)/);

  // The tool part a chat UI stores for this call, converted back for the next turn.
  const [toolResult] = (await stream.steps)[0].toolResults;
  const restored = await convertToModelMessages(
    [{ role: 'assistant', parts: [{ type: 'tool-deploy', toolCallId: 'call-stream', state: 'output-available',
      input: toolResult.input, output: JSON.parse(JSON.stringify(toolResult.output)) }] }],
    { tools: { deploy: gated } },
  );
  const restoredResult = restored.find((m) => m.role === 'tool').content[0];
  assert.deepEqual(restoredResult.output, seen.output);
});

test('withApproval refuses, when wrapping, a tool without execute and an action the server would refuse', bounded, () => {
  const clientSide = tool({ description: 'ask the user', inputSchema: z.object({ q: z.string() }) });
  assert.throws(() => withApproval(clientSide, { client, action: 'ai.ask' }), TypeError);
  assert.throws(() => withApproval(deployTool().deploy, { client, action: 'deploy the service' }), TypeError);
});

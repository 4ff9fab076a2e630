// countersign/openai-agents against a real countersign server and the real Runner of the
// OpenAI Agents SDK, driven by a scripted model written here (the SDK's Model interface; no
// network, no API key): its first answer calls a tool, its second is a final text. What the
// second call's input holds is what the model was told about the tool call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, Runner, RunState, Usage, setTracingDisabled, tool } from '@openai/agents';
import { z } from 'zod';
import { Client, ReceiptAlreadyConsumed } from 'countersign';
import { countersignNeedsApproval, resolveInterruptions, withCountersign } from 'countersign/openai-agents';
import { startGateway } from './harness.mjs';

setTracingDisabled(true);

// A bound per test, so a run that never lets go fails the test instead of hanging the suite.
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

// A Model that first calls `toolName` with `args` as call `callId`, then answers "done".
// `requests` collects every ModelRequest it gets. A second instance can continue a script
// (after a restored RunState) by starting at `turn` 1.
class ScriptedModel {
  constructor(toolName, args, callId, { turn = 0 } = {}) {
    this.toolName = toolName;
    this.args = args;
    this.callId = callId;
    this.turn = turn;
    this.requests = [];
  }

  async getResponse(request) {
    this.requests.push(request);
    const turn = this.turn++;
    if (turn === 0) {
      return {
        usage: new Usage(),
        output: [{
          type: 'function_call', id: `fc_${this.callId}`, callId: this.callId, name: this.toolName,
          arguments: JSON.stringify(this.args), status: 'completed',
        }],
      };
    }
    return {
      usage: new Usage(),
      output: [{
        type: 'message', id: `msg_${this.callId}`, role: 'assistant', status: 'completed',
        content: [{ type: 'output_text', text: 'done' }],
      }],
    };
  }

  async *getStreamedResponse() {
    throw new Error('the scripted model does not stream');
  }

  // The function_call_result the model was given for `callId` in its latest request.
  resultFor(callId) {
    const input = this.requests.at(-1).input;
    return Array.isArray(input) ? input.find((item) => item.type === 'function_call_result' && item.callId === callId) : undefined;
  }
}

const deployParameters = z.object({ service: z.string(), version: z.string() });

// A deploy tool gated by withCountersign; `runs` records every execution's input.
function gatedDeploy(name, approval = {}) {
  const runs = [];
  const deploy = tool(withCountersign(client, {
    name,
    description: 'Deploy a service',
    parameters: deployParameters,
    execute: async (input) => {
      runs.push(input);
      return `deployed ${input.service}@${input.version}`;
    },
  }, approval));
  return { deploy, runs };
}

function agentWith(deploy, model) {
  return new Agent({ name: 'ops', instructions: 'You deploy services.', tools: [deploy], model });
}

// What the SDK tells a model about a call a program rejected itself (state.reject), with no
// countersign involved: the reference for what a countersign rejection must look like.
async function sdkRejectionOutput() {
  const control = new ScriptedModel('restart_control', { service: 'db' }, 'call_control');
  const controlTool = tool({
    name: 'restart_control', description: 'Restart a service', parameters: z.object({ service: z.string() }),
    needsApproval: true, execute: async () => 'restarted',
  });
  const controlAgent = agentWith(controlTool, control);
  const paused = await new Runner().run(controlAgent, 'Restart db');
  paused.state.reject(paused.interruptions[0]);
  await new Runner().run(controlAgent, paused.state);
  const result = control.resultFor('call_control');
  assert.ok(result, 'the control run gave the model a result for the rejected call');
  return result;
}

async function request(id) {
  const r = await gw.call('GET', `/v1/requests/${id}`);
  assert.equal(r.status, 200);
  return r.body;
}

test('the tool runs only after an approval through countersign, once, with the approved input', bounded, async () => {
  const { deploy, runs } = gatedDeploy('deploy_approve');
  const model = new ScriptedModel('deploy_approve', { service: 'web', version: '1.4' }, 'call_approve');
  const agent = agentWith(deploy, model);

  const paused = await new Runner().run(agent, 'Deploy web 1.4');
  assert.equal(paused.interruptions.length, 1);
  assert.equal(paused.interruptions[0].rawItem.callId, 'call_approve');
  assert.deepEqual(runs, [], 'nothing runs before the approval');

  const pending = await gw.pendingRequest({ action: 'deploy_approve' });
  assert.deepEqual(pending.arguments, { service: 'web', version: '1.4' });
  assert.equal(pending.details.call_id, 'call_approve');
  assert.equal(pending.details.tool, 'deploy_approve');

  // Without waiting, an undecided request is reported and the state left paused.
  const early = await resolveInterruptions(paused.state, { wait: false });
  assert.deepEqual(early.map((r) => [r.outcome, r.requestId]), [['pending', pending.id]]);
  assert.equal(paused.state.getInterruptions().length, 1);

  await gw.decide(pending.id, gw.aliceToken, { choice: 'approve', comment: 'go' });
  const resolved = await resolveInterruptions(paused.state);
  assert.equal(resolved.length, 1);
  assert.equal(resolved[0].outcome, 'approved');
  assert.equal(resolved[0].requestId, pending.id);
  assert.equal(resolved[0].reasonCode, 'approved');
  assert.equal(resolved[0].edited, false);

  const finished = await new Runner().run(agent, paused.state);
  assert.equal(finished.finalOutput, 'done');
  assert.deepEqual(runs, [{ service: 'web', version: '1.4' }]);
  assert.match(JSON.stringify(model.resultFor('call_approve').output), /deployed web@1\.4/);

  // One request for the call, however often the SDK and the adapter asked about it, and
  // the tool's run reported on it.
  const all = await gw.requestsFor('deploy_approve');
  assert.equal(all.length, 1);
  const done = await request(pending.id);
  assert.equal(done.status, 'approved');
  assert.equal(done.execution?.status, 'succeeded');
});

test('a denial never runs the tool, and the model reads the SDK\'s own rejection', bounded, async () => {
  const sdkRejection = await sdkRejectionOutput();
  const runs = [];
  const restart = tool({
    name: 'restart_service', description: 'Restart a service', parameters: z.object({ service: z.string() }),
    needsApproval: countersignNeedsApproval(client, { action: 'restart_service' }),
    execute: async (input) => {
      runs.push(input);
      return 'restarted';
    },
  });
  const model = new ScriptedModel('restart_service', { service: 'db' }, 'call_deny');
  const agent = agentWith(restart, model);
  const paused = await new Runner().run(agent, 'Restart db');
  assert.equal(paused.interruptions.length, 1);

  const pending = await gw.pendingRequest({ action: 'restart_service' });
  assert.deepEqual(pending.arguments, { service: 'db' });
  await gw.decide(pending.id, gw.aliceToken, { choice: 'deny', comment: 'not during business hours' });
  const resolved = await resolveInterruptions(paused.state);
  assert.deepEqual(resolved.map((r) => [r.outcome, r.requestId, r.status, r.reasonCode]),
    [['rejected', pending.id, 'denied', 'denied_by_person']]);

  const finished = await new Runner().run(agent, paused.state);
  assert.equal(finished.finalOutput, 'done');
  assert.deepEqual(runs, [], 'a denied call never runs');
  const told = model.resultFor('call_deny');
  assert.ok(told, 'the model was given a result for the denied call');
  assert.deepEqual(told.output, sdkRejection.output);
  assert.equal(told.status, sdkRejection.status);
  assert.notEqual(sdkRejection.output, undefined);
});

test('a run resumes from a serialized RunState in fresh Agent and Runner objects', bounded, async () => {
  const first = gatedDeploy('deploy_resume');
  const model = new ScriptedModel('deploy_resume', { service: 'api', version: '7' }, 'call_resume');
  const paused = await new Runner().run(agentWith(first.deploy, model), 'Deploy api 7');
  assert.equal(paused.interruptions.length, 1);
  const stored = paused.state.toString();

  // Days later, in another process: the gateway was redeployed meanwhile, the program
  // builds its agent again and restores the stored state.
  const pending = await gw.pendingRequest({ action: 'deploy_resume' });
  await gw.restart();
  await gw.decide(pending.id, gw.aliceToken, { choice: 'approve' });

  const second = gatedDeploy('deploy_resume');
  const resumedModel = new ScriptedModel('deploy_resume', { service: 'api', version: '7' }, 'call_resume', { turn: 1 });
  const agent = agentWith(second.deploy, resumedModel);
  const state = await RunState.fromString(agent, stored);
  assert.equal(state.getInterruptions().length, 1);
  const resolved = await resolveInterruptions(state);
  assert.deepEqual(resolved.map((r) => [r.outcome, r.requestId]), [['approved', pending.id]]);

  const finished = await new Runner().run(agent, state);
  assert.equal(finished.finalOutput, 'done');
  assert.deepEqual(first.runs, []);
  assert.deepEqual(second.runs, [{ service: 'api', version: '7' }]);
  assert.equal((await gw.requestsFor('deploy_resume')).length, 1, 'the restored run found its request, it did not ask again');
});

test('arguments the approvers edited reach the tool', bounded, async () => {
  const { deploy, runs } = gatedDeploy('deploy_edit');
  const model = new ScriptedModel('deploy_edit', { service: 'web', version: '2.0' }, 'call_edit');
  const agent = agentWith(deploy, model);
  const paused = await new Runner().run(agent, 'Deploy web 2.0');
  const pending = await gw.pendingRequest({ action: 'deploy_edit' });
  await gw.decide(pending.id, gw.aliceToken, { choice: 'approve', arguments: { service: 'web', version: '1.9' } });

  const resolved = await resolveInterruptions(paused.state);
  assert.deepEqual(resolved.map((r) => [r.outcome, r.edited]), [['approved', true]]);
  const finished = await new Runner().run(agent, paused.state);
  assert.equal(finished.finalOutput, 'done');
  assert.deepEqual(runs, [{ service: 'web', version: '1.9' }]);
  assert.match(JSON.stringify(model.resultFor('call_edit').output), /deployed web@1\.9/);
});

test('an edit a tool cannot take is rejected: countersignNeedsApproval alone, or arguments its schema refuses', bounded, async () => {
  // countersignNeedsApproval alone: the tool would run the model's arguments, not the edit.
  const runs = [];
  const restart = tool({
    name: 'scale_service', description: 'Scale a service', parameters: z.object({ service: z.string(), replicas: z.number() }),
    needsApproval: countersignNeedsApproval(client, { action: 'scale_service' }),
    execute: async (input) => {
      runs.push(input);
      return 'scaled';
    },
  });
  const model = new ScriptedModel('scale_service', { service: 'web', replicas: 10 }, 'call_scale');
  const agent = agentWith(restart, model);
  const paused = await new Runner().run(agent, 'Scale web to 10');
  const pending = await gw.pendingRequest({ action: 'scale_service' });
  await gw.decide(pending.id, gw.aliceToken, { choice: 'approve', arguments: { service: 'web', replicas: 3 } });
  const resolved = await resolveInterruptions(paused.state);
  assert.deepEqual(resolved.map((r) => [r.outcome, r.status, r.edited]), [['rejected', 'approved', true]]);
  assert.match(resolved[0].problem, /runs only the arguments the model gave/);
  await new Runner().run(agent, paused.state);
  assert.deepEqual(runs, []);

  // withCountersign with an edit its zod schema refuses: rejected like a denial, with the
  // schema's complaint for the program.
  const { deploy, runs: deployRuns } = gatedDeploy('deploy_bad_edit');
  const deployModel = new ScriptedModel('deploy_bad_edit', { service: 'web', version: '3' }, 'call_bad_edit');
  const deployAgent = agentWith(deploy, deployModel);
  const deployPaused = await new Runner().run(deployAgent, 'Deploy web 3');
  const deployPending = await gw.pendingRequest({ action: 'deploy_bad_edit' });
  await gw.decide(deployPending.id, gw.aliceToken, { choice: 'approve', arguments: { service: 'web', version: 3 } });
  const deployResolved = await resolveInterruptions(deployPaused.state);
  assert.deepEqual(deployResolved.map((r) => [r.outcome, r.status, r.edited]), [['rejected', 'approved', true]]);
  assert.match(deployResolved[0].problem, /do not fit the tool's parameters/);
  await new Runner().run(deployAgent, deployPaused.state);
  assert.deepEqual(deployRuns, []);
  assert.deepEqual(deployModel.resultFor('call_bad_edit').output, (await sdkRejectionOutput()).output);
});

test('a call whose input the tool\'s schema changed (a default filled, an extra key dropped) still finds its one request', bounded, async () => {
  const runs = [];
  const scale = tool(withCountersign(client, {
    name: 'scale_normalised', description: 'Scale a service',
    parameters: z.object({ service: z.string(), replicas: z.number().default(2) }),
    execute: async (input) => {
      runs.push(input);
      return 'scaled';
    },
  }));
  // The model leaves out replicas and adds a key the schema does not know.
  const model = new ScriptedModel('scale_normalised', { service: 'web', reason: 'load' }, 'call_normalised');
  const agent = agentWith(scale, model);
  const paused = await new Runner().run(agent, 'Scale web');
  const pending = await gw.pendingRequest({ action: 'scale_normalised' });
  assert.deepEqual(pending.arguments, { service: 'web', replicas: 2 }, 'approvers see what the tool will get');
  await gw.decide(pending.id, gw.aliceToken, { choice: 'approve' });
  const resolved = await resolveInterruptions(paused.state);
  assert.deepEqual(resolved.map((r) => [r.outcome, r.requestId]), [['approved', pending.id]]);
  await new Runner().run(agent, paused.state);
  assert.deepEqual(runs, [{ service: 'web', replicas: 2 }]);
  assert.equal((await gw.requestsFor('scale_normalised')).length, 1);
});

test('several calls in one turn: each gets its own request, decided calls go ahead, the rest pause again', bounded, async () => {
  const { deploy, runs } = gatedDeploy('deploy_many');
  // One model answer with two calls of the tool, then a final text each time it is asked.
  const requests = [];
  const model = {
    async getResponse(request) {
      requests.push(request);
      if (requests.length > 1) {
        return { usage: new Usage(), output: [{ type: 'message', id: `msg_${requests.length}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'done' }] }] };
      }
      const call = (callId, version) => ({
        type: 'function_call', id: `fc_${callId}`, callId, name: 'deploy_many', status: 'completed',
        arguments: JSON.stringify({ service: 'web', version }),
      });
      return { usage: new Usage(), output: [call('call_many_a', '1'), call('call_many_b', '2')] };
    },
    async *getStreamedResponse() {
      throw new Error('no streaming');
    },
  };
  const agent = agentWith(deploy, model);
  const paused = await new Runner().run(agent, 'Deploy web 1 and 2');
  assert.equal(paused.interruptions.length, 2);

  // needsApproval made both requests before the run returned.
  const all = await gw.requestsFor('deploy_many');
  assert.equal(all.length, 2);
  const byCall = Object.fromEntries(all.map((r) => [r.details.call_id, r]));
  assert.deepEqual(byCall.call_many_a.arguments, { service: 'web', version: '1' });
  assert.deepEqual(byCall.call_many_b.arguments, { service: 'web', version: '2' });

  await gw.decide(byCall.call_many_a.id, gw.aliceToken, { choice: 'approve' });
  const first = await resolveInterruptions(paused.state, { wait: false });
  assert.deepEqual(first.map((r) => [r.callId, r.outcome]), [['call_many_a', 'approved'], ['call_many_b', 'pending']]);
  const again = await new Runner().run(agent, paused.state);
  assert.deepEqual(runs, [{ service: 'web', version: '1' }]);
  assert.deepEqual(again.interruptions.map((i) => i.rawItem.callId), ['call_many_b'], 'the undecided call pauses the run again');

  await gw.decide(byCall.call_many_b.id, gw.aliceToken, { choice: 'deny' });
  const second = await resolveInterruptions(again.state);
  assert.deepEqual(second.map((r) => [r.callId, r.outcome, r.reasonCode]), [['call_many_b', 'rejected', 'denied_by_person']]);
  const finished = await new Runner().run(agent, again.state);
  assert.equal(finished.finalOutput, 'done');
  assert.deepEqual(runs, [{ service: 'web', version: '1' }]);
  assert.equal((await gw.requestsFor('deploy_many')).length, 2);
});

test('a wait that runs out or is aborted changes nothing in the state', bounded, async () => {
  const { deploy, runs } = gatedDeploy('deploy_wait');
  const model = new ScriptedModel('deploy_wait', { service: 'web', version: '5' }, 'call_wait');
  const agent = agentWith(deploy, model);
  const paused = await new Runner().run(agent, 'Deploy web 5');
  const pending = await gw.pendingRequest({ action: 'deploy_wait' });

  const ranOut = await resolveInterruptions(paused.state, { timeoutMs: 0 });
  assert.deepEqual(ranOut.map((r) => [r.outcome, r.requestId]), [['pending', pending.id]]);

  const controller = new AbortController();
  const waiting = [];
  const aborted = resolveInterruptions(paused.state, {
    signal: controller.signal,
    onWaiting: (info) => {
      waiting.push(info.requestId);
      controller.abort(new Error('shutting down'));
    },
  });
  await assert.rejects(aborted, /shutting down/);
  assert.deepEqual(waiting, [pending.id]);

  // Nothing was approved or rejected: resuming pauses again on the same call, and the
  // request is still there to be decided.
  const again = await new Runner().run(agent, paused.state);
  assert.deepEqual(again.interruptions.map((i) => i.rawItem.callId), ['call_wait']);
  assert.deepEqual(runs, []);
  assert.equal((await request(pending.id)).status, 'pending');
});

test('a tool approved around countersign (state.approve by hand) does not run', bounded, async () => {
  const { deploy, runs } = gatedDeploy('deploy_bypass');
  const model = new ScriptedModel('deploy_bypass', { service: 'web', version: '9' }, 'call_bypass');
  const agent = agentWith(deploy, model);
  const paused = await new Runner().run(agent, 'Deploy web 9');
  const pending = await gw.pendingRequest({ action: 'deploy_bypass' });
  paused.state.approve(paused.interruptions[0]);
  const finished = await new Runner().run(agent, paused.state);
  assert.equal(finished.finalOutput, 'done');
  assert.deepEqual(runs, []);
  assert.match(JSON.stringify(model.resultFor('call_bypass').output), /error/i, 'the model is told the call failed');
  // The request nobody decided is cancelled rather than left for approvers.
  assert.equal((await request(pending.id)).status, 'cancelled');
});

test('an approving policy means no pause at all; a denying one pauses and is rejected', bounded, async () => {
  const policyGw = await startGateway({
    config: [
      '[[policy]]',
      'name = "read-only"',
      'match = { action = "status_check" }',
      'decision = "approve"',
      '',
      '[[policy]]',
      'name = "never-drop"',
      'match = { action = "drop_database" }',
      'decision = "deny"',
      '',
      '[[policy]]',
      'name = "once"',
      'match = { action = "rotate_keys" }',
      'decision = "approve"',
      'receipt = "single_use"',
      '',
    ].join('\n'),
  });
  try {
    const policyClient = new Client({ url: policyGw.url, token: policyGw.agentToken });
    const runs = [];
    const make = (name) => tool(withCountersign(policyClient, {
      name, description: 'd', parameters: z.object({ target: z.string() }),
      execute: async (input) => {
        runs.push([name, input]);
        return `${name} ok`;
      },
    }));

    const statusModel = new ScriptedModel('status_check', { target: 'web' }, 'call_status');
    const statusAgent = agentWith(make('status_check'), statusModel);
    const result = await new Runner().run(statusAgent, 'Check web');
    assert.equal(result.interruptions.length, 0, 'an approving policy does not pause the run');
    assert.equal(result.finalOutput, 'done');
    assert.deepEqual(runs, [['status_check', { target: 'web' }]]);
    const [statusRequest] = await policyGw.requestsFor('status_check');
    assert.equal(statusRequest.status, 'approved');
    assert.equal(statusRequest.reason_code, 'approved_by_policy');

    const dropModel = new ScriptedModel('drop_database', { target: 'prod' }, 'call_drop');
    const dropAgent = agentWith(make('drop_database'), dropModel);
    const paused = await new Runner().run(dropAgent, 'Drop prod');
    assert.equal(paused.interruptions.length, 1, 'a denying policy pauses the run, so the denial reaches the model');
    const resolved = await resolveInterruptions(paused.state, {
      wait: false,
      rejectionMessage: (request) => `refused by policy ${request.policy}`,
    });
    assert.deepEqual(resolved.map((r) => [r.outcome, r.reasonCode]), [['rejected', 'denied_by_policy']]);
    await new Runner().run(dropAgent, paused.state);
    assert.deepEqual(runs.map(([name]) => name), ['status_check']);
    assert.match(JSON.stringify(dropModel.resultFor('call_drop').output), /refused by policy never-drop/);

    // A single-use receipt is spent by the tool's run, so it cannot authorise another.
    const rotateModel = new ScriptedModel('rotate_keys', { target: 'kms' }, 'call_rotate');
    const rotated = await new Runner().run(agentWith(make('rotate_keys'), rotateModel), 'Rotate');
    assert.equal(rotated.interruptions.length, 0);
    assert.deepEqual(runs.at(-1), ['rotate_keys', { target: 'kms' }]);
    const [rotateRequest] = await policyGw.requestsFor('rotate_keys');
    assert.equal(rotateRequest.receipt_use, 'single_use');
    await assert.rejects(policyClient.consumeReceipt(rotateRequest.receipt), ReceiptAlreadyConsumed);
  } finally {
    await policyGw.stop();
  }
});

test('when countersign cannot be reached the run fails and the tool does not run', bounded, async () => {
  // A port nobody listens on: the stopped gateway's.
  const down = await startGateway();
  const url = down.url;
  await down.stop();
  const unreachable = new Client({ url, token: 'cs_unused', backoffInitialMs: 1, backoffMaxMs: 2, requestTimeoutMs: 2_000 });
  const runs = [];
  const deploy = tool(withCountersign(unreachable, {
    name: 'deploy_down', description: 'Deploy a service', parameters: deployParameters,
    execute: async (input) => {
      runs.push(input);
      return 'deployed';
    },
  }));
  const model = new ScriptedModel('deploy_down', { service: 'web', version: '1' }, 'call_down');
  await assert.rejects(new Runner().run(agentWith(deploy, model), 'Deploy web 1'), /TransportError: countersign at .* could not be reached/);
  assert.deepEqual(runs, []);
});

test('interruptions of tools countersign does not gate are left alone', bounded, async () => {
  const other = tool({
    name: 'ungated', description: 'd', parameters: z.object({ x: z.string() }), needsApproval: true,
    execute: async () => 'ran',
  });
  const model = new ScriptedModel('ungated', { x: 'y' }, 'call_ungated');
  const paused = await new Runner().run(agentWith(other, model), 'go');
  const resolved = await resolveInterruptions(paused.state);
  assert.deepEqual(resolved.map((r) => [r.outcome, r.callId, r.tool, r.requestId]), [['skipped', 'call_ungated', 'ungated', null]]);
  assert.equal(paused.state.getInterruptions().length, 1);
});

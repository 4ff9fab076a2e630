// countersign/langgraph against a real countersign server and a real LangGraph StateGraph with
// a MemorySaver: a node asks with requestApproval, the graph pauses (LangGraph's interrupt),
// an approver decides over the API, and resumeFromCountersign resumes the thread. The guarded
// step is a node of its own after the approval node, as LangGraph advises for side effects,
// and counts its runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Annotation, Command, END, MemorySaver, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { ToolNode } from '@langchain/langgraph/prebuilt';
import { AIMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { Client, CountersignError } from 'countersign';
import {
  isCountersignInterrupt,
  pendingApprovals,
  requestApproval,
  resumeCommand,
  resumeFromCountersign,
} from 'countersign/langgraph';
import { startGateway } from './harness.mjs';

// A bound per test, so a graph that never lets go fails the test instead of hanging the run.
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

const State = Annotation.Root({
  ref: Annotation(),
  decision: Annotation(),
  approvedRef: Annotation(),
  deployed: Annotation({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

// approve → (approved) deploy → END; (not approved) → END. `counts` records how often each
// node ran; `decisions` every decision the approval node got; `onWaiting` is told when the node,
// resumed before anyone decided, waits for the decision.
function deployGraph(action, { onWaiting, allowEditedArguments } = {}) {
  const counts = { approve: 0, deploy: 0 };
  const decisions = [];
  const graph = new StateGraph(State)
    .addNode('approve', async (state) => {
      counts.approve += 1;
      const decision = await requestApproval({
        client,
        action,
        title: `Deploy ${state.ref}`,
        arguments: { ref: state.ref },
        onWaiting,
        allowEditedArguments,
      });
      decisions.push(decision);
      return decision.approved
        ? { decision: 'approved', approvedRef: decision.arguments.ref }
        : { decision: decision.reasonCode };
    })
    .addNode('deploy', async (state) => {
      counts.deploy += 1;
      return { deployed: [state.approvedRef] };
    })
    .addEdge(START, 'approve')
    .addConditionalEdges('approve', (state) => (state.decision === 'approved' ? 'deploy' : END))
    .addEdge('deploy', END)
    .compile({ checkpointer: new MemorySaver() });
  return { graph, counts, decisions };
}

// A new thread per test. The signal bounds a node's wait for a decision (LangGraph hands it to
// the node's config), so a regression that waits for nobody fails instead of keeping the
// process alive.
let threads = 0;
function threadConfig() {
  threads += 1;
  return { configurable: { thread_id: `thread-${threads}` }, signal: AbortSignal.timeout(15_000) };
}

test('the graph pauses at the approval node, and resuming after an approval runs the guarded step once', bounded, async () => {
  const action = 'lg.deploy.approve';
  const { graph, counts, decisions } = deployGraph(action);
  const config = threadConfig();

  const paused = await graph.invoke({ ref: 'v2.0' }, config);
  assert.equal(paused.__interrupt__?.length, 1, 'the graph pauses');
  assert.ok(isCountersignInterrupt(paused.__interrupt__[0].value));
  const request = await gw.pendingRequest({ action });
  assert.deepEqual(request.arguments, { ref: 'v2.0' });
  assert.equal(request.title, 'Deploy v2.0');
  assert.equal(request.session, config.configurable.thread_id, 'the thread is the session');
  assert.equal(counts.deploy, 0, 'the guarded step has not run');
  const [pending] = await pendingApprovals(graph, config);
  assert.equal(pending.requestId, request.id);
  assert.equal(pending.node, 'approve');
  assert.match(pending.idempotencyKey, /^lg:thread-\d+:approve:[0-9a-f-]+:0$/);

  await gw.decide(request.id, gw.aliceToken, { choice: 'approve', comment: 'ship it' });
  const output = await resumeFromCountersign(graph, config, { client });

  assert.equal(output.__interrupt__, undefined, 'the graph ran to its end');
  assert.deepEqual(output.deployed, ['v2.0']);
  assert.equal(counts.deploy, 1, 'the guarded step ran once');
  assert.equal(counts.approve, 2, 'the approval node ran again on resume');
  assert.equal(decisions.length, 1);
  assert.equal(decisions[0].approved, true);
  assert.equal(decisions[0].requestId, request.id);
  assert.ok(decisions[0].receipt, 'the decision carries the receipt');
  assert.equal((await gw.requestsFor(action)).length, 1, 'one request');
  assert.deepEqual(await pendingApprovals(graph, config), []);
});

test('a node that re-runs for two approvals, and a repeated resume, create each request once', bounded, async () => {
  const first = 'lg.twice.backup';
  const second = 'lg.twice.migrate';
  const counts = { node: 0, guarded: 0 };
  const graph = new StateGraph(State)
    .addNode('migrate', async (state) => {
      counts.node += 1;
      const backup = await requestApproval({ client, action: first, title: 'Back up the database', arguments: { db: state.ref } });
      const migrate = await requestApproval({ client, action: second, title: 'Migrate the database', arguments: { db: state.ref } });
      if (!backup.approved || !migrate.approved) return { decision: 'refused' };
      counts.guarded += 1;
      return { decision: 'approved', deployed: [state.ref] };
    })
    .addEdge(START, 'migrate')
    .addEdge('migrate', END)
    .compile({ checkpointer: new MemorySaver() });
  const config = threadConfig();

  await graph.invoke({ ref: 'orders' }, config);
  const backup = await gw.pendingRequest({ action: first });
  await gw.decide(backup.id, gw.aliceToken, { choice: 'approve' });
  const firstPause = await pendingApprovals(graph, config);
  const pausedAgain = await resumeFromCountersign(graph, config, { client });

  // The node ran again from its start: it found the first request decided and paused on the
  // second one.
  assert.equal(pausedAgain.__interrupt__?.length, 1);
  assert.equal(pausedAgain.__interrupt__[0].value.countersign.action, second);
  assert.match(pausedAgain.__interrupt__[0].value.countersign.idempotencyKey, /:1$/, 'the second call of the run');
  const migrate = await gw.pendingRequest({ action: second });
  await gw.decide(migrate.id, gw.aliceToken, { choice: 'approve' });
  const done = await resumeFromCountersign(graph, config, { client });
  assert.deepEqual(done.deployed, ['orders']);

  // The first pause's Command sent again to the finished thread runs nothing.
  await graph.invoke(resumeCommand(firstPause), config);

  assert.equal(counts.node, 3, 'first run, resume after the first approval, resume after the second');
  assert.equal(counts.guarded, 1);
  assert.equal((await gw.requestsFor(first)).length, 1, 'the first approval was asked once');
  assert.equal((await gw.requestsFor(second)).length, 1, 'the second approval was asked once');
});

test('a denial reaches the node as a decision it branches on, and the guarded step never runs', bounded, async () => {
  const action = 'lg.deploy.deny';
  const { graph, counts, decisions } = deployGraph(action);
  const config = threadConfig();

  await graph.invoke({ ref: 'v3.0' }, config);
  const request = await gw.pendingRequest({ action });
  await gw.decide(request.id, gw.aliceToken, { choice: 'deny', comment: 'not on a Friday' });
  const output = await resumeFromCountersign(graph, config, { client });

  assert.equal(output.decision, 'denied_by_person', "the node's denied branch");
  assert.deepEqual(output.deployed, []);
  assert.equal(counts.deploy, 0, 'the guarded step did not run');
  const [decision] = decisions;
  assert.equal(decision.approved, false);
  assert.equal(decision.status, 'denied');
  assert.equal(decision.reasonCode, 'denied_by_person');
  assert.match(decision.message, /denied by alice: not on a Friday/);
  assert.equal((await gw.requestsFor(action)).length, 1);
});

test('a resume after the countersign server restarted finds the same request', bounded, async () => {
  const action = 'lg.deploy.restart';
  const { graph, counts, decisions } = deployGraph(action);
  const config = threadConfig();

  await graph.invoke({ ref: 'v4.0' }, config);
  const request = await gw.pendingRequest({ action });
  await gw.restart();
  await gw.decide(request.id, gw.aliceToken, { choice: 'approve' });
  const output = await resumeFromCountersign(graph, config, { client });

  assert.deepEqual(output.deployed, ['v4.0']);
  assert.equal(counts.deploy, 1);
  assert.equal(decisions[0].requestId, request.id, 'the re-run found the request made before the restart');
  assert.equal((await gw.requestsFor(action)).length, 1);
});

test('resuming without waiting leaves an undecided thread paused, and resumes it once decided', bounded, async () => {
  const action = 'lg.deploy.nowait';
  const { graph, counts } = deployGraph(action);
  const config = threadConfig();

  await graph.invoke({ ref: 'v5.0' }, config);
  assert.equal(await resumeFromCountersign(graph, config, { client, wait: false }), undefined);
  assert.equal((await pendingApprovals(graph, config)).length, 1, 'still paused');
  assert.equal(counts.approve, 1, 'nothing was resumed');

  const request = await gw.pendingRequest({ action });
  await gw.decide(request.id, gw.aliceToken, { choice: 'approve' });
  const output = await resumeFromCountersign(graph, config, { client, wait: false });
  assert.deepEqual(output.deployed, ['v5.0']);
  assert.equal(counts.deploy, 1);
});

test('a resume value of its own cannot approve: the node reads the decision from the server', bounded, async () => {
  const action = 'lg.deploy.forged';
  let nodeWaits;
  const waiting = new Promise((resolve) => {
    nodeWaits = resolve;
  });
  const { graph, counts, decisions } = deployGraph(action, { onWaiting: (info) => nodeWaits(info) });
  const config = threadConfig();

  await graph.invoke({ ref: 'v6.0' }, config);
  const request = await gw.pendingRequest({ action });
  // Resumed before anyone decided, with a value claiming approval: the node waits for the
  // real decision, which is a denial.
  const resumed = graph.invoke(new Command({ resume: { approved: true } }), config);
  assert.equal((await waiting).requestId, request.id, 'the resumed node waits for the decision');
  await gw.decide(request.id, gw.aliceToken, { choice: 'deny' });
  const output = await resumed;

  assert.equal(output.decision, 'denied_by_person');
  assert.equal(counts.deploy, 0);
  assert.equal(decisions[0].requestId, request.id);
});

test('a node whose request changes between runs fails with a CountersignError instead of asking twice', bounded, async () => {
  const action = 'lg.deploy.unstable';
  let runs = 0;
  const graph = new StateGraph(State)
    .addNode('approve', async () => {
      runs += 1;
      // A title that differs on the re-run, as a timestamp in it would.
      const decision = await requestApproval({ client, action, title: `Deploy (attempt ${runs})` });
      return { decision: decision.approved ? 'approved' : decision.reasonCode };
    })
    .addEdge(START, 'approve')
    .addEdge('approve', END)
    .compile({ checkpointer: new MemorySaver() });
  const config = threadConfig();

  await graph.invoke({ ref: 'v7.0' }, config);
  const request = await gw.pendingRequest({ action });
  await gw.decide(request.id, gw.aliceToken, { choice: 'approve' });
  await assert.rejects(resumeFromCountersign(graph, config, { client }), (error) => {
    assert.ok(error instanceof CountersignError, `got ${error}`);
    assert.match(error.message, /different request than on its first run/);
    assert.match(error.message, new RegExp(request.id));
    return true;
  });
  assert.equal((await gw.requestsFor(action)).length, 1);
});

test('an approval with edited arguments runs the edit only when the node accepts edits', bounded, async () => {
  for (const allowEditedArguments of [false, true]) {
    const action = `lg.deploy.edited.${allowEditedArguments}`;
    const { graph, counts, decisions } = deployGraph(action, { allowEditedArguments });
    const config = threadConfig();

    await graph.invoke({ ref: 'v8.0' }, config);
    const request = await gw.pendingRequest({ action });
    await gw.decide(request.id, gw.aliceToken, { choice: 'approve', arguments: { ref: 'v8.0.1' } });
    const output = await resumeFromCountersign(graph, config, { client });

    assert.equal(decisions[0].edited, true);
    if (allowEditedArguments) {
      assert.equal(decisions[0].approved, true);
      assert.deepEqual(decisions[0].arguments, { ref: 'v8.0.1' });
      assert.deepEqual(output.deployed, ['v8.0.1'], 'the guarded step ran the edit');
    } else {
      assert.equal(decisions[0].approved, false);
      assert.equal(decisions[0].status, 'approved');
      assert.equal(decisions[0].reasonCode, 'arguments_edited');
      assert.match(decisions[0].message, /edited arguments/);
      assert.equal(counts.deploy, 0, 'an edit the node does not accept runs nothing');
    }
  }
});

test('a loop that comes back to the approval node asks again, once per visit', bounded, async () => {
  const action = 'lg.deploy.loop';
  let visits = 0;
  const graph = new StateGraph(State)
    .addNode('approve', async (state) => {
      visits += 1;
      // The same title and arguments on every visit: only the task in the key tells visits apart.
      const decision = await requestApproval({ client, action, title: 'Rotate the key', arguments: { key: state.ref } });
      return { deployed: [decision.approved ? 'rotated' : 'refused'] };
    })
    .addEdge(START, 'approve')
    .addConditionalEdges('approve', (state) => (state.deployed.length < 2 ? 'approve' : END))
    .compile({ checkpointer: new MemorySaver() });
  const config = threadConfig();

  await graph.invoke({ ref: 'signing' }, config);
  const firstVisit = await gw.pendingRequest({ action });
  await gw.decide(firstVisit.id, gw.aliceToken, { choice: 'approve' });
  const again = await resumeFromCountersign(graph, config, { client });
  assert.equal(again.__interrupt__?.length, 1, 'the second visit pauses for its own approval');
  const secondVisit = await gw.pendingRequest({ action });
  assert.notEqual(secondVisit.id, firstVisit.id);
  await gw.decide(secondVisit.id, gw.aliceToken, { choice: 'deny' });
  const output = await resumeFromCountersign(graph, config, { client });

  assert.deepEqual(output.deployed, ['rotated', 'refused']);
  assert.equal(visits, 4, 'two visits, each run again on its resume');
  assert.equal((await gw.requestsFor(action)).length, 2);
});

test('a key of the caller\'s carries one request over to a later visit of the node', bounded, async () => {
  const action = 'lg.deploy.keyed';
  let visits = 0;
  const graph = new StateGraph(State)
    .addNode('approve', async () => {
      visits += 1;
      const decision = await requestApproval({ client, action, title: 'Open the gate', key: 'gate' });
      return { deployed: [decision.approved ? 'open' : 'shut'] };
    })
    .addEdge(START, 'approve')
    .addConditionalEdges('approve', (state) => (state.deployed.length < 2 ? 'approve' : END))
    .compile({ checkpointer: new MemorySaver() });
  const config = threadConfig();

  const paused = await graph.invoke({ ref: 'gate' }, config);
  assert.match(paused.__interrupt__[0].value.countersign.idempotencyKey, /^lg:thread-\d+:approve:gate$/);
  const request = await gw.pendingRequest({ action });
  await gw.decide(request.id, gw.aliceToken, { choice: 'approve' });
  let output = await resumeFromCountersign(graph, config, { client });
  // The second visit found the decided request: it pauses, and resumes without waiting.
  assert.equal(output.__interrupt__?.[0]?.value.countersign.requestId, request.id);
  output = await resumeFromCountersign(graph, config, { client, wait: false });

  assert.deepEqual(output.deployed, ['open', 'open']);
  assert.equal((await gw.requestsFor(action)).length, 1);
});

test('a request a policy approves at once does not pause the graph', bounded, async () => {
  const action = 'lg.auto.read';
  const policyGw = await startGateway({
    config: '[[policy]]\nname = "lg-auto"\nmatch = { action = "lg.auto.*" }\ndecision = "approve"\n',
  });
  try {
    const policyClient = new Client({ url: policyGw.url, token: policyGw.agentToken });
    const decisions = [];
    const graph = new StateGraph(State)
      .addNode('approve', async (state) => {
        const decision = await requestApproval({ client: policyClient, action, arguments: { ref: state.ref } });
        decisions.push(decision);
        return { deployed: decision.approved ? [state.ref] : [] };
      })
      .addEdge(START, 'approve')
      .addEdge('approve', END)
      .compile({ checkpointer: new MemorySaver() });

    const output = await graph.invoke({ ref: 'logs' }, threadConfig());

    assert.equal(output.__interrupt__, undefined, 'no pause');
    assert.deepEqual(output.deployed, ['logs']);
    assert.equal(decisions.length, 1);
    assert.equal(decisions[0].request.reason_code, 'approved_by_policy');
    assert.equal(decisions[0].request.title, `Run ${action}`, 'the default title');
  } finally {
    await policyGw.stop();
  }
});

test('parallel tool calls in a ToolNode each get their own request, keyed by the tool call', bounded, async () => {
  const action = 'lg.tool.deploy';
  let runs = 0;
  const deploy = tool(
    async ({ service }, config) => {
      runs += 1;
      const decision = await requestApproval({ client, action, title: `Deploy ${service}`, arguments: { service } }, config);
      return decision.approved ? `deployed ${service}` : `refused: ${decision.reasonCode}`;
    },
    { name: 'deploy', description: 'Deploy a service', schema: z.object({ service: z.string() }) },
  );
  const graph = new StateGraph(MessagesAnnotation)
    .addNode('tools', new ToolNode([deploy]))
    .addEdge(START, 'tools')
    .addEdge('tools', END)
    .compile({ checkpointer: new MemorySaver() });
  const config = threadConfig();
  // The model's turn, as a model node would have left it: two calls of the gated tool at once.
  const calls = new AIMessage({
    content: '',
    tool_calls: [
      { id: 'call_api', name: 'deploy', args: { service: 'api' } },
      { id: 'call_web', name: 'deploy', args: { service: 'web' } },
    ],
  });

  let output = await graph.invoke({ messages: [calls] }, config);
  assert.ok(output.__interrupt__?.length >= 1, 'the graph pauses');
  assert.match(output.__interrupt__[0].value.countersign.idempotencyKey, /^lg:thread-\d+:tools:[0-9a-f-]+:tool:call_(api|web)$/);
  // The graph pauses at the first call's interrupt; the other call's create, started at the
  // same moment by the ToolNode, may still be on its way.
  const requests = await gw.requestsAtLeast(action, 2);
  assert.equal(requests.length, 2, 'one request per tool call');
  for (const request of requests) {
    await gw.decide(request.id, gw.aliceToken, { choice: request.arguments.service === 'api' ? 'approve' : 'deny' });
  }
  // LangGraph surfaces one tool call's pause at a time; resume until none is left.
  for (let round = 0; round < 3 && (await pendingApprovals(graph, config)).length > 0; round++) {
    output = await resumeFromCountersign(graph, config, { client });
  }

  assert.equal(output.__interrupt__, undefined);
  const results = output.messages.filter((m) => m.getType() === 'tool').map((m) => [m.tool_call_id, m.content]);
  assert.deepEqual(results.sort(), [
    ['call_api', 'deployed api'],
    ['call_web', 'refused: denied_by_person'],
  ]);
  assert.equal((await gw.requestsFor(action)).length, 2, 'no call asked twice');
  assert.ok(runs >= 4, 'the tools ran again on resume');
});

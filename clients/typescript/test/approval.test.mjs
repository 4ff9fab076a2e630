// requiresApproval against the real server: the function runs only once a person approved,
// with the receipt; every other outcome throws the error its reason code picks, and the
// function never runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  ApprovalCancelled,
  ApprovalDenied,
  ApprovalError,
  ApprovalExpired,
  ApprovalTimedOut,
  Client,
  ReceiptAlreadyConsumed,
  requiresApproval,
  verifyReceipt,
} from 'countersign';
import { startGateway } from './harness.mjs';

const CONFIG = `
[[policy]]
name = "never"
match = { action = "forbidden_*" }
decision = "deny"

[[policy]]
name = "once"
match = { action = "wipe_*" }
receipt = "single_use"
`;

describe('requiresApproval', () => {
  let gw;
  let agent;
  let alice;
  let admin;
  before(async () => {
    gw = await startGateway({ config: CONFIG });
    agent = new Client({ url: gw.url, token: gw.agentToken });
    alice = new Client({ url: gw.url, token: gw.aliceToken });
    admin = new Client({ url: gw.url, token: gw.adminToken });
  });
  after(async () => gw.stop());

  // A gated function that records its calls, and a decider that acts once it has been told the
  // request is waiting (onWaiting), so nothing depends on timing.
  function gate(action, decide, extra = {}) {
    const calls = [];
    const gated = requiresApproval(async (input, approval) => {
      calls.push({ input, approval });
      if (input.fail) throw new RangeError('it broke');
      return `ran ${input.table}`;
    }, {
      action, client: agent, title: (input) => `Drop ${input.table}`,
      onWaiting: (info) => { void decide(info.requestId); },
      ...extra,
    });
    return { gated, calls };
  }

  test('approved: runs once with the verifiable receipt, and reports success', async () => {
    const { gated, calls } = gate('db.drop_table', (id) => alice.approve(id, 'ok'));
    assert.equal(await gated({ table: 'users' }), 'ran users');
    assert.equal(calls.length, 1);
    const { approval } = calls[0];
    assert.equal(approval.request.status, 'approved');
    assert.equal(approval.request.title, 'Drop users');
    assert.deepEqual(approval.request.arguments, { table: 'users' });
    assert.equal(approval.edited, false);
    const claims = await verifyReceipt(approval.receipt, await agent.keys(), { action: 'db.drop_table', arguments: { table: 'users' } });
    assert.equal(claims.request_id, approval.request.id);
    const stored = await agent.get(approval.request.id);
    assert.equal(stored.execution.status, 'succeeded');
  });

  test('a throwing function is reported failed with the error name, and the error reaches the caller', async () => {
    const { gated, calls } = gate('db.drop_table', (id) => alice.approve(id));
    await assert.rejects(gated({ table: 'logs', fail: true }), RangeError);
    const stored = await agent.get(calls[0].approval.request.id);
    assert.equal(stored.execution.status, 'failed');
    assert.equal(stored.execution.detail, 'RangeError');
  });

  test('denied by a person: ApprovalDenied with denied_by_person and the comment; nothing runs', async () => {
    const { gated, calls } = gate('db.drop_table', (id) => alice.deny(id, 'not on a Friday'));
    const error = await gated({ table: 'users' }).catch((e) => e);
    assert.ok(error instanceof ApprovalDenied, String(error));
    assert.equal(error.reasonCode, 'denied_by_person');
    assert.equal(error.status, 'denied');
    assert.match(error.message, /denied by alice: not on a Friday/);
    assert.equal(calls.length, 0);
  });

  test('denied by a policy: ApprovalDenied with denied_by_policy, nobody asked', async () => {
    const { gated, calls } = gate('forbidden_drop', () => assert.fail('nobody should be asked'));
    const error = await gated({ table: 'users' }).catch((e) => e);
    assert.ok(error instanceof ApprovalDenied);
    assert.equal(error.reasonCode, 'denied_by_policy');
    assert.equal(calls.length, 0);
  });

  test('expired on the server: ApprovalExpired with expired; nothing runs', async () => {
    const { gated, calls } = gate('db.drop_table', () => {}, { timeoutSeconds: 1 });
    const error = await gated({ table: 'users' }).catch((e) => e);
    assert.ok(error instanceof ApprovalExpired, String(error));
    assert.ok(error instanceof ApprovalTimedOut);
    assert.equal(error.reasonCode, 'expired');
    assert.equal(calls.length, 0);
  });

  test('cancelled by an admin: ApprovalCancelled with cancelled_by_admin', async () => {
    const { gated, calls } = gate('db.drop_table', (id) => admin.cancel(id, 'wrong ticket'));
    const error = await gated({ table: 'users' }).catch((e) => e);
    assert.ok(error instanceof ApprovalCancelled, String(error));
    assert.equal(error.reasonCode, 'cancelled_by_admin');
    assert.equal(calls.length, 0);
  });

  test('aborting the call cancels the request (cancelled_by_requester) and rejects with the abort reason', async () => {
    const controller = new AbortController();
    let requestId;
    const { gated, calls } = gate('db.drop_table', (id) => { requestId = id; controller.abort(); });
    const error = await gated({ table: 'users' }, { signal: controller.signal }).catch((e) => e);
    assert.equal(error.name, 'AbortError');
    const stored = await agent.get(requestId);
    assert.equal(stored.status, 'cancelled');
    assert.equal(stored.reason_code, 'cancelled_by_requester');
    assert.equal(calls.length, 0);
  });

  test("the caller's own wait timeout cancels the request and throws ApprovalTimedOut", async () => {
    const { gated, calls } = gate('db.drop_table', () => {}, { waitTimeoutMs: 1000 });
    const error = await gated({ table: 'users' }).catch((e) => e);
    assert.ok(error instanceof ApprovalTimedOut, String(error));
    assert.ok(!(error instanceof ApprovalExpired));
    assert.equal(error.reasonCode, 'cancelled_by_requester');
    assert.equal(calls.length, 0);
  });

  test('edited arguments: refused by default, run as edited when allowed', async () => {
    const edit = (id) => alice.decide(id, { choice: 'approve', arguments: { table: 'users_archive' } });
    const strict = gate('db.drop_table', edit);
    const error = await strict.gated({ table: 'users' }).catch((e) => e);
    assert.ok(error instanceof ApprovalDenied);
    assert.equal(error.status, 'approved');
    assert.match(error.message, /edited arguments/);
    assert.equal(strict.calls.length, 0);

    const lenient = gate('db.drop_table', edit, { allowEditedArguments: true });
    assert.equal(await lenient.gated({ table: 'users' }), 'ran users_archive');
    const { approval } = lenient.calls[0];
    assert.equal(approval.edited, true);
    await verifyReceipt(approval.receipt, await agent.keys(), { arguments: { table: 'users_archive' } });
  });

  test('a single-use receipt is consumed before the function runs', async () => {
    const { gated, calls } = gate('wipe_cache', (id) => alice.approve(id));
    assert.equal(await gated({ table: 'cache' }), 'ran cache');
    const { approval } = calls[0];
    assert.equal(approval.request.receipt_use, 'single_use');
    await assert.rejects(agent.consumeReceipt(approval.receipt), ReceiptAlreadyConsumed);
  });

  test('a replayed call with the same idempotency key finds the decided request; a spent single-use receipt stops it', async () => {
    const { gated, calls } = gate('wipe_cache', (id) => alice.approve(id), { idempotencyKey: (input) => `wipe-${input.table}` });
    assert.equal(await gated({ table: 'sessions' }), 'ran sessions');
    const error = await gated({ table: 'sessions' }).catch((e) => e);
    assert.ok(error instanceof ReceiptAlreadyConsumed, String(error));
    assert.equal(calls.length, 1);
    assert.equal((await gw.requestsFor('wipe_cache')).filter((r) => r.arguments.table === 'sessions').length, 1);
  });

  test('an invalid action is refused before anything is sent', () => {
    assert.throws(() => requiresApproval(() => 1, { action: 'drop the table' }), TypeError);
    assert.ok(new ApprovalDenied('m', { id: 'r', status: 'denied' }) instanceof ApprovalError);
  });
});

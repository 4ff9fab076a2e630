// The core client against the real server on port 0: create, list, wait (across a restart
// and through transient failures), decisions from another client, errors, receipts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  ApiError,
  ApprovalError,
  argumentsSha256,
  canonicalJson,
  Client,
  decodeReceipt,
  NoTokenError,
  ReceiptAlreadyConsumed,
  ReceiptInvalid,
  TransportError,
} from 'countersign';
import { startGateway } from './harness.mjs';

const SINGLE_USE = `
[[policy]]
name = "once"
match = { action = "wipe_*" }
receipt = "single_use"
`;

describe('Client', () => {
  let gw;
  let agent;
  let alice;
  before(async () => {
    gw = await startGateway({ config: SINGLE_USE });
    agent = new Client({ url: gw.url, token: gw.agentToken, backoffInitialMs: 10, backoffMaxMs: 100 });
    alice = new Client({ url: gw.url, token: gw.aliceToken });
  });
  after(async () => gw.stop());

  test('create, get and list answer the request as the server stores it', async () => {
    const created = await agent.create({ action: 'deploy', title: 'Deploy v2', arguments: { ref: 'v2', replicas: 3 }, session: 'ts-list' });
    assert.equal(created.status, 'pending');
    assert.equal(created.requester, 'ts-agent');
    assert.deepEqual(created.arguments, { ref: 'v2', replicas: 3 });
    const read = await agent.get(created.id);
    assert.equal(read.id, created.id);
    assert.equal(read.arguments_sha256, await argumentsSha256({ replicas: 3, ref: 'v2' }));
    const page = await agent.list({ session: 'ts-list', status: 'pending' });
    assert.deepEqual(page.requests.map((r) => r.id), [created.id]);
  });

  test('the same idempotency key and body answer the same request', async () => {
    const body = { action: 'deploy', title: 'Deploy once', arguments: { ref: 'v3' }, idempotency_key: 'ts-idem-1' };
    const first = await agent.create(body);
    const again = await agent.create({ ...body });
    assert.equal(again.id, first.id);
    await assert.rejects(agent.create({ ...body, arguments: { ref: 'v4' } }), (e) => e instanceof ApiError && e.status === 409 && e.request?.id === first.id);
  });

  test('a wait sees a decision made from another client, and tells onWaiting and onDecision', async () => {
    const created = await agent.create({ action: 'deploy', title: 'Deploy', approvers: ['alice'] });
    const told = [];
    const decisions = [];
    const waiting = agent.wait(created, {
      onWaiting: (info) => told.push(info),
      onDecision: (d) => decisions.push(`${d.by}:${d.outcome}`),
    });
    assert.equal(told.length, 1);
    assert.equal(told[0].requestId, created.id);
    assert.equal(told[0].whoMayDecide, 'alice');
    assert.equal(told[0].inboxUrl, `${gw.url}/ui/requests/${created.id}`);
    await alice.approve(created.id, 'go');
    const done = await waiting;
    assert.equal(done.status, 'approved');
    assert.equal(done.reason_code, 'approved');
    assert.deepEqual(decisions, ['alice:approved']);
  });

  test('a wait survives a server restart and sees the decision made afterwards', async () => {
    const created = await agent.create({ action: 'deploy', title: 'Deploy across a restart' });
    const retried = [];
    let polls = 0;
    const counting = new Client({
      url: gw.url, token: gw.agentToken, pollTimeoutSeconds: 5, backoffInitialMs: 10, backoffMaxMs: 50,
      onRetry: (attempt, error) => retried.push(error),
      fetch: (url, init) => { if (url.includes('/wait')) polls += 1; return fetch(url, init); },
    });
    const waiting = counting.wait(created.id);
    await gw.restart();
    await alice.approve(created.id);
    const done = await waiting;
    assert.equal(done.status, 'approved');
    // The poll open at the restart was answered early (or cut), so the wait polled again.
    assert.ok(polls >= 2, `polls: ${polls}`);
    for (const error of retried) assert.ok(error instanceof TransportError || (error instanceof ApiError && error.transient), String(error));
  });

  test('503 and 429 with Retry-After are retried; 404 is thrown at once', async () => {
    const created = await agent.create({ action: 'deploy', title: 'Deploy through a flaky proxy' });
    const script = [503, 429, 502];
    const retried = [];
    const flaky = new Client({
      url: gw.url, token: gw.agentToken, backoffInitialMs: 1, backoffMaxMs: 20,
      onRetry: (attempt, error, delay) => retried.push([attempt, error.status, delay]),
      fetch: async (url, init) => {
        const status = url.includes('/wait') ? script.shift() : undefined;
        if (status) return new Response('<html>bad gateway</html>', { status, headers: { 'Retry-After': '0' } });
        return fetch(url, init);
      },
    });
    await alice.deny(created.id, 'not now');
    const done = await flaky.wait(created.id);
    assert.equal(done.status, 'denied');
    assert.deepEqual(retried.map(([attempt, status]) => [attempt, status]), [[1, 503], [2, 429], [3, 502]]);
    await assert.rejects(agent.wait('req_00000000000000000000000000'), (e) => e instanceof ApiError && e.status === 404 && e.code === 'not_found');
  });

  test('a wait with timeoutMs answers the request still pending', async () => {
    const created = await agent.create({ action: 'deploy', title: 'Nobody decides' });
    const still = await agent.wait(created.id, { timeoutMs: 1000, pollTimeoutSeconds: 1 });
    assert.equal(still.status, 'pending');
  });

  test('an aborted wait rejects with the signal reason', async () => {
    const created = await agent.create({ action: 'deploy', title: 'Abort me' });
    const controller = new AbortController();
    const waiting = agent.wait(created.id, { signal: controller.signal, onWaiting: () => {} });
    controller.abort(new Error('stop'));
    await assert.rejects(waiting, /stop/);
    assert.equal((await agent.get(created.id)).status, 'pending');
  });

  test('errors: no token, a bad token, an unknown id, an unreachable server', async () => {
    const saved = process.env.COUNTERSIGN_TOKEN;
    delete process.env.COUNTERSIGN_TOKEN;
    try {
      await assert.rejects(new Client({ url: gw.url }).get('req_x'), NoTokenError);
    } finally {
      if (saved !== undefined) process.env.COUNTERSIGN_TOKEN = saved;
    }
    await assert.rejects(new Client({ url: gw.url, token: 'cs_nope' }).get('req_x'), (e) => e instanceof ApiError && e.status === 401);
    await assert.rejects(agent.get('req_unknown'), (e) => e instanceof ApiError && e.status === 404 && !e.transient);
    await assert.rejects(agent.create({ action: 'bad action!', title: 't' }), (e) => e instanceof ApiError && e.status === 422);
    const nowhere = new Client({ url: 'http://127.0.0.1:9', token: 't', requestTimeoutMs: 5000 });
    await assert.rejects(nowhere.get('req_x'), (e) => e instanceof TransportError && /could not be reached/.test(e.message));
    assert.throws(() => new Client({ url: 'ftp://x' }), TypeError);
    assert.throws(() => new Client({ url: gw.url, token: 'has space' }), TypeError);
  });

  test('an outcome report is stored once', async () => {
    const created = await agent.create({ action: 'deploy', title: 'Report' });
    await alice.approve(created.id);
    const reported = await agent.reportOutcome(created.id, { status: 'failed', exit_code: 2, detail: 'boom' });
    assert.equal(reported.execution.status, 'failed');
    assert.equal(reported.execution.exit_code, 2);
    await assert.rejects(agent.reportOutcome(created.id, { status: 'succeeded' }), (e) => e instanceof ApiError && e.status === 409);
  });

  test('cancel answers the request cancelled by its requester', async () => {
    const created = await agent.create({ action: 'deploy', title: 'Cancel me' });
    const cancelled = await agent.cancel(created.id, 'changed my mind');
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.reason_code, 'cancelled_by_requester');
    await assert.rejects(agent.cancel(created.id), (e) => e instanceof ApiError && e.status === 409 && e.request.status === 'cancelled');
  });
});

describe('receipts', () => {
  let gw;
  let agent;
  let alice;
  before(async () => {
    gw = await startGateway({ config: SINGLE_USE });
    agent = new Client({ url: gw.url, token: gw.agentToken });
    alice = new Client({ url: gw.url, token: gw.aliceToken });
  });
  after(async () => gw.stop());

  // Arguments whose canonical form needs every rule: key order by UTF-8 bytes, doubles,
  // escapes, non-ASCII.
  const tricky = { z: 1, a: [1.5, 0.1, 100, -7, 1e21, true, null], é: 'tab\there "quoted" \u0001', A: { nested: { b: 2, a: 1 } }, '\u{1F600}': 'smile', '\uFFFD': 'bmp' };

  async function approved(action, args) {
    const created = await agent.create({ action, title: 'Receipt', arguments: args });
    await alice.approve(created.id);
    return agent.wait(created.id);
  }

  test('the canonical JSON hash matches the server for tricky arguments', async () => {
    const request = await approved('deploy', tricky);
    assert.equal(await argumentsSha256(tricky), request.arguments_sha256, canonicalJson(tricky));
  });

  test('a receipt verifies with WebCrypto against /v1/keys, for the action and arguments approved', async () => {
    const request = await approved('deploy', tricky);
    const claims = await agent.verifyReceipt(request.receipt, { action: 'deploy', arguments: tricky });
    assert.equal(claims.request_id, request.id);
    assert.deepEqual(claims.approvers, ['alice']);
    assert.equal(decodeReceipt(request.receipt).jti, claims.jti);

    const fault = async (promise) => { try { await promise; } catch (e) { assert.ok(e instanceof ReceiptInvalid, String(e)); return e.fault; } return 'verified'; };
    const jwks = await agent.keys();
    const { verifyReceipt } = await import('countersign');
    assert.equal(await fault(verifyReceipt(request.receipt, jwks, { action: 'drop_db' })), 'action_mismatch');
    assert.equal(await fault(verifyReceipt(request.receipt, jwks, { arguments: { ...tricky, z: 2 } })), 'arguments_mismatch');
    assert.equal(await fault(verifyReceipt(request.receipt, jwks, { now: decodeReceipt(request.receipt).exp })), 'expired');
    const [h, p, s] = request.receipt.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeReceipt(request.receipt), action: 'drop_db' })).toString('base64url');
    assert.equal(await fault(verifyReceipt(`${h}.${forged}.${s}`, jwks)), 'bad_signature');
    assert.equal(await fault(verifyReceipt(`${h}.${p}.${s}`, { keys: [] })), 'unknown_key');
    assert.equal(await fault(verifyReceipt('not a receipt', jwks)), 'malformed');
    const none = Buffer.from(JSON.stringify({ alg: 'none', kid: 'x' })).toString('base64url');
    assert.equal(await fault(verifyReceipt(`${none}.${p}.${s}`, jwks)), 'malformed');
  });

  test('a single-use receipt is consumed once; the second use is ReceiptAlreadyConsumed naming the first', async () => {
    const request = await approved('wipe_cache', { region: 'eu' });
    assert.equal(request.receipt_use, 'single_use');
    const first = await agent.consumeReceipt(request.receipt);
    assert.equal(first.consumed, true);
    assert.equal(first.uses, 1);
    await assert.rejects(agent.consumeReceipt(request.receipt), (e) => e instanceof ReceiptAlreadyConsumed && e.consumedBy === 'ts-agent' && e.maxUses === 1);
    await assert.rejects(agent.consumeReceipt('x.y.z'), (e) => e instanceof ApiError && e.status === 422 && e.code === 'invalid_receipt');
    assert.ok(!(new ReceiptAlreadyConsumed(409, 'already_consumed', 'm', {}) instanceof ApprovalError));
  });
});

// Client.watch: the SSE stream as an async iterator that resumes with Last-Event-ID after a
// broken connection, with no gap and no duplicate (checked against the audit log).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ApiError, Client } from 'countersign';
import { startGateway } from './harness.mjs';

describe('watch', () => {
  let gw;
  let agent;
  let alice;
  before(async () => {
    gw = await startGateway();
    agent = new Client({ url: gw.url, token: gw.agentToken, backoffInitialMs: 10, backoffMaxMs: 50 });
    alice = new Client({ url: gw.url, token: gw.aliceToken });
  });
  after(async () => gw.stop());

  async function auditTypes(requestId) {
    const r = await gw.call('GET', `/v1/audit?request=${requestId}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.events.map((e) => [e.seq, e.type]);
  }

  test('a stream broken by a restart resumes with Last-Event-ID and misses nothing committed meanwhile', async () => {
    const created = await agent.create({ action: 'deploy', title: 'Watch me', approvers: ['alice'] });
    // The reconnection is held until the decision was made while the client was away, so the
    // resumed stream must replay it from the store.
    const streams = [];
    let release;
    const released = new Promise((resolve) => { release = resolve; });
    const watcher = new Client({
      url: gw.url, token: gw.agentToken, backoffInitialMs: 10, backoffMaxMs: 50,
      fetch: async (url, init) => {
        if (url.includes('/v1/events')) {
          streams.push({ url, lastEventId: init.headers['Last-Event-ID'] ?? null });
          if (streams.length > 1) await released;
        }
        return fetch(url, init);
      },
    });
    const seen = [];
    const iterator = watcher.watch({ request: created.id, since: 0 });
    const first = await iterator.next();
    seen.push([first.value.seq, first.value.type]);
    assert.equal(first.value.type, 'request.created');

    await gw.restart(); // ends the stream: SSE connections close on shutdown
    await alice.approve(created.id, 'while you were away');
    release();
    for await (const event of iterator) {
      seen.push([event.seq, event.type]);
      assert.equal(event.request_id, created.id);
      if (event.type === 'request.resolved') break;
    }
    assert.deepEqual(seen, await auditTypes(created.id));
    assert.ok(streams.length >= 2, JSON.stringify(streams));
    assert.equal(streams[1].lastEventId, String(first.value.seq));
    assert.match(streams[1].url, new RegExp(`since=${first.value.seq}`));
  });

  test('live events arrive as they are committed, and leaving the loop closes the stream', async () => {
    const created = await agent.create({ action: 'deploy', title: 'Live' });
    // The server subscribes a stream before it sends the head, so once the head is here
    // nothing committed afterwards is missed.
    let connected;
    const headArrived = new Promise((resolve) => { connected = resolve; });
    const live = new Client({
      url: gw.url, token: gw.agentToken,
      fetch: async (url, init) => { const response = await fetch(url, init); connected(); return response; },
    });
    const iterator = live.watch({ request: created.id });
    const next = iterator.next();
    await headArrived;
    await alice.deny(created.id, 'no');
    const { value } = await next;
    assert.equal(value.type, 'decision.recorded');
    assert.equal(value.actor, 'alice');
    const rest = await iterator.next();
    assert.equal(rest.value.type, 'request.resolved');
    assert.equal(rest.value.data.reason_code, 'denied_by_person');
    assert.deepEqual(await iterator.return(), { value: undefined, done: true });
  });

  test('aborting the signal ends the iteration without an error', async () => {
    const created = await agent.create({ action: 'deploy', title: 'Abort the watch' });
    const controller = new AbortController();
    const seen = [];
    const loop = (async () => {
      for await (const event of agent.watch({ request: created.id, since: 0, signal: controller.signal })) {
        seen.push(event.type);
        controller.abort();
      }
    })();
    await loop;
    assert.deepEqual(seen, ['request.created']);
  });

  test('an unknown request is an ApiError 404, not a reconnect loop', async () => {
    const iterator = agent.watch({ request: 'req_00000000000000000000000000' });
    await assert.rejects(iterator.next(), (e) => e instanceof ApiError && e.status === 404);
  });
});

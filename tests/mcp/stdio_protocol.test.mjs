// `countersign mcp` fed lines directly, without the SDK: malformed and hostile input gets
// the JSON-RPC error it deserves, the server keeps reading, and stdin's end ends it at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import { BIN, Gateway } from './harness.mjs';

// One `countersign mcp` process and the lines it writes.
class RawMcp {
  constructor(url, token, args = []) {
    this.proc = spawn(BIN, ['mcp', ...args], {
      env: { PATH: process.env.PATH, COUNTERSIGN_URL: url, COUNTERSIGN_TOKEN: token },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.lines = [];
    this.waiters = [];
    this.exited = new Promise((resolveExit) => this.proc.once('exit', (code) => resolveExit(code)));
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const waiter = this.waiters.shift();
      if (waiter) waiter(line); else this.lines.push(line);
    });
  }

  write(text) { this.proc.stdin.write(text); }

  // The next line the server writes, parsed.
  next() {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(JSON.parse(line));
    return new Promise((resolveLine) => this.waiters.push(resolveLine)).then((l) => JSON.parse(l));
  }

  async send(message) {
    this.write(`${JSON.stringify(message)}\n`);
    return this.next();
  }

  async close() {
    this.proc.stdin.end();
    return this.exited;
  }
}

const INITIALIZE = {
  jsonrpc: '2.0', id: 'init', method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
};

describe('countersign mcp given hostile lines', () => {
  let mcp;
  before(() => { mcp = new RawMcp('http://127.0.0.1:1', 'cs_unused'); });
  after(async () => { assert.equal(await mcp.close(), 0); });

  test('a request before initialize is refused, a ping is answered', async () => {
    const early = await mcp.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(early.id, 1);
    assert.equal(early.error.code, -32600);
    assert.deepEqual(await mcp.send({ jsonrpc: '2.0', id: 2, method: 'ping' }),
      { jsonrpc: '2.0', id: 2, result: {} });
  });

  test('initialize echoes 2025-06-18', async () => {
    const reply = await mcp.send(INITIALIZE);
    assert.equal(reply.id, 'init');
    assert.equal(reply.result.protocolVersion, '2025-06-18');
    assert.deepEqual(reply.result.capabilities, { tools: { listChanged: false } });
    mcp.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
  });

  test('a malformed line is a parse error without an id, and the server keeps going', async () => {
    mcp.write('{"jsonrpc":"2.0","id":3,"method":\n');
    const reply = await mcp.next();
    assert.equal(reply.error.code, -32700);
    assert.equal('id' in reply, false);
    assert.deepEqual((await mcp.send({ jsonrpc: '2.0', id: 4, method: 'ping' })).result, {});
  });

  test('invalid UTF-8 and a key given twice are parse errors', async () => {
    mcp.write(Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":5,"method":"p'), Buffer.from([0xff]), Buffer.from('"}\n')]));
    assert.equal((await mcp.next()).error.code, -32700);
    mcp.write('{"jsonrpc":"2.0","id":6,"method":"ping","method":"tools/list"}\n');
    assert.equal((await mcp.next()).error.code, -32700);
  });

  test('a batch is an invalid request', async () => {
    mcp.write('[{"jsonrpc":"2.0","id":7,"method":"ping"},{"jsonrpc":"2.0","id":8,"method":"ping"}]\n');
    const reply = await mcp.next();
    assert.equal(reply.error.code, -32600);
    assert.equal('id' in reply, false);
  });

  test('a message that is not JSON-RPC is an invalid request with its id', async () => {
    const reply = await mcp.send({ id: 9, method: 'ping' });
    assert.equal(reply.id, 9);
    assert.equal(reply.error.code, -32600);
    const nullId = await mcp.send({ jsonrpc: '2.0', id: null, method: 'ping' });
    assert.equal(nullId.error.code, -32600);
  });

  test('an unknown method is -32601, an unknown tool -32602', async () => {
    const method = await mcp.send({ jsonrpc: '2.0', id: 10, method: 'resources/list' });
    assert.equal(method.id, 10);
    assert.equal(method.error.code, -32601);
    const tool = await mcp.send({ jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'shell', arguments: {} } });
    assert.equal(tool.id, 11);
    assert.equal(tool.error.code, -32602);
    assert.match(tool.error.message, /shell/);
  });

  test('notifications and responses get no answer; CRLF line ends are accepted', async () => {
    mcp.write('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":999}}\n');
    mcp.write('{"jsonrpc":"2.0","id":"srv-1","result":{}}\n');
    mcp.write('\n   \n');
    mcp.write('{"jsonrpc":"2.0","id":12,"method":"ping"}\r\n');
    assert.deepEqual(await mcp.next(), { jsonrpc: '2.0', id: 12, result: {} });
  });

  test('a line over 10 MiB is dropped with a parse error, and the next line is read', async () => {
    const huge = `{"jsonrpc":"2.0","id":13,"method":"ping","params":{"pad":"${'x'.repeat(10 * 1024 * 1024)}"}}\n`;
    mcp.write(huge);
    const reply = await mcp.next();
    assert.equal(reply.error.code, -32700);
    assert.match(reply.error.message, /over 10485760 bytes/);
    assert.deepEqual((await mcp.send({ jsonrpc: '2.0', id: 14, method: 'ping' })).result, {});
  });

  test('the output is one JSON message per line, nothing else', async () => {
    assert.deepEqual(mcp.lines, []);
    const list = await mcp.send({ jsonrpc: '2.0', id: 15, method: 'tools/list' });
    assert.equal(list.result.tools.length, 5);
  });
});

describe('countersign mcp at the end of stdin', () => {
  let gateway;
  before(async () => { gateway = await new Gateway().start(); });
  after(async () => { await gateway.stop(); });

  test('exits at once with a call in flight, leaving its request pending', async () => {
    const agent = await gateway.createToken('eof-agent', 'agent');
    const mcp = new RawMcp(gateway.url, agent, ['--progress-interval', '60']);
    await mcp.send({ ...INITIALIZE, params: { ...INITIALIZE.params, protocolVersion: '2025-11-25' } });
    mcp.write(`${JSON.stringify({
      jsonrpc: '2.0', id: 1, method: 'tools/call',
      params: { name: 'request_approval', arguments: { action: 'deploy', title: 'Left behind', session: 'eof-1' } },
    })}\n`);
    const pending = await gateway.pendingRequest({ session: 'eof-1' });
    const started = Date.now();
    assert.equal(await mcp.close(), 0);
    assert.ok(Date.now() - started < 10_000, 'exited within a long-poll slice');
    assert.equal((await gateway.getRequest(pending.id)).status, 'pending');
  });
});

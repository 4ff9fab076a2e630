// Starts the real countersign binary on a loopback port and talks HTTP to it: the gateway of
// the Node tests (tests/mcp, clients/typescript), the JavaScript twin of
// tests/integration/harness.py. It imports nothing but Node's own modules, so a test package
// with its own node_modules can import it by path.
//
// Each Gateway has its own temporary data directory and SQLite store. The bound port comes
// from the file the server writes with --port-file once it listens, so no test sleeps for a
// fixed time. `restart()` stops the server and starts it again on the same port and store,
// which is what a client sees when the gateway is redeployed. The binary is
// $COUNTERSIGN_BIN (ctest sets it), else build/countersign of this checkout.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.COUNTERSIGN_BIN ?? resolve(here, '..', '..', 'build', 'countersign');
const START_TIMEOUT_MS = 30_000;

export class Gateway {
  // `config` is the text of a countersign.toml (policies and so on), or null for none.
  constructor({ config = null, args = [] } = {}) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'countersign-node-'));
    this.logPath = join(this.dataDir, 'server.log');
    this.configPath = null;
    if (config !== null) {
      this.configPath = join(this.dataDir, 'countersign.toml');
      writeFileSync(this.configPath, config);
    }
    this.extraArgs = args;
    this.proc = null;
    this.port = 0;
    this.adminToken = null;
  }

  async start() {
    const portFile = join(this.dataDir, 'port');
    rmSync(portFile, { force: true });
    const log = openSync(this.logPath, 'a');
    const args = ['serve', '--listen', `127.0.0.1:${this.port}`,
      '--store', `sqlite:${join(this.dataDir, 'countersign.db')}`,
      '--data-dir', this.dataDir, '--port-file', portFile, '--auth', 'on', ...this.extraArgs];
    if (this.configPath) args.push('--config', this.configPath);
    this.proc = spawn(BIN, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    let exited = false;
    this.proc.on('exit', () => { exited = true; });
    const deadline = Date.now() + START_TIMEOUT_MS;
    // Polling for the process to come up, not waiting for time to pass.
    while (!existsSync(portFile) || readFileSync(portFile, 'utf8').trim() === '') {
      if (exited) throw new Error(`countersign exited during start-up:\n${this.log()}`);
      if (Date.now() > deadline) throw new Error(`countersign did not start:\n${this.log()}`);
      await delay(10);
    }
    this.port = Number(readFileSync(portFile, 'utf8').trim());
    this.adminToken = readFileSync(join(this.dataDir, 'admin.token'), 'utf8').trim();
    return this;
  }

  get url() { return `http://127.0.0.1:${this.port}`; }

  log() {
    try { return readFileSync(this.logPath, 'utf8'); } catch { return ''; }
  }

  // Stops the process (SIGTERM, as an orchestrator would) and keeps the store.
  async halt() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((resolveExit) => this.proc.once('exit', resolveExit));
      this.proc.kill('SIGTERM');
      await exited;
    }
  }

  async restart() {
    await this.halt();
    return this.start();
  }

  async stop() {
    await this.halt();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  // One API call; token defaults to the admin's. Answers {status, body}.
  async call(method, path, body, token = this.adminToken) {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(this.url + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  async createToken(name, role, groups = []) {
    const r = await this.call('POST', '/v1/tokens', { name, role, groups });
    if (r.status !== 201) throw new Error(`token create failed: ${JSON.stringify(r)}`);
    return r.body.token;
  }

  async getRequest(id, token = this.adminToken) {
    const r = await this.call('GET', `/v1/requests/${id}`, undefined, token);
    if (r.status !== 200) throw new Error(`reading ${id} failed: ${JSON.stringify(r)}`);
    return r.body;
  }

  // The request once it is no longer pending, through the gateway's own long-poll.
  async settled(id) {
    for (let i = 0; i < 10; i++) {
      const r = await this.call('GET', `/v1/requests/${id}/wait?timeout=10`);
      if (r.status === 200 && r.body.status !== 'pending') return r.body;
    }
    throw new Error(`${id} stayed pending`);
  }

  // The newest pending request matching `filter` (e.g. {action: 'deploy'}), once there is
  // one: a bounded poll of the API.
  async pendingRequest(filter = {}, tries = 400) {
    const query = new URLSearchParams({ status: 'pending', limit: '1', ...filter });
    for (let i = 0; i < tries; i++) {
      const r = await this.call('GET', `/v1/requests?${query}`);
      if (r.status === 200 && r.body.requests.length > 0) return r.body.requests[0];
      await delay(25);
    }
    throw new Error(`no pending request matching ${query} appeared`);
  }

  // Every request with `action`, newest first.
  async requestsFor(action) {
    const r = await this.call('GET', `/v1/requests?action=${encodeURIComponent(action)}`);
    if (r.status !== 200) throw new Error(`listing ${action} failed: ${JSON.stringify(r)}`);
    return r.body.requests;
  }

  // Every request with `action` once there are at least `count` of them (a create still in
  // flight when the caller moved on lands later): a bounded poll of the API.
  async requestsAtLeast(action, count, tries = 400) {
    for (let i = 0; i < tries; i++) {
      const requests = await this.requestsFor(action);
      if (requests.length >= count) return requests;
      await delay(25);
    }
    throw new Error(`fewer than ${count} requests with action ${action} appeared`);
  }

  async decide(id, token, decision) {
    const r = await this.call('POST', `/v1/requests/${id}/decisions`, decision, token);
    if (r.status !== 200) throw new Error(`deciding ${id} failed: ${JSON.stringify(r)}`);
    return r.body;
  }
}

// Starts the real countersign binary on a loopback port and talks HTTP to it, for the MCP
// tests: the JavaScript twin of tests/integration/harness.py.
//
// Each Gateway gets its own temporary data directory and sqlite store; the bound port comes
// from the file the server writes with --port-file once it listens, so no test sleeps for a
// fixed time. The binary is $COUNTERSIGN_BIN (ctest sets it), else build/countersign.
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.COUNTERSIGN_BIN ?? resolve(here, '..', '..', 'build', 'countersign');
const START_TIMEOUT_MS = 30_000;

export class Gateway {
  constructor() {
    this.dataDir = mkdtempSync(join(tmpdir(), 'countersign-mcp-'));
    this.logPath = join(this.dataDir, 'server.log');
    this.proc = null;
    this.port = null;
    this.adminToken = null;
  }

  async start() {
    const portFile = join(this.dataDir, 'port');
    const log = openSync(this.logPath, 'a');
    this.proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0',
      '--store', `sqlite:${join(this.dataDir, 'countersign.db')}`,
      '--port-file', portFile, '--auth', 'on'], { stdio: ['ignore', log, log] });
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

  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((resolveExit) => this.proc.once('exit', resolveExit));
      this.proc.kill('SIGTERM');
      await exited;
    }
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

  // The newest pending request matching `filter` (e.g. {session: 's1'}), once there is one:
  // a bounded poll of the API.
  async pendingRequest(filter = {}, tries = 400) {
    const query = new URLSearchParams({ status: 'pending', limit: '1', ...filter });
    for (let i = 0; i < tries; i++) {
      const r = await this.call('GET', `/v1/requests?${query}`);
      if (r.status === 200 && r.body.requests.length > 0) return r.body.requests[0];
      await delay(25);
    }
    throw new Error('no pending request appeared');
  }

  // The request once it is no longer pending, through the gateway's own long-poll.
  async settled(id) {
    for (let i = 0; i < 10; i++) {
      const r = await this.call('GET', `/v1/requests/${id}/wait?timeout=10`);
      if (r.status === 200 && r.body.status !== 'pending') return r.body;
    }
    throw new Error(`${id} stayed pending`);
  }

  // Every request with `action`, newest first.
  async requestsFor(action) {
    const r = await this.call('GET', `/v1/requests?action=${encodeURIComponent(action)}`);
    if (r.status !== 200) throw new Error(`listing ${action} failed: ${JSON.stringify(r)}`);
    return r.body.requests;
  }

  async decide(id, token, decision) {
    const r = await this.call('POST', `/v1/requests/${id}/decisions`, decision, token);
    if (r.status !== 200) throw new Error(`deciding ${id} failed: ${JSON.stringify(r)}`);
    return r.body;
  }
}

// An MCP client connected to `countersign mcp` for the gateway at `url` with `token`.
export async function connectMcp(url, token, extraArgs = ['--progress-interval', '1']) {
  const transport = new StdioClientTransport({
    command: BIN,
    args: ['mcp', ...extraArgs],
    env: { COUNTERSIGN_URL: url, COUNTERSIGN_TOKEN: token },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'countersign-tests', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

// The text blocks of a CallToolResult, one per line.
export function texts(result) {
  return result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

// An `onprogress` for callTool that keeps what it saw; `firstSeen` resolves with the first.
export function progressRecorder() {
  const seen = [];
  let first;
  const firstSeen = new Promise((resolveFirst) => { first = resolveFirst; });
  return { seen, firstSeen, onprogress: (p) => { seen.push(p); first(p); } };
}

// Runs the countersign binary; answers {code, stdout, stderr}.
export function runCli(args, env = {}) {
  return new Promise((resolveRun) => {
    execFile(BIN, args, { env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) => {
      resolveRun({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

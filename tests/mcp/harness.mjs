// The MCP tests' helpers: the real gateway (tests/testing/gateway.mjs, shared with the
// TypeScript client's tests), and an MCP client of the official TypeScript SDK connected to
// `countersign mcp`.
import { execFile } from 'node:child_process';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { BIN } from '../testing/gateway.mjs';

export { BIN, Gateway } from '../testing/gateway.mjs';

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

// How fast an agent waiting in an MCP tool call hears a person's decision: the time from the
// approver sending POST /v1/requests/{id}/decisions (which answers once the decision is
// committed, fsync included) to request_approval's result reaching the official MCP
// TypeScript SDK client, over stdio (`countersign mcp`) and over
// Streamable HTTP (`/mcp` on the gateway), and the same through `countersign mcp proxy` in
// front of server-everything (approval, then the upstream's get-sum).
//
//   node bench/mcp_wake.mjs [CALLS]        (default 50 calls per path; after make test has
//                                           installed tests/mcp/node_modules)
//
// Prints one table row per path: calls, the decision POST's own p50, then the agent's p50, p95
// and max, in milliseconds from sending the decision. Each call is made, found pending over
// the API, approved, and timed; calls run one after another, so the figures are latency, not
// throughput. The binary is $COUNTERSIGN_BIN, else build/countersign.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));
const tests = resolve(here, '..', 'tests', 'mcp');
const { Gateway, connectMcp } = await import(resolve(tests, 'harness.mjs'));
const sdk = (path) => import(resolve(tests, 'node_modules', '@modelcontextprotocol', 'sdk', 'dist',
  'esm', path));
const { Client } = await sdk('client/index.js');
const { StreamableHTTPClientTransport } = await sdk('client/streamableHttp.js');
const { StdioClientTransport } = await sdk('client/stdio.js');
const EVERYTHING = resolve(tests, 'node_modules', '@modelcontextprotocol', 'server-everything',
  'dist', 'index.js');

const CALLS = Number(process.argv[2] ?? 50);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// Times `calls` calls of `call(i)` (which returns the tool call's promise); each is approved
// by `approver` as soon as it is pending in `session`.
async function measure(gateway, approver, call, session) {
  const timing = { posts: [], waits: [] };
  for (let i = 0; i < CALLS; i++) {
    const label = `${session}-${i}`;
    const result = call(label);
    const pending = await gateway.pendingRequest({ session: label });
    await approve(gateway, approver, pending.id, result, timing);
  }
  return timing;
}

// Approves `id` and times, from sending the decision, its POST's answer and `result`.
async function approve(gateway, approver, id, result, timing) {
  const sent = performance.now();
  let heard = null;
  const resolved = result.then((r) => { heard = performance.now(); return r; });
  const decided = await gateway.call('POST', `/v1/requests/${id}/decisions`,
    { choice: 'approve' }, approver);
  timing.posts.push(performance.now() - sent);
  if (decided.status !== 200) throw new Error(`approve failed: ${JSON.stringify(decided)}`);
  const r = await resolved;
  timing.waits.push(heard - sent);
  if (r.isError) throw new Error(`call failed: ${JSON.stringify(r)}`);
}

const gateway = await new Gateway().start();
try {
  const agent = await gateway.createToken('bench-agent', 'agent');
  const approver = await gateway.createToken('bench-approver', 'approver');
  const approval = (client) => (label) => client.callTool({
    name: 'request_approval',
    arguments: { action: 'bench.deploy', title: 'Bench', session: label },
  }, undefined, { timeout: 120_000 });

  const rows = [];
  const stdio = await connectMcp(gateway.url, agent);
  rows.push(['countersign mcp (stdio)', await measure(gateway, approver, approval(stdio), 's')]);
  await stdio.close();

  const http = new Client({ name: 'bench', version: '1.0.0' });
  await http.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${agent}` } },
  }));
  rows.push(['/mcp (Streamable HTTP)', await measure(gateway, approver, approval(http), 'h')]);
  await http.close();

  // The proxy: each run's requests share one session label, so each call gets its own proxy.
  const proxied = { posts: [], waits: [] };
  for (let i = 0; i < CALLS; i++) {
    const name = `bench${i}`;
    const client = new Client({ name: 'bench', version: '1.0.0' });
    await client.connect(new StdioClientTransport({
      command: process.env.COUNTERSIGN_BIN ?? resolve(here, '..', 'build', 'countersign'),
      args: ['mcp', 'proxy', '--name', name, '--gate', 'get-sum', '--', process.execPath,
        EVERYTHING, 'stdio'],
      env: { ...process.env, COUNTERSIGN_URL: gateway.url, COUNTERSIGN_TOKEN: agent },
      stderr: 'ignore',
    }));
    const result = client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
    const pending = await gateway.pendingRequest({ action: `mcp.${name}.get-sum` });
    await approve(gateway, approver, pending.id, result, proxied);
    await client.close();
  }
  rows.push(['mcp proxy -> server-everything', proxied]);

  console.log('| path | calls | decision POST p50 ms | agent hears p50 ms | p95 ms | max ms |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, { posts, waits }] of rows) {
    posts.sort((a, b) => a - b);
    waits.sort((a, b) => a - b);
    const f = (v) => v.toFixed(1);
    console.log(`| ${name} | ${waits.length} | ${f(percentile(posts, 50))} | ` +
      `${f(percentile(waits, 50))} | ${f(percentile(waits, 95))} | ${f(waits[waits.length - 1])} |`);
  }
} finally {
  await gateway.stop();
}

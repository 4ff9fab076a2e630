// The TypeScript client's tests start the real server through the Node tests' shared gateway
// (tests/testing/gateway.mjs).
import { Gateway } from '../../../tests/testing/gateway.mjs';

export { BIN, Gateway } from '../../../tests/testing/gateway.mjs';

// A started gateway with an agent token and an approver token ("alice", group sre).
export async function startGateway(options = {}) {
  const gateway = await new Gateway(options).start();
  gateway.agentToken = await gateway.createToken('ts-agent', 'agent');
  gateway.aliceToken = await gateway.createToken('alice', 'approver', ['sre']);
  return gateway;
}

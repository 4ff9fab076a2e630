// Type-checked by test/package.test.mjs as an ES module consumer (module nodenext): the
// declarations the exports map points "import" at must describe the API as used here.
import { ApprovalDenied, Client, requiresApproval, verifyReceipt, type ApprovalRequest, type Approval } from 'countersign';

const client = new Client({ url: 'http://127.0.0.1:7400', token: 't' });
const dropTable = requiresApproval(async (input: { table: string }, approval: Approval) => approval.receipt?.length ?? input.table.length, {
  action: 'db.drop_table',
  client,
});
export async function use(): Promise<number> {
  const n: number = await dropTable({ table: 'users' });
  const request: ApprovalRequest = await client.wait('req_x', { timeoutMs: 10 });
  try {
    await verifyReceipt(request.receipt ?? '', await client.keys(), { action: 'x' });
  } catch (error) {
    if (error instanceof ApprovalDenied) return error.reasonCode === null ? 0 : 1;
  }
  for await (const event of client.watch({ request: request.id })) return event.seq;
  return n;
}

// Type-checked by test/package.test.mjs as a CommonJS consumer (module nodenext): the
// declarations the exports map points "require" at.
import countersign = require('countersign');

const client = new countersign.Client({ token: 't' });
export async function use(): Promise<string> {
  const request: countersign.ApprovalRequest = await client.create({ action: 'deploy', title: 'Deploy' });
  const error: countersign.ApprovalError = countersign.approvalErrorFor(request);
  return error.reasonCode ?? request.status;
}

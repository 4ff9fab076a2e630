// countersign: the TypeScript client of the countersign human-confirmation gateway.
// See README.md for a tour; docs/api.md in the server's repository for the API itself.
export { Client, DEFAULT_URL, type ClientOptions, type RequestCallOptions } from './client.js';
export { MAX_POLL_SECONDS, type WaitOptions } from './waiter.js';
export type { WatchOptions } from './event-stream.js';
export {
  awaitApproval,
  approvedArguments,
  argumentsEdited,
  defaultArguments,
  getDefaultClient,
  requestFor,
  requiresApproval,
  setDefaultClient,
  type Approval,
  type AwaitApprovalOptions,
  type GatedFunction,
  type RequiresApprovalOptions,
} from './approval.js';
export {
  ApiError,
  ApprovalCancelled,
  ApprovalDenied,
  ApprovalError,
  ApprovalExpired,
  ApprovalTimedOut,
  approvalErrorClass,
  approvalErrorFor,
  CountersignError,
  describeOutcome,
  NoTokenError,
  ReceiptAlreadyConsumed,
  ReceiptInvalid,
  TransportError,
  type ReceiptFault,
} from './errors.js';
export { decodeReceipt, verifyReceipt, type ReceiptExpectations } from './receipts.js';
export { argumentsSha256, canonicalJson } from './canonical-json.js';
export type * from './types.js';

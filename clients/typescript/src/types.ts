// The shapes of the countersign v1 API as the client sees them (docs/api.md). Objects the
// server may grow keep an index signature, so a newer server's members pass through.

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: unknown };

/** Where a request stands. `dismissed` and `ended` end conversations only. */
export type RequestStatus =
  | 'pending'
  | 'approved'
  | 'denied'
  | 'answered'
  | 'expired'
  | 'cancelled'
  | 'dismissed'
  | 'ended';

/**
 * Why a request left `pending`, in words a program can branch on (docs/api.md, "Reason
 * codes"). A string outside the list may come from a newer server.
 */
export type ReasonCode =
  | 'approved'
  | 'approved_by_grant'
  | 'approved_by_policy'
  | 'denied_by_person'
  | 'denied_by_policy'
  | 'expired'
  | 'escalation_exhausted'
  | 'cancelled_by_requester'
  | 'cancelled_by_admin'
  | 'answered'
  | 'dismissed'
  | 'ended'
  | (string & {});

/** One decision on a request, oldest first in `ApprovalRequest.decisions`. */
export interface Decision {
  id: string;
  by: string;
  choice: string;
  outcome: 'approved' | 'denied' | 'escalate' | 'answered' | (string & {});
  comment: string;
  at: string;
  answer?: string;
  /** The arguments as the approver edited them, when they did. */
  arguments?: JsonObject;
  response?: JsonObject;
  [key: string]: unknown;
}

/** What the executor reported after running an approved request. */
export interface ExecutionReport {
  status: 'succeeded' | 'failed';
  exit_code: number | null;
  detail: string;
  reported_by: string;
  at: string;
}

/** The request object every endpoint returns (docs/api.md, "The request object"). */
export interface ApprovalRequest {
  id: string;
  tenant: string;
  kind: 'approval' | 'verification' | 'question' | 'conversation' | (string & {});
  action: string;
  title: string;
  details: JsonObject;
  arguments: JsonObject;
  arguments_sha256: string;
  requester: string;
  session: string;
  status: RequestStatus;
  choices: Array<{ id: string; label: string; style: string; outcome: string }>;
  approvers: string[];
  quorum: number;
  policy: string;
  policy_reason: string;
  risk: 'normal' | 'high' | (string & {});
  deny_threshold: number;
  created_at: string;
  deadline_at: string;
  on_timeout: 'expire' | 'deny' | 'escalate' | (string & {});
  escalation_level: number;
  notify: string[];
  callback_url: string | null;
  decisions: Decision[];
  resolved_at: string | null;
  resolved_by: string[];
  reason_code: ReasonCode | null;
  /** The signed receipt (a compact JWS) once approved; otherwise null. */
  receipt: string | null;
  receipt_use?: 'reusable' | 'single_use';
  report_within_seconds?: number | null;
  execution?: ExecutionReport | null;
  answer?: string | null;
  response?: JsonObject | null;
  [key: string]: unknown;
}

/** The body of `POST /v1/requests` (docs/api.md). Members left undefined are not sent. */
export interface CreateRequestInput {
  action: string;
  title: string;
  details?: JsonObject;
  arguments?: JsonObject;
  kind?: 'approval' | 'verification' | 'question';
  choices?: Array<{ id: string; label?: string; outcome: string }>;
  approvers?: string[];
  quorum?: number;
  timeout_seconds?: number;
  on_timeout?: 'expire' | 'deny' | 'escalate';
  notify?: string[];
  callback_url?: string;
  session?: string;
  idempotency_key?: string;
  requester?: string;
  risk?: 'normal' | 'high';
  response_schema?: JsonObject;
  [key: string]: unknown;
}

/** The filters of `GET /v1/requests`. */
export interface ListFilters {
  status?: RequestStatus;
  action?: string;
  requester?: string;
  session?: string;
  limit?: number;
  cursor?: string;
  /** Only the pending requests the caller may decide now (the web inbox's list). */
  decidable?: boolean;
}

/** One page of `GET /v1/requests`, newest first. */
export interface RequestPage {
  requests: ApprovalRequest[];
  next_cursor: string | null;
}

/** The body of `POST /v1/requests/{id}/decisions`. */
export interface DecisionInput {
  /** A choice id: `approve`, `deny`, or one of the request's own choices. */
  choice?: string;
  comment?: string;
  /** A question's answer. */
  answer?: string;
  /** The arguments to run instead of the requested ones (an approver's edit). */
  arguments?: JsonObject;
  /** Fills the request's `response_schema`. */
  response?: JsonObject;
  /** Limits on the receipt: `not_after` (RFC 3339 UTC or Unix seconds, no later than the
   * receipt's `exp`) and `max_uses` (1 to 1000). */
  receipt?: { not_after?: string | number; max_uses?: number };
  [key: string]: unknown;
}

/** The body of `POST /v1/requests/{id}/outcome`. */
export interface OutcomeInput {
  status: 'succeeded' | 'failed';
  exit_code?: number;
  /** At most 4 KiB. */
  detail?: string;
}

/** One audit event, as `GET /v1/audit`, `/v1/events` and `/v1/ws` give it. */
export interface AuditEvent {
  seq: number;
  at: string;
  tenant: string;
  request_id: string | null;
  type: string;
  actor: string;
  data: JsonObject;
  prev_hash: string;
  hash: string;
  [key: string]: unknown;
}

/** An Ed25519 public key of `GET /v1/keys`. */
export interface Jwk {
  kty: string;
  crv?: string;
  x?: string;
  kid?: string;
  alg?: string;
  use?: string;
  [key: string]: unknown;
}

/** The answer of `GET /v1/keys`. */
export interface Jwks {
  keys: Jwk[];
}

/** The claims of a receipt (docs/receipts.md). */
export interface ReceiptClaims {
  request_id: string;
  tenant: string;
  action: string;
  arguments_sha256: string;
  outcome: 'approved';
  approvers: string[];
  decided_at: number;
  exp: number;
  iat: number;
  jti?: string;
  receipt_use?: 'reusable' | 'single_use';
  not_after?: number;
  max_uses?: number;
  [key: string]: unknown;
}

/** The answer of `POST /v1/receipts/consume`. */
export interface ConsumedReceipt {
  consumed: true;
  jti: string;
  request_id: string;
  uses: number;
  max_uses: number;
  consumed_at: string;
  consumed_by: string;
  [key: string]: unknown;
}

/** What a wait is for, told once to `onWaiting` when it starts on a pending request. */
export interface WaitingInfo {
  requestId: string;
  /** Who may decide, in words: "alice, group:sre; 2 approvals needed". */
  whoMayDecide: string;
  approvers: string[];
  quorum: number;
  deadlineAt: string;
  /** The request's page in the web inbox. */
  inboxUrl: string;
  request: ApprovalRequest;
}

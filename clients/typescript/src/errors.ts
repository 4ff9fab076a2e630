// The errors the client throws. Everything derives from CountersignError. Two families sit
// under it:
//   - talking to the server failed: TransportError (unreachable, connection broken, no answer
//     in time) and ApiError (the server answered with an error status);
//   - a gated call was not approved: ApprovalError and one subclass per family of the
//     request's reason_code, so a program branches on the class or on `reasonCode` and never
//     on a message.
import type { ApprovalRequest, ReasonCode, ReceiptClaims } from './types.js';

/** Base class of every error this package throws. */
export class CountersignError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The server could not be reached, the connection broke, or it did not answer in time.
 * Transient: `Client.wait` and `Client.watch` retry it with backoff.
 */
export class TransportError extends CountersignError {}

/** No token is configured and the call needs one; thrown before anything is sent. */
export class NoTokenError extends CountersignError {}

/** The server answered with an error status (4xx or 5xx). */
export class ApiError extends CountersignError {
  /** The HTTP status. */
  readonly status: number;
  /** The server's error code (`not_found`, `conflict`, ...), or "" when the body was not a
   * countersign error (a 502 from a proxy, say). */
  readonly code: string;
  /** The server's message, for a person. */
  readonly serverMessage: string;
  /** For a 409, the request as it stands now. */
  readonly request: ApprovalRequest | null;
  /** The Retry-After header in seconds, when the server sent one. */
  readonly retryAfterSeconds: number | null;
  /** For a 422, the input field at fault when the server named one (`response.age`). */
  readonly field: string | null;

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { request?: ApprovalRequest | null; retryAfterSeconds?: number | null; field?: string | null } = {},
  ) {
    super(`${message} (HTTP ${status}${code ? ` ${code}` : ''})`);
    this.status = status;
    this.code = code;
    this.serverMessage = message;
    this.request = extra.request ?? null;
    this.retryAfterSeconds = extra.retryAfterSeconds ?? null;
    this.field = extra.field ?? null;
  }

  /** True for answers worth retrying: 429, 502, 503 and 504. */
  get transient(): boolean {
    return [429, 502, 503, 504].includes(this.status);
  }
}

/**
 * `POST /v1/receipts/consume` answered 409: the receipt's uses are spent, so the action must
 * not run again.
 */
export class ReceiptAlreadyConsumed extends ApiError {
  readonly jti: string | null;
  /** When it was first consumed (RFC 3339). */
  readonly consumedAt: string | null;
  /** Who consumed it first. */
  readonly consumedBy: string | null;
  readonly uses: number | null;
  readonly maxUses: number | null;

  constructor(status: number, code: string, message: string, error: Record<string, unknown>) {
    super(status, code, message);
    this.jti = typeof error.jti === 'string' ? error.jti : null;
    this.consumedAt = typeof error.consumed_at === 'string' ? error.consumed_at : null;
    this.consumedBy = typeof error.consumed_by === 'string' ? error.consumed_by : null;
    this.uses = typeof error.uses === 'number' ? error.uses : null;
    this.maxUses = typeof error.max_uses === 'number' ? error.max_uses : null;
  }
}

/** A gated call was not approved; the function did not run. */
export class ApprovalError extends CountersignError {
  /** The request as last seen; its `status` says what happened. */
  readonly request: ApprovalRequest;
  readonly requestId: string;
  readonly status: string;
  /** Why it left pending (`denied_by_person`, `expired`, ...); null while still pending. */
  readonly reasonCode: ReasonCode | null;

  constructor(message: string, request: ApprovalRequest) {
    super(message);
    this.request = request;
    this.requestId = request.id;
    this.status = request.status;
    this.reasonCode = request.reason_code ?? null;
  }
}

/** Denied by a person (`denied_by_person`) or a policy (`denied_by_policy`); also thrown,
 * with status `approved`, when the approvers edited the arguments and the caller does not
 * accept edits. */
export class ApprovalDenied extends ApprovalError {}

/** Nobody decided in time: the caller's own wait ran out (the request is then cancelled), or,
 * as the subclass ApprovalExpired, the server's deadline passed. */
export class ApprovalTimedOut extends ApprovalError {}

/** The server's deadline passed with no decision: `expired`, or `escalation_exhausted` when
 * the last escalation tier ran out too. Also when `on_timeout = "deny"` made the deadline
 * deny it (status `denied`, reason code `expired`). */
export class ApprovalExpired extends ApprovalTimedOut {}

/** Cancelled before anyone decided: by its requester (`cancelled_by_requester`, which is also
 * what an aborted wait does) or an admin (`cancelled_by_admin`). */
export class ApprovalCancelled extends ApprovalError {}

const FAMILIES: Record<string, typeof ApprovalError> = {
  denied_by_person: ApprovalDenied,
  denied_by_policy: ApprovalDenied,
  expired: ApprovalExpired,
  escalation_exhausted: ApprovalExpired,
  cancelled_by_requester: ApprovalCancelled,
  cancelled_by_admin: ApprovalCancelled,
};

// For a server that predates reason codes.
const BY_STATUS: Record<string, typeof ApprovalError> = {
  denied: ApprovalDenied,
  expired: ApprovalExpired,
  cancelled: ApprovalCancelled,
};

/** The error class for a request that was not approved, by its reason code (by its status
 * when it has none); ApprovalError for anything else. */
export function approvalErrorClass(request: ApprovalRequest): typeof ApprovalError {
  const code = request.reason_code ?? '';
  return FAMILIES[code] ?? BY_STATUS[request.status] ?? ApprovalError;
}

/** The error to throw for `request`, which was not approved: an instance of the class its
 * reason code picks, with `message` or a sentence naming the request and why. */
export function approvalErrorFor(request: ApprovalRequest, message?: string): ApprovalError {
  const Family = approvalErrorClass(request);
  return new Family(message ?? describeOutcome(request), request);
}

/** One sentence on why `request` was not approved: "request req_… (deploy) was denied by
 * alice: not today (denied_by_person)". */
export function describeOutcome(request: ApprovalRequest): string {
  const who = request.resolved_by?.length ? request.resolved_by.join(', ') : '';
  const code = request.reason_code ? ` (${request.reason_code})` : '';
  const head = `request ${request.id} (${request.action})`;
  switch (request.status) {
    case 'denied': {
      const comment = [...(request.decisions ?? [])].reverse().find((d) => d.outcome === 'denied' && d.comment)?.comment;
      const by = who ? `by ${who}` : 'by the deadline';
      return `${head} was denied ${by}${comment ? `: ${comment}` : ''}${code}`;
    }
    case 'expired':
      return `${head} expired at ${request.deadline_at} without a decision${code}`;
    case 'cancelled':
      return `${head} was cancelled${who ? ` by ${who}` : ''}${code}`;
    default:
      return `${head} was not approved: it is ${request.status}${code}`;
  }
}

/** What failed when a receipt does not verify (the words of `countersign receipt verify`). */
export type ReceiptFault =
  | 'malformed'
  | 'unknown_key'
  | 'bad_signature'
  | 'not_approved'
  | 'expired'
  | 'action_mismatch'
  | 'arguments_mismatch'
  | 'unsupported';

/** A receipt failed verification. */
export class ReceiptInvalid extends CountersignError {
  readonly fault: ReceiptFault;
  readonly reason: string;
  /** The claims once the signature verified, else null. */
  readonly claims: ReceiptClaims | null;

  constructor(fault: ReceiptFault, reason: string, claims: ReceiptClaims | null = null) {
    super(`invalid receipt (${fault}): ${reason}`);
    this.fault = fault;
    this.reason = reason;
    this.claims = claims;
  }
}

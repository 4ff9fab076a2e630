// Asking for an approval and acting on it: awaitApproval (create, wait, the rules for edits,
// aborts and single-use receipts) and requiresApproval, which gates a function with it. The
// framework adapters are built on these two.
import { Client } from './client.js';
import { ApiError, ApprovalDenied, ApprovalTimedOut, approvalErrorFor, CountersignError, ReceiptInvalid } from './errors.js';
import { decodeReceipt } from './receipts.js';
import type { ApprovalRequest, CreateRequestInput, Decision, JsonObject, WaitingInfo } from './types.js';

/** Bounds the clean-up calls made after the caller stopped waiting (cancel, outcome). */
const CLEANUP_TIMEOUT_MS = 5_000;
const ACTION_PATTERN = /^[A-Za-z0-9_.:/-]{1,128}$/;
const TITLE_LIMIT = 512;

/** What allowed a gated call to run. */
export interface Approval<A = JsonObject> {
  /** The approved request. */
  request: ApprovalRequest;
  /** Its signed receipt (a compact JWS), for the executor to check. */
  receipt: string | null;
  /** The arguments approved: the approvers' edit when they made one, else as asked. */
  arguments: A;
  /** Whether the approvers edited the arguments. */
  edited: boolean;
}

/** How awaitApproval waits. */
export interface AwaitApprovalOptions {
  /** Stops waiting: the request is cancelled (reason code cancelled_by_requester) and the
   * call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Gives up after this many milliseconds: the request is cancelled and ApprovalTimedOut
   * thrown (unless a decision won the race). Default: the server's deadline decides. */
  waitTimeoutMs?: number;
  /** Run with the approvers' edited arguments. Default false: an edit throws ApprovalDenied,
   * since the receipt then approves another call than the one asked for. */
  allowEditedArguments?: boolean;
  /** Consume a single-use receipt before answering (default true), so a replayed approval
   * never runs twice; a receipt consumed before throws ReceiptAlreadyConsumed. */
  consumeSingleUse?: boolean;
  onWaiting?: (info: WaitingInfo) => void;
  onDecision?: (decision: Decision, request: ApprovalRequest) => void;
}

/** The arguments the approvers approved: the newest approving decision's edited `arguments`
 * when one has them, else the request's own. */
export function approvedArguments(request: ApprovalRequest): JsonObject {
  const decisions = request.decisions ?? [];
  for (let i = decisions.length - 1; i >= 0; i--) {
    const decision = decisions[i] as Decision;
    if (decision.outcome === 'approved' && decision.arguments && typeof decision.arguments === 'object') return decision.arguments;
  }
  return request.arguments ?? {};
}

/** Whether the approvers approved other arguments than the request asked for. The receipt
 * says so when there is one (its hash is of the arguments approved); else the decisions. */
export function argumentsEdited(request: ApprovalRequest): boolean {
  if (request.receipt) {
    try {
      return decodeReceipt(request.receipt).arguments_sha256 !== request.arguments_sha256;
    } catch (error) {
      if (!(error instanceof ReceiptInvalid)) throw error;
    }
  }
  return (request.decisions ?? []).some((d) => d.outcome === 'approved' && d.arguments !== undefined);
}

/**
 * Creates the request, waits for its decision and answers the Approval; throws
 * ApprovalDenied, ApprovalExpired, ApprovalTimedOut or ApprovalCancelled (by its reason code)
 * when it was not approved. The request is created even when `signal` aborts meanwhile, and
 * then cancelled, so nobody is asked about a call that will not run.
 */
export async function awaitApproval(client: Client, input: CreateRequestInput, options: AwaitApprovalOptions = {}): Promise<Approval> {
  const { signal } = options;
  signal?.throwIfAborted();
  // Not aborted with the signal: a create cut off in flight may still have made the request,
  // which would then wait for nobody. Let it finish (bounded by the request timeout) and
  // cancel what it made.
  let request = await client.create(input);
  const abandon = async (): Promise<never> => {
    if (request.status === 'pending') await cancelQuietly(client, request, 'the caller stopped waiting');
    throw signal?.reason;
  };
  if (signal?.aborted) return abandon();
  try {
    if (request.status === 'pending') {
      request = await client.wait(request, {
        signal,
        timeoutMs: options.waitTimeoutMs,
        onWaiting: options.onWaiting,
        onDecision: options.onDecision,
      });
    }
  } catch (error) {
    if (signal?.aborted) return abandon();
    throw error;
  }
  if (signal?.aborted) return abandon();
  let gaveUp = false;
  if (request.status === 'pending') {
    gaveUp = true;
    request = await cancelQuietly(client, request, `the caller stopped waiting after ${(options.waitTimeoutMs ?? 0) / 1000} s`);
  }
  if (request.status !== 'approved') {
    if (gaveUp && request.reason_code === 'cancelled_by_requester') {
      throw new ApprovalTimedOut(`request ${request.id} (${request.action}): no decision within ${(options.waitTimeoutMs ?? 0) / 1000} s; it was cancelled`, request);
    }
    throw approvalErrorFor(request);
  }
  const edited = argumentsEdited(request);
  if (edited && !options.allowEditedArguments) {
    throw new ApprovalDenied(
      `request ${request.id} (${request.action}) was approved with edited arguments; the call runs only with the arguments it was asked with (allowEditedArguments runs the edit)`,
      request,
    );
  }
  if (request.receipt && request.receipt_use === 'single_use' && options.consumeSingleUse !== false) {
    await client.consumeReceipt(request.receipt, { timeoutMs: CLEANUP_TIMEOUT_MS });
  }
  return { request, receipt: request.receipt, arguments: edited ? approvedArguments(request) : (request.arguments ?? {}), edited };
}

/** Cancels a request the caller no longer waits for; answers its state afterwards, which may
 * be decided if a decision won the race. A failed cancel is not an error: the deadline will
 * resolve the request. */
async function cancelQuietly(client: Client, request: ApprovalRequest, reason: string): Promise<ApprovalRequest> {
  try {
    return await client.cancel(request.id, reason, { timeoutMs: CLEANUP_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof ApiError && error.request) return error.request;
    if (error instanceof CountersignError) return request;
    throw error;
  }
}

/** Options of requiresApproval. `I` is the gated function's input. */
export interface RequiresApprovalOptions<I> extends AwaitApprovalOptions {
  /** The action name, `[A-Za-z0-9_.:/-]{1,128}`. */
  action: string;
  /** The client; default: one made from COUNTERSIGN_URL and COUNTERSIGN_TOKEN on first use. */
  client?: Client;
  /** The one line the approvers read; default "Run ACTION". */
  title?: string | ((input: I) => string);
  details?: JsonObject | ((input: I) => JsonObject);
  approvers?: string[];
  quorum?: number;
  /** The server-side deadline (timeout_seconds). */
  timeoutSeconds?: number;
  onTimeout?: 'expire' | 'deny' | 'escalate';
  session?: string;
  risk?: 'normal' | 'high';
  notify?: string[];
  /** Makes a retried call find its earlier request instead of asking again (same key and
   * same body answer the same request). Default: a fresh key per call. */
  idempotencyKey?: string | ((input: I) => string);
  /** The request's `arguments` for an input. Default: the input itself when it is a plain
   * object, else `{ input }`. */
  toArguments?: (input: I) => JsonObject;
  /** The input to run with for edited arguments (with allowEditedArguments). Default: the
   * edited arguments themselves, which fits the default toArguments. */
  fromArguments?: (args: JsonObject, original: I) => I;
  /** Report what became of the call (POST /v1/requests/{id}/outcome): succeeded, or failed
   * with the error's name. Default true. A failed report is logged, never thrown. */
  reportOutcome?: boolean;
  /** Where a failed outcome report is told; default console. */
  logger?: { warn(message: string): void };
}

/** A gated function: called like the original (its input), plus optional per-call options. */
export type GatedFunction<I, R> = (input: I, call?: { signal?: AbortSignal; idempotencyKey?: string }) => Promise<R>;

let defaultClient: Client | null = null;

/** The client gated functions use when their options name none. */
export function setDefaultClient(client: Client | null): void {
  defaultClient = client;
}

export function getDefaultClient(): Client {
  defaultClient ??= new Client();
  return defaultClient;
}

/**
 * Gates `fn` behind a human approval. Each call creates a request whose `arguments` are the
 * call's input, waits for the decision (long-polling, surviving server restarts), and then:
 * approved — consumes a single-use receipt, runs `fn(input, approval)` (the approval carries
 * the receipt), reports the outcome; not approved — throws ApprovalDenied, ApprovalExpired,
 * ApprovalTimedOut or ApprovalCancelled with the request and its reason code, and `fn` never
 * runs. Aborting the call's signal cancels the request.
 */
export function requiresApproval<I, R>(fn: (input: I, approval: Approval) => R | PromiseLike<R>, options: RequiresApprovalOptions<I>): GatedFunction<I, R> {
  if (!ACTION_PATTERN.test(options.action ?? '')) {
    throw new TypeError(`requiresApproval: action ${JSON.stringify(options.action)} is not a valid action name ([A-Za-z0-9_.:/-]{1,128}); describe the call in title`);
  }
  return async (input, call = {}) => {
    const client = options.client ?? getDefaultClient();
    const args = options.toArguments ? options.toArguments(input) : defaultArguments(input);
    const approval = await awaitApproval(client, requestFor(options, input, args, call.idempotencyKey), {
      ...options,
      signal: call.signal ?? options.signal,
    });
    const runWith = approval.edited ? (options.fromArguments ? options.fromArguments(approval.arguments, input) : (approval.arguments as I)) : input;
    let result: R;
    try {
      result = (await fn(runWith, approval)) as R;
    } catch (error) {
      await report(client, approval, options, { status: 'failed', detail: error instanceof Error ? error.name : typeof error });
      throw error;
    }
    await report(client, approval, options, { status: 'succeeded' });
    return result;
  };
}

/** The POST /v1/requests body of one gated call. */
export function requestFor<I>(options: RequiresApprovalOptions<I>, input: I, args: JsonObject, idempotencyKey?: string): CreateRequestInput {
  const title = typeof options.title === 'function' ? options.title(input) : (options.title ?? `Run ${options.action}`);
  const key = idempotencyKey ?? (typeof options.idempotencyKey === 'function' ? options.idempotencyKey(input) : options.idempotencyKey);
  return {
    action: options.action,
    title: truncateUtf8(title, TITLE_LIMIT),
    arguments: args,
    details: typeof options.details === 'function' ? options.details(input) : options.details,
    approvers: options.approvers,
    quorum: options.quorum,
    timeout_seconds: options.timeoutSeconds,
    on_timeout: options.onTimeout,
    session: options.session,
    risk: options.risk,
    notify: options.notify,
    idempotency_key: key ?? `ts-${crypto.randomUUID()}`,
  };
}

async function report(client: Client, approval: Approval, options: { reportOutcome?: boolean; logger?: { warn(message: string): void } }, outcome: { status: 'succeeded' | 'failed'; detail?: string }): Promise<void> {
  if (options.reportOutcome === false) return;
  try {
    await client.reportOutcome(approval.request.id, outcome, { timeoutMs: CLEANUP_TIMEOUT_MS });
  } catch (error) {
    (options.logger ?? console).warn(`countersign: could not report the outcome of ${approval.request.id}: ${(error as Error).message}`);
  }
}

/** The input as request arguments: a plain object as it is (through JSON, so the server sees
 * what it will hash), anything else as `{ input }`. */
export function defaultArguments(input: unknown): JsonObject {
  const json = JSON.parse(JSON.stringify(input ?? null) ?? 'null') as unknown;
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) return json as JsonObject;
  return { input: json };
}

function truncateUtf8(text: string, limit: number): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= limit) return text;
  // Cut on a character boundary: the decoder drops a trailing partial sequence as U+FFFD,
  // which the slice below removes.
  return new TextDecoder().decode(bytes.slice(0, limit - 3)).replace(/\uFFFD$/, '') + '...';
}

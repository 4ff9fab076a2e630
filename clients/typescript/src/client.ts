// Client: the countersign v1 API (create, get, list, wait, decide, cancel, outcome, keys,
// receipts, the event stream). It speaks plain fetch, so it runs on Node 20+, Deno, Bun and
// edge runtimes alike. A Client keeps no connection and no mutable state after construction:
// one instance may be shared by any number of concurrent calls.
import { watchEvents, type WatchOptions } from './event-stream.js';
import { backoffMs, isTransient, sleep, Transport, type CallOptions, type FetchLike } from './http.js';
import { verifyReceipt, type ReceiptExpectations } from './receipts.js';
import type {
  ApprovalRequest,
  AuditEvent,
  ConsumedReceipt,
  CreateRequestInput,
  DecisionInput,
  Jwks,
  ListFilters,
  OutcomeInput,
  ReceiptClaims,
  RequestPage,
} from './types.js';
import { MAX_POLL_SECONDS, Waiter, type WaitOptions } from './waiter.js';

export const DEFAULT_URL = 'http://127.0.0.1:7400';
/** Allowance on top of a long-poll for its answer to arrive. */
const POLL_SLACK_MS = 15_000;
/** Attempts at creating a request with an idempotency key before a transient error is thrown. */
const CREATE_ATTEMPTS = 5;

export interface ClientOptions {
  /** The server, `http(s)://host[:port][/prefix]`. Default: COUNTERSIGN_URL, else
   * http://127.0.0.1:7400. */
  url?: string;
  /** The API token. Default: COUNTERSIGN_TOKEN. Without one, every call but keys() throws
   * NoTokenError before sending anything, unless authOff. */
  token?: string;
  /** The server runs with `--auth off`: call it without a token. */
  authOff?: boolean;
  /** Milliseconds to wait for an ordinary (not long-poll) answer. Default 30 s. */
  requestTimeoutMs?: number;
  /** Seconds each long-poll of wait() asks the server to hold it (1 to 60). Default 60. */
  pollTimeoutSeconds?: number;
  /** The retry delay after the first transient failure, and its cap; it doubles per failure
   * in a row, with jitter. Defaults 500 ms and 15 s. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Told before each retry of a transient failure (attempt counts failures in a row). */
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
  /** The fetch to use; default: the global one. */
  fetch?: FetchLike;
}

export interface RequestCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

function env(name: string): string | undefined {
  // `process` is absent in browsers and some edge runtimes.
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return value ? value : undefined;
}

function requestPath(id: string, suffix = ''): string {
  if (typeof id !== 'string' || id === '') throw new TypeError('the request id must be a non-empty string');
  return `/v1/requests/${encodeURIComponent(id)}${suffix}`;
}

export class Client {
  readonly url: string;
  readonly pollTimeoutSeconds: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  private readonly transport: Transport;
  private readonly onRetry: ClientOptions['onRetry'];

  constructor(options: ClientOptions = {}) {
    this.url = (options.url ?? env('COUNTERSIGN_URL') ?? DEFAULT_URL).replace(/\/+$/, '');
    if (!/^https?:\/\/[^\s]+$/.test(this.url)) {
      throw new TypeError(`countersign URL ${JSON.stringify(this.url)} is not http(s)://host[:port][/prefix]`);
    }
    let token = options.token ?? env('COUNTERSIGN_TOKEN') ?? null;
    if (token !== null) {
      token = token.trim();
      if (!/^[\x21-\x7e]+$/.test(token)) throw new TypeError('the token must be printable ASCII without spaces');
    }
    const fetchImpl = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
    this.transport = new Transport(this.url, token, options.authOff ?? false, fetchImpl, options.requestTimeoutMs ?? 30_000);
    this.pollTimeoutSeconds = options.pollTimeoutSeconds ?? MAX_POLL_SECONDS;
    if (!Number.isInteger(this.pollTimeoutSeconds) || this.pollTimeoutSeconds < 1 || this.pollTimeoutSeconds > MAX_POLL_SECONDS) {
      throw new RangeError(`pollTimeoutSeconds must be an integer from 1 to ${MAX_POLL_SECONDS}`);
    }
    this.backoffInitialMs = options.backoffInitialMs ?? 500;
    this.backoffMaxMs = options.backoffMaxMs ?? 15_000;
    this.onRetry = options.onRetry;
  }

  /**
   * Creates a request (`POST /v1/requests`) and answers it. With an `idempotency_key`, a
   * transient failure (unreachable server, 502/503/504) is retried a few times: the key makes
   * a retry answer the request the first attempt created instead of making a second one, and
   * so does calling create again with the same key and body later.
   */
  async create(input: CreateRequestInput, options: RequestCallOptions = {}): Promise<ApprovalRequest> {
    const body = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transport.call<ApprovalRequest>('POST', '/v1/requests', body, options);
      } catch (error) {
        if (body.idempotency_key === undefined || !isTransient(error) || attempt >= CREATE_ATTEMPTS) throw error;
        await this.pause(attempt, error, options.signal);
      }
    }
  }

  /** The request with its decisions (`GET /v1/requests/{id}`). */
  get(id: string, options: RequestCallOptions = {}): Promise<ApprovalRequest> {
    return this.transport.call('GET', requestPath(id), undefined, options);
  }

  /** One page of requests, newest first. */
  list(filters: ListFilters = {}, options: RequestCallOptions = {}): Promise<RequestPage> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(filters)) {
      if (value !== undefined) query.set(name, String(value));
    }
    return this.transport.call('GET', `/v1/requests${query.size ? `?${query}` : ''}`, undefined, options);
  }

  /**
   * Waits until the request is no longer pending and answers it. `request` is its id or the
   * request itself as create() answered it (then onWaiting hears at once).
   *
   * Long-polls `GET /v1/requests/{id}/wait` again and again, each poll at most the server's
   * cap of 60 s. Transient failures (the server unreachable or restarting, a connection reset,
   * 429/502/503/504) are retried with capped exponential backoff that honours Retry-After, so
   * a wait survives a restart or a proxy hiccup. Other errors (401, 403, 404) throw ApiError
   * at once. With `timeoutMs`, answers the request as last seen (still pending) when the time
   * runs out. An aborted `signal` rejects with its reason; the request stays pending.
   */
  async wait(request: string | ApprovalRequest, options: WaitOptions = {}): Promise<ApprovalRequest> {
    const waiter = new Waiter(
      { url: this.url, backoffInitialMs: this.backoffInitialMs, backoffMaxMs: this.backoffMaxMs, onRetry: this.onRetry },
      options.pollTimeoutSeconds ?? this.pollTimeoutSeconds,
      options,
    );
    let id: string;
    if (typeof request === 'string') {
      id = request;
    } else {
      id = request.id;
      waiter.saw(request);
      if (request.status !== 'pending') return request;
    }
    const path = requestPath(id, '/wait');
    for (;;) {
      const seconds = waiter.nextPoll();
      const started = Date.now();
      let delay: number | null;
      try {
        const answer = await this.transport.call<ApprovalRequest>('GET', `${path}?timeout=${seconds}`, undefined, {
          signal: options.signal,
          timeoutMs: seconds * 1000 + POLL_SLACK_MS,
        });
        delay = waiter.answered(answer, Date.now() - started, seconds);
        if (delay === null) return answer;
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        delay = waiter.failed(error);
        if (delay === null) return waiter.last as ApprovalRequest;
      }
      if (delay > 0) await sleep(delay, options.signal);
    }
  }

  /** Records a decision (`POST /v1/requests/{id}/decisions`) and answers the request. Needs
   * an approver's or admin's token. */
  decide(id: string, decision: DecisionInput, options: RequestCallOptions = {}): Promise<ApprovalRequest> {
    return this.transport.call('POST', requestPath(id, '/decisions'), decision, options);
  }

  approve(id: string, comment?: string): Promise<ApprovalRequest> {
    return this.decide(id, comment === undefined ? { choice: 'approve' } : { choice: 'approve', comment });
  }

  deny(id: string, comment?: string): Promise<ApprovalRequest> {
    return this.decide(id, comment === undefined ? { choice: 'deny' } : { choice: 'deny', comment });
  }

  /** Cancels a pending request (`POST /v1/requests/{id}/cancel`); only its requester or an
   * admin may. A request no longer pending throws ApiError 409 with the request in
   * `error.request`. */
  cancel(id: string, reason?: string, options: RequestCallOptions = {}): Promise<ApprovalRequest> {
    return this.transport.call('POST', requestPath(id, '/cancel'), reason === undefined ? {} : { reason }, options);
  }

  /** Reports what ran after an approved request was acted on (`POST
   * /v1/requests/{id}/outcome`); only its requester, once. */
  reportOutcome(id: string, outcome: OutcomeInput, options: RequestCallOptions = {}): Promise<ApprovalRequest> {
    return this.transport.call('POST', requestPath(id, '/outcome'), outcome, options);
  }

  /** The receipt signing keys, a JWKS (`GET /v1/keys`; needs no token). */
  keys(options: RequestCallOptions = {}): Promise<Jwks> {
    return this.transport.call('GET', '/v1/keys', undefined, options);
  }

  /** Consumes one use of a receipt (`POST /v1/receipts/consume`), as an executor does before
   * it acts on a single-use receipt. Throws ReceiptAlreadyConsumed (409) when its uses are
   * spent, and ApiError 422 `invalid_receipt` for a forged, foreign or expired one. */
  consumeReceipt(receipt: string, options: RequestCallOptions = {}): Promise<ConsumedReceipt> {
    return this.transport.call('POST', '/v1/receipts/consume', { receipt }, options);
  }

  /** verifyReceipt against this server's current keys. */
  async verifyReceipt(receipt: string, expect: ReceiptExpectations = {}): Promise<ReceiptClaims> {
    return verifyReceipt(receipt, await this.keys(), expect);
  }

  /**
   * The tenant's request events as they are committed (`GET /v1/events`, server-sent
   * events), as an async iterator: `for await (const event of client.watch({ request }))`.
   * A broken connection is reopened with Last-Event-ID, so no event is missed or repeated;
   * leaving the loop or aborting `signal` closes it.
   */
  watch(options: WatchOptions = {}): AsyncGenerator<AuditEvent, void, undefined> {
    return watchEvents(this.transport, { backoffInitialMs: this.backoffInitialMs, backoffMaxMs: this.backoffMaxMs, onRetry: this.onRetry }, options);
  }

  /** A raw API call, for endpoints this class has no method for. */
  call<T = unknown>(method: string, target: string, body?: unknown, options: CallOptions = {}): Promise<T> {
    if (!target.startsWith('/')) throw new TypeError('the target must start with /');
    return this.transport.call(method, target, body, options);
  }

  toString(): string {
    return `Client(${this.url})`;
  }

  private async pause(attempt: number, error: unknown, signal?: AbortSignal): Promise<void> {
    const delay = backoffMs(attempt, error, this.backoffInitialMs, this.backoffMaxMs);
    this.onRetry?.(attempt, error, delay);
    await sleep(delay, signal);
  }
}

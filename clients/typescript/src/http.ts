// One HTTP exchange with the server, and the retry arithmetic every loop of the client
// shares. Internal: the package's entry points are Client and the functions index.ts exports.
import { ApiError, CountersignError, NoTokenError, ReceiptAlreadyConsumed, TransportError } from './errors.js';
import type { ApprovalRequest } from './types.js';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface CallOptions {
  /** Overrides the client's request timeout (milliseconds). */
  timeoutMs?: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** The one endpoint that needs no token: the receipt keys are public. */
const PUBLIC_TARGETS = new Set(['/v1/keys']);

export class Transport {
  constructor(
    readonly url: string,
    private readonly token: string | null,
    private readonly authOff: boolean,
    private readonly fetchImpl: FetchLike,
    private readonly requestTimeoutMs: number,
  ) {}

  headers(body: boolean, extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { Accept: 'application/json', ...extra };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body) headers['Content-Type'] = 'application/json';
    return headers;
  }

  requireToken(target: string): void {
    if (this.token || this.authOff || PUBLIC_TARGETS.has(target)) return;
    throw new NoTokenError(
      `no token configured for countersign at ${this.url}: pass new Client({ token }), or set ` +
        'COUNTERSIGN_TOKEN (authOff: true for a server started with --auth off)',
    );
  }

  /** Sends one request and answers the response, its body still unread. Throws
   * TransportError when the server cannot be reached or sends no head within the timeout (0:
   * no timeout), and the signal's reason when the caller aborted. */
  async send(method: string, target: string, body: unknown, options: CallOptions = {}): Promise<Response> {
    this.requireToken(target);
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    // Without a timeout the caller's signal goes to fetch as it is, so it keeps governing the
    // body after the head arrived (the event stream reads one for hours).
    const { signal, done } = timeoutMs > 0 ? linkedSignal(options.signal, timeoutMs) : { signal: options.signal, done: () => {} };
    try {
      return await this.fetchImpl(this.url + target, {
        method,
        headers: this.headers(body !== undefined, options.headers),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      throw this.failure(error, options.signal, method, target, timeoutMs);
    } finally {
      done();
    }
  }

  /** One call whose answer is a JSON object: the object for 2xx, ApiError otherwise. */
  async call<T>(method: string, target: string, body?: unknown, options: CallOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    const { signal, done } = linkedSignal(options.signal, timeoutMs);
    try {
      const response = await this.send(method, target, body, { ...options, signal, timeoutMs: 0 });
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw this.failure(error, options.signal, method, target, timeoutMs);
      }
      return decode<T>(response, text, method, target, this.url);
    } catch (error) {
      throw this.failure(error, options.signal, method, target, timeoutMs);
    } finally {
      done();
    }
  }

  /** The error to throw for `error`: the caller's abort reason as it is, our own errors as
   * they are, anything else (a refused connection, our timeout) as a TransportError. */
  failure(error: unknown, callerSignal: AbortSignal | undefined, method: string, target: string, timeoutMs: number): unknown {
    if (callerSignal?.aborted) return callerSignal.reason;
    if (error instanceof CountersignError) return error;
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return new TransportError(`countersign at ${this.url} did not answer ${method} ${target} within ${timeoutMs / 1000} s`, { cause: error });
    }
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
    const detail = error instanceof Error ? error.message : String(error);
    return new TransportError(`countersign at ${this.url} could not be reached (${method} ${target}): ${detail}${cause ? `: ${cause}` : ''}`, { cause: error });
  }
}

/** A signal that aborts when `outer` does or after `timeoutMs` (0: never), and the function
 * that releases its timer. */
export function linkedSignal(outer: AbortSignal | undefined, timeoutMs: number): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const abort = () => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  outer?.addEventListener('abort', abort, { once: true });
  const timer =
    timeoutMs > 0
      ? setTimeout(() => controller.abort(new DOMException('the call timed out', 'TimeoutError')), timeoutMs)
      : undefined;
  return {
    signal: controller.signal,
    done: () => {
      if (timer !== undefined) clearTimeout(timer);
      outer?.removeEventListener('abort', abort);
    },
  };
}

export function decode<T>(response: Response, text: string, method: string, target: string, url: string): T {
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (response.status >= 200 && response.status < 300) {
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new TransportError(`countersign at ${url} answered ${method} ${target} with something that is not a JSON object`);
    }
    return parsed as T;
  }
  throw apiError(response, parsed, text, url);
}

export function apiError(response: Response, parsed: unknown, text: string, url: string): ApiError {
  let code = '';
  let message = '';
  let field: string | null = null;
  let request: ApprovalRequest | null = null;
  let error: Record<string, unknown> = {};
  if (parsed !== null && typeof parsed === 'object') {
    const body = parsed as Record<string, unknown>;
    if (body.error !== null && typeof body.error === 'object') {
      error = body.error as Record<string, unknown>;
      code = typeof error.code === 'string' ? error.code : '';
      message = typeof error.message === 'string' ? error.message : '';
      field = typeof error.field === 'string' ? error.field : null;
    }
    if (body.request !== null && typeof body.request === 'object') request = body.request as ApprovalRequest;
  }
  if (!message) {
    const snippet = text.slice(0, 200).trim();
    message = `countersign at ${url} answered HTTP ${response.status}${snippet ? `: ${snippet}` : ''}`;
  }
  if (response.status === 409 && code === 'already_consumed') {
    return new ReceiptAlreadyConsumed(response.status, code, message, error);
  }
  const retryAfter = Number(response.headers.get('retry-after') ?? 'NaN');
  return new ApiError(response.status, code, message, {
    request,
    field,
    retryAfterSeconds: Number.isFinite(retryAfter) ? Math.max(0, retryAfter) : null,
  });
}

/** Whether a failure is worth retrying: the server unreachable or restarting, a connection
 * broken, 429/502/503/504. */
export function isTransient(error: unknown): boolean {
  return error instanceof TransportError || (error instanceof ApiError && error.transient);
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Capped exponential backoff with jitter; a Retry-After the server sent is honoured up to the
 * cap. `attempt` counts the failures in a row, from 1. */
export function backoffMs(attempt: number, error: unknown, initialMs: number, maxMs: number): number {
  let delay = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
  delay *= 0.5 + Math.random() / 2;
  if (error instanceof ApiError && error.retryAfterSeconds !== null) {
    delay = Math.max(delay, Math.min(error.retryAfterSeconds * 1000, maxMs));
  }
  return delay;
}

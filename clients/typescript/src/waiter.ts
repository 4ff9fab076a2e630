// The bookkeeping of one Client.wait: how long each long-poll asks for, the caller's overall
// deadline, the backoff after failures, and what the caller is told along the way.
import { backoffMs, isTransient } from './http.js';
import type { ApprovalRequest, Decision, WaitingInfo } from './types.js';

/** The server answers a long-poll after at most this many seconds. */
export const MAX_POLL_SECONDS = 60;

export interface WaitOptions {
  /** Give up after this many milliseconds and answer the request as last seen (still
   * pending). Default: wait until the request is resolved (its deadline always resolves it). */
  timeoutMs?: number;
  /** Seconds each long-poll asks the server to hold it, 1 to 60. Default: the client's. */
  pollTimeoutSeconds?: number;
  /** Stops waiting: the wait rejects with the signal's reason. The request stays pending
   * (requiresApproval cancels it). */
  signal?: AbortSignal;
  /** Told once, when the wait starts on a pending request: its id, who may decide and its
   * page in the web inbox. */
  onWaiting?: (info: WaitingInfo) => void;
  /** Told of each decision as the wait sees it, every decision once and in order. */
  onDecision?: (decision: Decision, request: ApprovalRequest) => void;
}

export interface BackoffSettings {
  url: string;
  backoffInitialMs: number;
  backoffMaxMs: number;
  onRetry: ((attempt: number, error: unknown, delayMs: number) => void) | undefined;
}

export class Waiter {
  readonly pollSeconds: number;
  last: ApprovalRequest | null = null;
  private readonly deadline: number | null;
  private failures = 0;
  private started = false;
  private reported = 0;

  constructor(
    private readonly settings: BackoffSettings,
    pollSeconds: number,
    private readonly options: WaitOptions,
  ) {
    if (!Number.isInteger(pollSeconds) || pollSeconds < 1 || pollSeconds > MAX_POLL_SECONDS) {
      throw new RangeError(`pollTimeoutSeconds must be an integer from 1 to ${MAX_POLL_SECONDS}`);
    }
    this.pollSeconds = pollSeconds;
    this.deadline = options.timeoutMs === undefined ? null : Date.now() + Math.max(0, options.timeoutMs);
  }

  /** Seconds the next long-poll asks for: the poll length, or what is left of the caller's
   * time (0 asks for an answer at once). */
  nextPoll(): number {
    if (this.deadline === null) return this.pollSeconds;
    return Math.max(0, Math.min(this.pollSeconds, Math.ceil((this.deadline - Date.now()) / 1000)));
  }

  private outOfTime(): boolean {
    return this.deadline !== null && Date.now() >= this.deadline;
  }

  /** After a failed poll: the delay before the next, or null to stop and answer the request
   * as last seen. Throws `error` when it is not worth retrying, or when time ran out before
   * the request could be read at all. */
  failed(error: unknown): number | null {
    if (!isTransient(error)) throw error;
    if (this.outOfTime()) {
      if (this.last !== null) return null;
      throw error;
    }
    this.failures += 1;
    let delay = backoffMs(this.failures, error, this.settings.backoffInitialMs, this.settings.backoffMaxMs);
    if (this.deadline !== null) delay = Math.min(delay, Math.max(0, this.deadline - Date.now()));
    this.settings.onRetry?.(this.failures, error, delay);
    return delay;
  }

  /** After an answered poll: null when waiting is over, else the delay before the next. */
  answered(request: ApprovalRequest, elapsedMs: number, asked: number): number | null {
    this.saw(request);
    if (request.status !== 'pending' || this.outOfTime() || asked === 0) return null;
    if (elapsedMs >= (asked * 1000) / 2) {
      this.failures = 0;
      return 0;
    }
    // A pending answer long before the poll's time: the server is shutting down (it answers
    // its waiters at once) or a proxy cut the poll short. Back off rather than spin.
    this.failures += 1;
    return Math.min(this.settings.backoffMaxMs, this.settings.backoffInitialMs * 2 ** Math.min(this.failures - 1, 30));
  }

  /** Records the request as seen, telling onWaiting (once) and onDecision (each new one). */
  saw(request: ApprovalRequest): void {
    this.last = request;
    if (!this.started) {
      this.started = true;
      if (request.status === 'pending') this.options.onWaiting?.(waitingInfo(this.settings.url, request));
    }
    const decisions = request.decisions ?? [];
    while (this.reported < decisions.length) {
      this.options.onDecision?.(decisions[this.reported] as Decision, request);
      this.reported += 1;
    }
  }
}

/** Who may decide `request`, its deadline and its page in the web inbox. */
export function waitingInfo(url: string, request: ApprovalRequest): WaitingInfo {
  const approvers = request.approvers ?? [];
  const quorum = request.quorum ?? 1;
  const who = approvers.length ? approvers.join(', ') : 'any approver or admin of the tenant';
  return {
    requestId: request.id,
    whoMayDecide: who + (quorum > 1 ? `; ${quorum} approvals needed` : ''),
    approvers,
    quorum,
    deadlineAt: request.deadline_at,
    inboxUrl: `${url.replace(/\/+$/, '')}/ui/requests/${encodeURIComponent(request.id)}`,
    request,
  };
}

// Client.watch: the server's event stream (GET /v1/events, SSE) as an async iterator that
// reconnects by itself and resumes with Last-Event-ID, so the caller sees every event once,
// in seq order, across server restarts, proxy cuts and the server's slow-consumer cut-off.
import { CountersignError, TransportError } from './errors.js';
import { apiError, backoffMs, isTransient, sleep, type Transport } from './http.js';
import type { AuditEvent } from './types.js';

export interface WatchOptions {
  /** Only this request's events. */
  request?: string;
  /** Replay every event with a seq above this first (0: the whole history); without it the
   * stream starts with the next event committed. */
  since?: number;
  /** Ends the iteration (it then returns, without an error). */
  signal?: AbortSignal;
  /** Reconnect after a transient failure (default true). With false, a lost connection ends
   * the iteration with the error. */
  reconnect?: boolean;
}

export interface StreamSettings {
  backoffInitialMs: number;
  backoffMaxMs: number;
  onRetry: ((attempt: number, error: unknown, delayMs: number) => void) | undefined;
}

/** One server-sent event as the wire gives it. */
interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

export async function* watchEvents(transport: Transport, settings: StreamSettings, options: WatchOptions = {}): AsyncGenerator<AuditEvent, void, undefined> {
  let lastSeq: number | null = options.since ?? null;
  let failures = 0;
  const stop = new AbortController();
  const onAbort = () => stop.abort(options.signal?.reason);
  if (options.signal?.aborted) return;
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const query = new URLSearchParams();
      if (options.request !== undefined) query.set('request', options.request);
      if (lastSeq !== null) query.set('since', String(lastSeq));
      const target = `/v1/events${query.size ? `?${query}` : ''}`;
      const headers: Record<string, string> = { Accept: 'text/event-stream' };
      if (lastSeq !== null) headers['Last-Event-ID'] = String(lastSeq);
      let failure: unknown = null;
      try {
        const response = await transport.send('GET', target, undefined, { signal: stop.signal, timeoutMs: 0, headers });
        if (response.status !== 200) {
          const text = await response.text().catch(() => '');
          let parsed: unknown = null;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = null;
          }
          throw apiError(response, parsed, text, transport.url);
        }
        if (response.body === null) throw new CountersignError('the event stream has no body');
        for await (const message of messages(response.body)) {
          if (message.event === 'overflow') {
            // The server cut us off as a slow consumer; it says where to resume.
            const since = (JSON.parse(message.data) as { since?: unknown }).since;
            if (typeof since === 'number') lastSeq = Math.max(lastSeq ?? 0, since);
            break;
          }
          const event = JSON.parse(message.data) as AuditEvent;
          if (typeof event.seq === 'number') {
            if (lastSeq !== null && event.seq <= lastSeq) continue; // never twice
            lastSeq = event.seq;
          }
          failures = 0;
          yield event;
        }
        // The server closed the stream (shutdown, or the overflow above): reconnect.
        failure = null;
      } catch (error) {
        if (stop.signal.aborted) return;
        if (!isTransient(error) || options.reconnect === false) throw error;
        failure = error;
      }
      if (stop.signal.aborted) return;
      if (failure === null && options.reconnect === false) return;
      failures += 1;
      const delay = backoffMs(failures, failure, settings.backoffInitialMs, settings.backoffMaxMs);
      settings.onRetry?.(failures, failure, delay);
      try {
        await sleep(delay, stop.signal);
      } catch {
        return;
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    // Leaving the loop early (break, return, an error) closes the connection.
    stop.abort();
  }
}

/** The messages of an SSE body (the WHATWG event-stream format: `field: value` lines, a
 * blank line ends a message, `:` lines are comments). */
async function* messages(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage, void, undefined> {
  const decoder = new TextDecoder('utf-8');
  const reader = body.getReader();
  let buffer = '';
  let current: SseMessage = { id: null, event: 'message', data: '' };
  let hasData = false;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new TransportError(`the event stream broke: ${(error as Error).message}`, { cause: error });
      }
      const { value, done } = chunk;
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
        if (line === '') {
          if (hasData) yield current;
          current = { id: null, event: 'message', data: '' };
          hasData = false;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? '' : line.slice(colon + 1);
        if (text.startsWith(' ')) text = text.slice(1);
        if (field === 'data') {
          current.data = hasData ? `${current.data}\n${text}` : text;
          hasData = true;
        } else if (field === 'event') {
          current.event = text;
        } else if (field === 'id') {
          current.id = text;
        }
      }
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

// countersign/openai-agents: the OpenAI Agents SDK adapter. A tool's `needsApproval` asks
// countersign, the run pauses with the SDK's own interruptions, and `resolveInterruptions`
// turns countersign's decisions into the SDK's `state.approve(item)` / `state.reject(item)`.
//
// How one tool call goes:
//   1. The model calls the tool. The SDK asks its `needsApproval(runContext, input, callId)`:
//      ours creates the countersign request for that call (arguments = the parsed input) with
//      an idempotency key made of the action and the call id, so asking again for the same
//      call (the SDK re-evaluates after a RunState is restored) reaches the same request
//      instead of making a second one. A request a standing grant or an approving policy
//      decided at creation answers false: the tool runs at once, no pause. Anything else
//      (pending, or already denied by a policy) answers true: the run stops with an
//      interruption. A policy denial must pause too: needsApproval can only say "ask", never
//      "no", and the rejection has to reach the model through state.reject like any other.
//   2. The program stores `result.state.toString()` if it likes, and later (after a restart,
//      days later) calls `resolveInterruptions(state)`: for each interruption of a gated tool
//      it finds the request again (same key), waits for or checks its decision, and calls
//      `state.approve(item)` or `state.reject(item)`. A rejection carries no message of ours
//      (unless the program gives rejectionMessage), so the model reads the SDK's own text for
//      a rejected call.
//   3. `run(agent, state)` resumes: approved calls run, rejected ones become the SDK's
//      rejection output.
//
// Edited arguments. The SDK has no way for an approval to carry other arguments: an approval
// is bound to a fingerprint of the call's arguments, and changing the approval item's
// `rawItem.arguments` before approving makes the resumed run fail closed ("Tool call ID ... was
// reused for a different invocation after an approval decision", checked against 0.20.0).
// (Rewriting the call's arguments inside the serialized RunState does get through, but that
// edits the SDK's private snapshot format, which changes from version to version.) So the
// edit is applied where the tool runs: `withCountersign` also wraps the tool's `execute`,
// which looks the call's request up again and runs the original `execute` with the approved
// arguments, parsed by the tool's own schema when it is a Standard Schema (zod is). The
// model's history keeps the call as the model made it; the tool's output is what tells it.
// An edit that cannot run is rejected by resolveInterruptions like a denial, with the reason
// in its answer: any edit of a tool gated by `countersignNeedsApproval` alone (its execute
// only ever sees the model's arguments; so the core's requiresApproval without
// allowEditedArguments), and an edit the tool's schema refuses.
//
// The wrapped `execute` also makes countersign, not the SDK's approval state, the authority:
// it runs the tool only when the request is approved now (a program that calls
// state.approve itself, around countersign, gets an error instead of a run), consumes a
// single-use receipt before acting, and reports the outcome.
//
// Only types are imported from '@openai/agents': importing this module does not load the SDK.
import type {
  RunContext,
  RunToolApprovalItem,
  ToolExecuteArgument,
  ToolInputParameters,
  ToolOptions,
  ToolOutputSchema,
  UnknownContext,
} from '@openai/agents';
import { ApiError, CountersignError } from './errors.js';
import { approvedArguments, argumentsEdited, awaitApproval, defaultArguments, requestFor } from './index.js';
import type { Client } from './index.js';
import type { ApprovalRequest, CreateRequestInput, JsonObject, ReasonCode, RequestStatus, WaitingInfo } from './types.js';

/** What the request made for a tool call says, besides its arguments (the call's input). */
export interface CountersignApprovalOptions<I = unknown> {
  /** The request's action, `[A-Za-z0-9_.:/-]{1,128}`. withCountersign defaults it to the
   * tool's name (other characters replaced by `_`); countersignNeedsApproval needs it, since
   * the SDK does not tell needsApproval which tool it is asking for. Policies match on it. */
  action?: string;
  /** What approvers read. Default: "An agent wants to call TOOL". */
  title?: string | ((input: I) => string);
  /** Shown to approvers, besides `tool` and `call_id`, which are always added. */
  details?: JsonObject | ((input: I) => JsonObject);
  /** Who may decide: names and `group:NAME`. Default: the policy's. */
  approvers?: string[];
  quorum?: number;
  timeoutSeconds?: number;
  onTimeout?: 'expire' | 'deny' | 'escalate';
  notify?: string[];
  /** A label grouping the run's requests; "approve for this session" grants apply to it. */
  session?: string | ((input: I) => string);
  risk?: 'normal' | 'high';
  /** The idempotency key for a call. Default `openai-agents:ACTION:CALL_ID`. Give your own
   * (say, with a conversation id) when your model provider reuses call ids across runs: a
   * reused key answers the earlier request, with its decision, for up to the server's
   * idempotency_ttl. */
  idempotencyKey?: (callId: string, input: I) => string;
}

/** The options of withCountersign: those of the request, and what the wrapped execute does. */
export interface CountersignToolOptions<I = unknown> extends CountersignApprovalOptions<I> {
  /** Report what the tool did (`succeeded`, or `failed` with the error) to countersign after
   * it ran. Default true. A failed report does not fail the tool call; it is logged. */
  reportOutcome?: boolean;
  /** Where a failed outcome report is told; default console. */
  logger?: { warn(message: string): void };
}

/** What resolveInterruptions did with one interruption. */
export interface InterruptionResolution {
  /** The SDK's tool call id. */
  callId: string;
  /** The tool's name. */
  tool: string;
  /**
   * `approved`: state.approve was called. `rejected`: state.reject was called (denied,
   * expired, cancelled, or approved with edited arguments the tool cannot take: see
   * `problem`). `pending`: nobody decided yet (wait false, or timeoutMs ran out); the item
   * is left as it was. `skipped`: not a countersign-gated function tool; left for the
   * program.
   */
  outcome: 'approved' | 'rejected' | 'pending' | 'skipped';
  /** The countersign request, null when skipped. */
  requestId: string | null;
  status: RequestStatus | null;
  reasonCode: ReasonCode | null;
  /** The approvers changed the arguments (the tool runs with theirs). */
  edited: boolean;
  /** Why an approved request was rejected all the same: its edited arguments cannot run
   * (a countersignNeedsApproval tool takes no edits; a withCountersign tool's schema refused
   * them). Null otherwise. */
  problem: string | null;
  request: ApprovalRequest | null;
}

export interface ResolveInterruptionsOptions {
  /** Wait for pending requests to be decided (long-polling the server). Default true. With
   * false, only decisions already made are applied and the rest stay pending. */
  wait?: boolean;
  /** With wait, give up after this many milliseconds; what is still pending stays pending. */
  timeoutMs?: number;
  /** Stops waiting: resolveInterruptions rejects with the signal's reason and changes
   * nothing in the state. */
  signal?: AbortSignal;
  /** Told once per pending request when the wait for it starts (id, approvers, inbox page). */
  onWaiting?: (info: WaitingInfo) => void;
  /** The text the model reads for a rejected call. Default: none, so the model reads the
   * SDK's own rejection (the Runner's toolErrorFormatter, else its default sentence). */
  rejectionMessage?: (request: ApprovalRequest) => string | undefined;
}

/** The tool approval function of the SDK (its ToolApprovalFunction), for any input. */
export type CountersignNeedsApproval<I = unknown> = (runContext: RunContext, input: I, callId?: string) => Promise<boolean>;

// What resolveInterruptions and the wrapped execute need from a gated tool's needsApproval.
// Symbol.for, so the ESM and CommonJS builds of this module recognise each other's tools.
const GATE = Symbol.for('countersign.openai-agents.gate');

interface Gate {
  /** The request for this call: created by the first ask, found again by its key after. */
  requestFor(input: unknown, callId: string, signal?: AbortSignal): Promise<ApprovalRequest>;
  /** The request body for a call: the same for the same input and call id. */
  body(input: unknown, callId: string): CreateRequestInput;
  /** Whether the tool can run the approvers' edited arguments, and with what input (a
   * withCountersign tool's schema parses them); a problem, for a person, when it cannot. */
  checkEdit(args: JsonObject): Promise<{ input: unknown } | { problem: string }>;
  client: Client;
}

type GatedFunction = CountersignNeedsApproval & { [GATE]?: Gate };

const ACTION_CHARACTERS = /[^A-Za-z0-9_.:/-]/g;
const ACTION_PATTERN = /^[A-Za-z0-9_.:/-]{1,128}$/;

function actionForTool(name: string): string {
  const action = name.replace(ACTION_CHARACTERS, '_').slice(0, 128);
  if (action === '') throw new TypeError('the tool has no name to make an action of; give options.action');
  return action;
}

function makeGate(client: Client, options: CountersignApprovalOptions<unknown>, tool: string, checkEdit: Gate['checkEdit']): Gate {
  const action = options.action ?? actionForTool(tool);
  if (!ACTION_PATTERN.test(action)) {
    throw new TypeError(`countersign: action ${JSON.stringify(action)} is not a valid action name ([A-Za-z0-9_.:/-]{1,128}); describe the call in title`);
  }
  const body = (input: unknown, callId: string): CreateRequestInput => {
    const { details, session, idempotencyKey, title } = options;
    return requestFor(
      {
        ...options,
        action,
        title: title ?? `An agent wants to call ${tool}`,
        details: (value: unknown) => ({ ...(typeof details === 'function' ? details(value) : details), tool, call_id: callId }),
        session: typeof session === 'function' ? session(input) : session,
        idempotencyKey: undefined,
      },
      input,
      // The tool's input is what approvers see and what the receipt binds; a tool without an
      // object schema gets it as { input }.
      defaultArguments(input),
      idempotencyKey?.(callId, input) ?? `openai-agents:${action}:${callId}`,
    );
  };

  return {
    client,
    checkEdit,
    body,
    async requestFor(input, callId, signal) {
      const request = body(input, callId);
      try {
        return await client.create(request, { signal });
      } catch (error) {
        // The same key with another body is 409 with the earlier request. That happens when
        // resolveInterruptions rebuilds the input from the call's raw JSON and the tool's
        // schema had changed it (zod drops unknown keys, fills defaults): the key is this
        // call's, so the earlier request is this call's request.
        if (error instanceof ApiError && error.status === 409 && error.request && error.request.action === action) {
          return error.request;
        }
        throw error;
      }
    },
  };
}

function gatedNeedsApproval(gate: Gate): GatedFunction {
  const needsApproval: GatedFunction = async (_runContext, input, callId) => {
    if (!callId) throw new CountersignError('countersign needs the tool call id to find the call\'s request again; the SDK gave none');
    const request = await gate.requestFor(input, callId);
    // Approved at creation (a standing grant, an approving policy), or on a re-evaluation
    // after a restored RunState: no pause. An edit this tool cannot take must pause, so that
    // resolveInterruptions rejects it.
    if (request.status !== 'approved') return true;
    return argumentsEdited(request) && 'problem' in (await gate.checkEdit(approvedArguments(request)));
  };
  Object.defineProperty(needsApproval, GATE, { value: gate });
  return needsApproval;
}

/**
 * A tool's `needsApproval` backed by countersign:
 * `tool({ ..., needsApproval: countersignNeedsApproval(client, { action: 'deploy' }) })`.
 * Each call becomes a countersign request; the run pauses unless a grant or policy approved it
 * at once. Resolve the pause with resolveInterruptions. The tool runs with the model's
 * arguments: an approval that edited them is rejected (use withCountersign to accept edits).
 */
export function countersignNeedsApproval<I = unknown>(
  client: Client,
  options: CountersignApprovalOptions<I> & { action: string },
): CountersignNeedsApproval<I> {
  const noEdits = async (): Promise<{ problem: string }> => ({
    problem: 'the approvers edited the arguments, and this tool runs only the arguments the model gave (gate it with withCountersign to run edits)',
  });
  return gatedNeedsApproval(makeGate(client, options as CountersignApprovalOptions<unknown>, options.action, noEdits));
}

/**
 * The options of `tool()` with countersign in front: `tool(withCountersign(client, { name,
 * description, parameters, execute }))`. Sets `needsApproval` (as countersignNeedsApproval,
 * action defaulting to the tool's name) and wraps `execute` so that it runs only when the
 * call's request is approved, with the approvers' edited arguments when they changed them,
 * consuming a single-use receipt first and reporting the outcome after.
 */
export function withCountersign<
  TParameters extends ToolInputParameters = undefined,
  Context = UnknownContext,
  TOutputSchema extends ToolOutputSchema | undefined = undefined,
>(
  client: Client,
  options: ToolOptions<TParameters, Context, TOutputSchema>,
  approval: CountersignToolOptions<ToolExecuteArgument<TParameters>> = {},
): ToolOptions<TParameters, Context, TOutputSchema> {
  // tool() names a tool after its execute function when it has no name; the wrapper below
  // has another name, so the name is fixed here.
  const name = options.name ?? options.execute.name;
  if (!name) throw new TypeError('withCountersign needs the tool\'s name (options.name, or a named execute function)');
  // Silently replacing the caller's own needsApproval would drop a condition they meant.
  if (options.needsApproval !== undefined) throw new TypeError(`withCountersign sets ${name}'s needsApproval itself; leave it out of the tool's options`);
  const parameters: unknown = options.parameters;
  const gate = makeGate(client, approval as CountersignApprovalOptions<unknown>, name, (args) => parseEdit(parameters, args));
  const original = options.execute as (input: unknown, context?: unknown, details?: ToolCallDetailsLike) => unknown;
  const report = approval.reportOutcome ?? true;
  const logger = approval.logger ?? console;

  const execute = async (input: unknown, context?: unknown, details?: ToolCallDetailsLike): Promise<unknown> => {
    const callId = details?.toolCall?.callId;
    if (!callId) throw new CountersignError(`countersign: ${name} was called without a tool call id, so its request cannot be found`);
    // The same body as needsApproval's, so this finds the call's request. It is decided by
    // now (the SDK ran the call because it was approved); one still pending was approved
    // around countersign (or made anew after the server forgot the key), so it is not waited
    // for: awaitApproval cancels it and throws. A single-use receipt is consumed here.
    const granted = await awaitApproval(gate.client, gate.body(input, callId), { allowEditedArguments: true, waitTimeoutMs: 0 });
    let args = input;
    if (granted.edited) {
      const edit = await gate.checkEdit(granted.arguments);
      if ('problem' in edit) throw new CountersignError(`countersign: request ${granted.request.id} for ${name}: ${edit.problem}`);
      args = edit.input;
    }
    let result: unknown;
    try {
      result = await original(args, context, details);
    } catch (error) {
      if (report) await reportQuietly(gate.client, granted.request.id, { status: 'failed', detail: describe(error) }, logger);
      throw error;
    }
    if (report) await reportQuietly(gate.client, granted.request.id, { status: 'succeeded' }, logger);
    return result;
  };

  return {
    ...options,
    name,
    needsApproval: gatedNeedsApproval(gate),
    execute,
  } as ToolOptions<TParameters, Context, TOutputSchema>;
}

/**
 * Applies countersign's decisions to a paused run: for each interruption of a tool gated by
 * countersignNeedsApproval or withCountersign, finds the call's request, waits for its
 * decision (unless `wait: false`), and calls `state.approve(item)` or `state.reject(item)`.
 * Then `run(agent, state)` resumes. Works on a RunState restored with RunState.fromString as
 * long as the server still knows the request's idempotency key ([limits] idempotency_ttl, 24
 * h by default, up to 30 days): past it, asking again makes a new request.
 */
export async function resolveInterruptions(
  state: RunStateLike,
  options: ResolveInterruptionsOptions = {},
): Promise<InterruptionResolution[]> {
  const items = state.getInterruptions();
  const wait = options.wait ?? true;
  // Waits run side by side (one slow approver does not hold up the others), and the state is
  // changed only once every wait is over, so a failed or aborted call leaves it as it was.
  // The first failure stops the other waits instead of leaving them polling for nobody.
  const stop = new AbortController();
  const forward = (): void => stop.abort(options.signal?.reason);
  if (options.signal?.aborted) forward();
  else options.signal?.addEventListener('abort', forward, { once: true });
  let found: Array<{ request: ApprovalRequest; edited: boolean; problem: string | null } | null>;
  try {
    found = await Promise.all(
      items.map(async (item) => {
        const gate = gateOf(item);
        const call = item.rawItem;
        if (!gate || call.type !== 'function_call') return null;
        try {
          let request = await gate.requestFor(parseArguments(call.arguments), call.callId, stop.signal);
          if (wait && request.status === 'pending') {
            request = await gate.client.wait(request, { timeoutMs: options.timeoutMs, signal: stop.signal, onWaiting: options.onWaiting });
          }
          const edited = request.status === 'approved' && argumentsEdited(request);
          const edit = edited ? await gate.checkEdit(approvedArguments(request)) : null;
          return { request, edited, problem: edit && 'problem' in edit ? edit.problem : null };
        } catch (error) {
          stop.abort(error);
          throw error;
        }
      }),
    );
  } finally {
    options.signal?.removeEventListener('abort', forward);
  }
  options.signal?.throwIfAborted();

  return items.map((item, index) => {
    const entry = found[index];
    const callId = item.rawItem.type === 'function_call' ? item.rawItem.callId : String(item.rawItem.id ?? '');
    const tool = item.name ?? '';
    if (!entry) {
      return { callId, tool, outcome: 'skipped', requestId: null, status: null, reasonCode: null, edited: false, problem: null, request: null };
    }
    const { request, edited, problem } = entry;
    let outcome: InterruptionResolution['outcome'];
    if (request.status === 'pending') {
      outcome = 'pending';
    } else if (request.status === 'approved' && problem === null) {
      state.approve(item);
      outcome = 'approved';
    } else {
      const message = options.rejectionMessage?.(request);
      state.reject(item, message === undefined ? undefined : { message });
      outcome = 'rejected';
    }
    return { callId, tool, outcome, requestId: request.id, status: request.status, reasonCode: request.reason_code ?? null, edited, problem, request };
  });
}

/** The part of a RunState resolveInterruptions uses: any `RunState` (result.state, or one
 * restored with RunState.fromString) fits. */
export interface RunStateLike {
  getInterruptions(): RunToolApprovalItem[];
  approve(item: RunToolApprovalItem): void;
  reject(item: RunToolApprovalItem, options?: { message?: string }): void;
}

interface ToolCallDetailsLike {
  toolCall?: { callId?: string };
}

function gateOf(item: RunToolApprovalItem): Gate | undefined {
  if (item.rawItem.type !== 'function_call') return undefined;
  const tools: readonly unknown[] = item.agent?.tools ?? [];
  for (const candidate of tools) {
    const tool = candidate as { type?: string; name?: string; needsApproval?: GatedFunction };
    if (tool.type === 'function' && tool.name === item.name && tool.needsApproval?.[GATE]) return tool.needsApproval[GATE];
  }
  return undefined;
}

// The input needsApproval saw was the call's JSON after the tool's schema parsed it; the raw
// JSON is the closest thing the interruption has (requestFor copes when they differ).
function parseArguments(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

// Edited arguments come from a person, not through the SDK's parsing of the model's call, so
// they go through the tool's own schema when it can parse (a Standard Schema, which zod is),
// and the tool gets what the schema makes of them, as it would of the model's. A plain JSON
// schema is not checked here.
async function parseEdit(parameters: unknown, args: JsonObject): Promise<{ input: unknown } | { problem: string }> {
  const standard = (parameters as { '~standard'?: StandardSchemaLike } | null)?.['~standard'];
  if (!standard || typeof standard.validate !== 'function') return { input: args };
  const result = await standard.validate(args);
  if (result.issues) {
    const issues = result.issues.map((issue) => issue.message).join('; ');
    return { problem: `the approvers' edited arguments do not fit the tool's parameters: ${issues}` };
  }
  return { input: result.value };
}

interface StandardSchemaLike {
  validate(value: unknown): StandardResult | Promise<StandardResult>;
}

type StandardResult = { value: unknown; issues?: undefined } | { issues: ReadonlyArray<{ message: string }> };

// The tool has run: a lost report is logged (and shows as "no execution report" in the
// inbox) rather than telling the model that a call failed which did not.
async function reportQuietly(
  client: Client,
  id: string,
  outcome: { status: 'succeeded' | 'failed'; detail?: string },
  logger: { warn(message: string): void },
): Promise<void> {
  try {
    await client.reportOutcome(id, outcome, { timeoutMs: 5_000 });
  } catch (error) {
    logger.warn(`countersign: could not report the outcome of ${id}: ${(error as Error).message}`);
  }
}

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  // The server takes at most 4 KiB of detail; 1,000 characters are at most 4,000 bytes.
  return text.slice(0, 1000);
}

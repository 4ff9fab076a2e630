// countersign/ai: the Vercel AI SDK adapter. `withApproval(tool, options)` puts a tool's
// `execute` behind a countersign approval: every call the model makes becomes a request whose
// arguments are the tool's input, and the original `execute` runs only once people approved
// it, with the input they approved.
//
// A call that is not approved must reach the model the way the AI SDK itself tells a model
// that a person said no (a tool whose `needsApproval` was answered with a denial): a tool
// result whose model output is `{ type: 'execution-denied', reason }`. `execute` cannot
// produce that part directly (what it returns is a result, what it throws is a `tool-error`),
// so the gated `execute` returns an ApprovalDenial and the gated tool's `toModelOutput` turns
// it into `execution-denied`. `toModelOutput` is what generateText, streamText and
// convertToModelMessages all call, so a denial reads the same to the model in a one-shot
// generateText, a streamed chat and a UI conversation restored from storage.
//
// Only types are imported from 'ai': importing this module does not load the SDK.
import type { FlexibleSchema, Tool, ToolExecutionOptions } from 'ai';
import { ApprovalDenied, ApprovalError, ApprovalExpired, ApprovalTimedOut, CountersignError } from './errors.js';
import { requiresApproval } from './index.js';
import type { Approval, Client, RequiresApprovalOptions } from './index.js';
import type { ApprovalRequest, JsonObject } from './types.js';

/** What the model gets for a tool output (the SDK's ToolResultOutput, which 'ai' does not
 * export by name). */
type ModelOutput = Awaited<ReturnType<NonNullable<Tool['toModelOutput']>>>;

/**
 * What a gated tool returns instead of running when its request was not approved: denied
 * by a person or a policy, expired, cancelled by an admin, or approved with edited arguments
 * the tool does not accept. The model reads `reason` as an `execution-denied` tool output;
 * the program finds the rest in the step's tool result (`isApprovalDenial(result.output)`).
 * Plain JSON, so it survives a UI message store.
 */
export interface ApprovalDenial {
  /** Marks the output as a countersign denial (see isApprovalDenial). */
  countersign: 'not_approved';
  requestId: string;
  /** The request's status: `denied`, `expired`, `cancelled`, or `approved` when the
   * approvers edited the arguments and the tool does not accept edits. */
  status: string;
  /** Why it left pending (`denied_by_person`, `denied_by_policy`, `expired`,
   * `escalation_exhausted`, `cancelled_by_admin`, ...). */
  reasonCode: string | null;
  /** The deciders' comments, oldest first (empty when nobody commented). */
  comments: string[];
  /** The sentence the model reads, as the MCP tools word it. */
  reason: string;
}

/** True when `output` (a gated tool's result) is a denial rather than the tool's own output. */
export function isApprovalDenial(output: unknown): output is ApprovalDenial {
  return (
    typeof output === 'object' &&
    output !== null &&
    (output as { countersign?: unknown }).countersign === 'not_approved' &&
    typeof (output as { requestId?: unknown }).requestId === 'string' &&
    typeof (output as { reason?: unknown }).reason === 'string'
  );
}

/** Per-call facts a function option gets besides the input. */
export interface ToolCallContext {
  toolCallId: string;
  options: ToolExecutionOptions;
}

export interface WithApprovalOptions<INPUT> {
  /** The request's action, the name policies and grants match (`[A-Za-z0-9_.:/-]{1,128}`).
   * Usually the tool's name in the `tools` record. */
  action: string;
  /** The client; default: one built from COUNTERSIGN_URL / COUNTERSIGN_TOKEN (as the core's
   * requiresApproval does). */
  client?: Client;
  /** The title approvers see, or a function of the tool input; default `Run <action>`. */
  title?: string | ((input: INPUT) => string);
  /** Extra `details` for approvers. The tool call's id is always added as `tool_call_id`. */
  details?: JsonObject | ((input: INPUT) => JsonObject);
  approvers?: string[];
  quorum?: number;
  timeoutSeconds?: number;
  session?: string;
  risk?: 'normal' | 'high';
  /**
   * The request's idempotency key. Default `ai-sdk:<action>:<toolCallId>`, so the same tool
   * call asked again (generateText retried with the same messages) finds the request it
   * already made, decided or not, instead of asking people twice. Give a function to key
   * otherwise, or `null` for a fresh request on every execution (needed when the model
   * provider reuses tool-call ids across conversations).
   */
  idempotencyKey?: ((input: INPUT, call: ToolCallContext) => string) | null;
  /** Run with the arguments the approvers edited (they are validated against the tool's
   * inputSchema first). Default false: an edit is a denial. */
  allowEditedArguments?: boolean;
  /** Report the execution (`succeeded`, or `failed` when execute throws) to the server.
   * Default true. */
  reportOutcome?: boolean;
  /** Stop waiting after this long (the request is then cancelled, and the model is told). */
  waitTimeoutMs?: number;
  /** What the deadline does: `expire` (default), `deny` or `escalate`. */
  onTimeout?: 'expire' | 'deny' | 'escalate';
  notify?: string[];
  /** Called once the request exists and is pending (to say "waiting for approval ..."). */
  onWaiting?: RequiresApprovalOptions<INPUT>['onWaiting'];
  /** Where a failed outcome report is told; default console. */
  logger?: { warn(message: string): void };
}

/**
 * `tool` with its `execute` behind a countersign approval.
 *
 * Each execution creates a request (action `options.action`, arguments = the tool input) and
 * waits for it; aborting generateText's `abortSignal` meanwhile cancels the request. Then:
 * - approved: the original `execute` runs with the approved input (the approvers' edit when
 *   `allowEditedArguments`), and its result is the tool's result; the outcome is reported;
 * - denied, expired, cancelled, or edited without `allowEditedArguments`: `execute` does not
 *   run; the result is an ApprovalDenial, which the model reads as the SDK's
 *   `execution-denied` tool output with the reason (who denied, their comment, the reason
 *   code), and the loop goes on so the model can change course;
 * - the gateway cannot be asked, or `execute` throws: the SDK's tool-error path, as for any
 *   tool that fails (the model reads the error's message).
 */
export function withApproval<INPUT, OUTPUT>(
  tool: Tool<INPUT, OUTPUT>,
  options: WithApprovalOptions<INPUT>,
): Tool<INPUT, OUTPUT | ApprovalDenial> {
  const execute = tool.execute;
  if (typeof execute !== 'function') {
    // A tool without execute is run by the client (or is provider-executed): there is no
    // call here to put behind an approval.
    throw new TypeError(`withApproval: the tool for ${options.action} has no execute function to gate`);
  }
  // Fails now, not at the model's first call, on an action name the server would refuse.
  requiresApproval(() => undefined, { action: options.action });
  const run = execute.bind(tool) as (input: INPUT, call: ToolExecutionOptions) => unknown;
  const inputSchema = tool.inputSchema as FlexibleSchema<INPUT>;
  const ownModelOutput = tool.toModelOutput as
    | ((call: { toolCallId: string; input: unknown; output: unknown }) => ModelOutput | PromiseLike<ModelOutput>)
    | undefined;

  const gatedExecute = async (input: INPUT, call: ToolExecutionOptions): Promise<OUTPUT | ApprovalDenial> => {
    const context: ToolCallContext = { toolCallId: call.toolCallId, options: call };
    const details = typeof options.details === 'function' ? options.details(input) : options.details;
    const key =
      options.idempotencyKey === null
        ? undefined
        : options.idempotencyKey
          ? options.idempotencyKey(input, context)
          : `ai-sdk:${options.action}:${call.toolCallId}`;
    // Set when this call meets a request already carried out: the core then reports the
    // call as failed, which the server refuses (the first report stands), and that refusal
    // is expected, not worth a warning.
    let replayed = false;
    const logger = options.logger ?? console;
    // One gate per execution: the approved function needs this call's execute options.
    const gate = requiresApproval<INPUT, OUTPUT>(
      async (asked: INPUT, approval: Approval) => {
        // The idempotency key found a request whose approved call already ran and was
        // reported (this tool call replayed after its result was lost): one approval, one run.
        const ran = approval.request.execution;
        if (ran) {
          replayed = true;
          throw new AlreadyExecuted(
            `request ${approval.request.id} was already carried out (${ran.status}, reported at ${ran.at}); ` +
              'not running it again',
            approval.request,
          );
        }
        // `approval.arguments` are the approvers' edit when there is one (only with
        // allowEditedArguments; without it the core denies an edit), else the input as asked.
        const approved = approval.edited ? await validateEdited(inputSchema, approval.arguments) : asked;
        return (await settle(run(approved as INPUT, call))) as OUTPUT;
      },
      {
        action: options.action,
        title: options.title,
        client: options.client,
        approvers: options.approvers,
        quorum: options.quorum,
        timeoutSeconds: options.timeoutSeconds,
        session: options.session,
        risk: options.risk,
        onTimeout: options.onTimeout,
        notify: options.notify,
        logger: { warn: (message: string) => (replayed ? undefined : logger.warn(message)) },
        // The tool call's id lets an approver (and the audit log) tie the request to the
        // model's call in the application's own traces.
        details: { ...details, tool_call_id: call.toolCallId },
        idempotencyKey: key,
        allowEditedArguments: options.allowEditedArguments ?? false,
        reportOutcome: options.reportOutcome ?? true,
        waitTimeoutMs: options.waitTimeoutMs,
        onWaiting: options.onWaiting,
      },
    );
    try {
      return await gate(input, { signal: call.abortSignal });
    } catch (error) {
      // An aborted generateText is not a decision: let the abort end the loop (the core has
      // cancelled the request) rather than telling the model it was denied.
      if (call.abortSignal?.aborted) throw error;
      if (error instanceof ApprovalError) return denialFor(error);
      throw error;
    }
  };

  const toModelOutput = async (call: { toolCallId: string; input: unknown; output: unknown }): Promise<ModelOutput> => {
    if (isApprovalDenial(call.output)) return { type: 'execution-denied', reason: call.output.reason };
    if (ownModelOutput) return ownModelOutput(call);
    // The SDK's own default for a tool without toModelOutput.
    return typeof call.output === 'string'
      ? { type: 'text', value: call.output }
      : { type: 'json', value: (call.output ?? null) as Extract<ModelOutput, { type: 'json' }>['value'] };
  };

  return { ...tool, execute: gatedExecute, toModelOutput } as unknown as Tool<INPUT, OUTPUT | ApprovalDenial>;
}

/** The denial for a request that was not approved (the core's ApprovalError). */
export function denialFor(error: ApprovalError): ApprovalDenial {
  const request = error.request;
  const comments = (request.decisions ?? []).map((d) => d.comment).filter((c): c is string => Boolean(c));
  const edited = error instanceof ApprovalDenied && request.status === 'approved';
  // The agent's own wait (waitTimeoutMs) ran out and it cancelled the request: not the
  // server's deadline, so worded apart from an expiry.
  const gaveUp = error instanceof ApprovalTimedOut && !(error instanceof ApprovalExpired);
  return {
    countersign: 'not_approved',
    requestId: request.id,
    status: request.status,
    reasonCode: request.reason_code ?? null,
    comments,
    reason: edited
      ? editedSentence(request)
      : gaveUp
        ? `expired: ${error.message}${request.reason_code ? ` (reason_code: ${request.reason_code})` : ''}. Do not perform the action.`
        : whyNotApproved(request),
  };
}

// The sentence the model reads, worded as countersign's MCP tools word it (docs/mcp.md, "What
// the model sees"), so a model behind either gate learns the same thing the same way.
function whyNotApproved(request: ApprovalRequest): string {
  const id = request.id;
  const code = request.reason_code ? ` (reason_code: ${request.reason_code})` : '';
  const resolvedBy = (request.resolved_by ?? []).join(', ');
  const stop = '. Do not perform the action.';
  switch (request.status) {
    case 'denied': {
      const who = decidersWithComments(request, 'denied') || resolvedBy;
      const head = who
        ? `request ${id} was denied by ${who}`
        : `request ${id} was denied when its deadline passed without a decision`;
      return `denied: ${head}${code}${stop}`;
    }
    case 'expired': {
      const tiers = request.reason_code === 'escalation_exhausted' ? ', through every escalation tier' : '';
      return `expired: nobody decided request ${id} before its deadline (${request.deadline_at})${tiers}${code}${stop}`;
    }
    case 'cancelled':
      return `cancelled: request ${id} was cancelled${resolvedBy ? ` by ${resolvedBy}` : ''}${code}${stop}`;
    default:
      return `denied: request ${id} ended as ${request.status}${code}${stop}`;
  }
}

function editedSentence(request: ApprovalRequest): string {
  const who = decidersWithComments(request, 'approved') || (request.resolved_by ?? []).join(', ');
  return (
    `denied: request ${request.id} was approved${who ? ` by ${who}` : ''} only with edited arguments, ` +
    `which this tool does not accept (reason_code: ${request.reason_code ?? 'approved'}). Do not perform the action.`
  );
}

// Decisions with `outcome`, as `by ("comment")`, joined.
function decidersWithComments(request: ApprovalRequest, outcome: string): string {
  return (request.decisions ?? [])
    .filter((d) => d.outcome === outcome)
    .map((d) => (d.comment ? `${d.by} ("${d.comment}")` : d.by))
    .join(', ');
}

// An execute may return a value, a promise, or an async iterable of preliminary results
// whose last one is the result. The approval's outcome is reported when this settles, so an
// iterable is drained here: its preliminary results are not streamed through a gated tool.
async function settle(result: unknown): Promise<unknown> {
  if (result !== null && typeof result === 'object' && Symbol.asyncIterator in result) {
    let last: unknown;
    for await (const part of result as AsyncIterable<unknown>) last = part;
    return last;
  }
  return result;
}

/** The approvers' edited arguments did not fit the tool's inputSchema; execute did not run
 * (the model reads the message through the SDK's tool-error path). */
export class EditedArgumentsInvalid extends CountersignError {}

/** The tool call's request was approved and its execution already reported: the same tool
 * call (same toolCallId, so the same idempotency key) came again, and does not run twice. */
export class AlreadyExecuted extends CountersignError {
  readonly request: ApprovalRequest;

  constructor(message: string, request: ApprovalRequest) {
    super(message);
    this.request = request;
  }
}

// The SDK validates what the model sends against inputSchema before execute; an approver's
// edit skipped that, so it is validated here, through whatever validator the schema carries
// (Standard Schema: zod, valibot, arktype, ...; or the SDK's jsonSchema(..., { validate })).
// A lazy schema is resolved first. A schema with no validator (a plain jsonSchema) passes the
// edit through as it is.
async function validateEdited<INPUT>(schema: FlexibleSchema<INPUT>, value: unknown): Promise<unknown> {
  const resolved = typeof schema === 'function' ? (schema as () => unknown)() : schema;
  const s = resolved as {
    '~standard'?: { validate(v: unknown): StandardResult | Promise<StandardResult> };
    validate?: (v: unknown) => SdkResult | PromiseLike<SdkResult>;
  };
  if (s['~standard'] && typeof s['~standard'].validate === 'function') {
    const result = await s['~standard'].validate(value);
    if (result.issues) {
      const issues = result.issues.map((i) => i.message).join('; ');
      throw new EditedArgumentsInvalid(`the approvers' edited arguments do not fit the tool's input schema: ${issues}`);
    }
    return result.value;
  }
  if (typeof s.validate === 'function') {
    const result = await s.validate(value);
    if (!result.success) {
      throw new EditedArgumentsInvalid(
        `the approvers' edited arguments do not fit the tool's input schema: ${String(result.error?.message ?? result.error)}`,
      );
    }
    return result.value;
  }
  return value;
}

type StandardResult = { value?: unknown; issues?: ReadonlyArray<{ message: string }> };
type SdkResult = { success: true; value: unknown } | { success: false; error: Error };

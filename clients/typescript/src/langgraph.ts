// countersign/langgraph: the LangGraph.js adapter. A node calls `requestApproval(...)`; the
// first time, that creates a countersign request and pauses the graph with LangGraph's own
// `interrupt()`, so nothing waits in memory and the paused thread survives a process restart
// (its checkpointer keeps it). `resumeFromCountersign(graph, config)` waits for the people's
// decision and resumes the thread with `new Command({ resume })`; the node then runs again
// from its start, and this time `requestApproval` answers the decision.
//
// A node that resumes runs from the top, so `requestApproval` is called again. It must not
// ask people twice: the request is created with an idempotency key made of the thread, the
// node, its task and the call's place in the node (`lg:<thread>:<node>:<task>:<n>`), and the
// same body, so the server answers the request it already has. The task id is LangGraph's: it
// stays the same while one step of the thread is interrupted and resumed, and changes when a
// loop comes back to the node, which then asks again, as it should.
//
// The decision is always read from the server, never from the resume value: a resume value
// only says "look now", so a caller that resumes with a value of its own cannot approve
// anything.
import { Command, getConfig, interrupt } from '@langchain/langgraph';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import type { Client } from './client.js';
import { ApiError, CountersignError, describeOutcome } from './errors.js';
import { approvedArguments, argumentsEdited, getDefaultClient, requestFor } from './approval.js';
import type { WaitOptions } from './waiter.js';
import type { ApprovalRequest, JsonObject, ReasonCode } from './types.js';

/** What `requestApproval` asks for. The body sent to the server is built from these alone, so
 * they must be the same every time the node runs for the same step: nothing time-dependent
 * (no `Date.now()` in the title), or the server refuses the re-run with a 409. */
export interface ApprovalSpec {
  /** The request's action, the name policies and grants match (`[A-Za-z0-9_.:/-]{1,128}`). */
  action: string;
  /** One line for the people deciding; default `Run <action>` (cut to 512 bytes). */
  title?: string;
  /** The exact call to be made, shown to approvers and hashed into the receipt. */
  arguments?: JsonObject;
  /** Anything else approvers should see. */
  details?: JsonObject;
  approvers?: string[];
  quorum?: number;
  timeoutSeconds?: number;
  onTimeout?: 'expire' | 'deny' | 'escalate';
  risk?: 'normal' | 'high';
  notify?: string[];
  /** The request's session (what "approve for this session" grants cover). Default: the
   * thread id, when it fits (128 bytes); `null` for none. */
  session?: string | null;
  /** This call's key within the thread and node, replacing the task id and the call's position
   * in the idempotency key (`lg:<thread>:<node>:<key>`): for a call whose place among the node's
   * calls is not fixed. A later visit of the node with the same key finds the same request
   * (it pauses once more, and resumes at once with the earlier decision). Inside
   * a tool given its config, the default is the task and the tool call's id
   * (`lg:<thread>:<node>:<task>:tool:<tool call id>`). */
  key?: string;
  /** Accept the approvers' edited arguments: the decision's `arguments` are then theirs.
   * Default false: an approval with edited arguments reads as not approved (as in the core's
   * requiresApproval), so a node that runs its own variables cannot run what nobody approved. */
  allowEditedArguments?: boolean;
  /** The client; default: the core's default client (COUNTERSIGN_URL, COUNTERSIGN_TOKEN). */
  client?: Client;
  /** Used when the node is resumed before the request was decided (a `Command` sent without
   * waiting): the node then waits here for the decision. */
  onWaiting?: WaitOptions['onWaiting'];
}

/** The request was approved: run the step with `arguments`. */
export interface Approved {
  approved: true;
  requestId: string;
  /** The arguments to run: the approvers' edit when `allowEditedArguments` and they edited,
   * else the arguments as asked. */
  arguments: JsonObject;
  /** True when the approvers edited the arguments. */
  edited: boolean;
  /** The signed receipt, for an executor that verifies (or, single-use, consumes) it. */
  receipt: string | null;
  request: ApprovalRequest;
}

/** The request was not approved: denied (by a person or a policy), expired, cancelled, or
 * approved with edited arguments the caller does not accept. */
export interface NotApproved {
  approved: false;
  requestId: string;
  /** `denied`, `expired`, `cancelled`, or `approved` (edited arguments refused). */
  status: string;
  /** Why it left pending: `denied_by_person`, `denied_by_policy`, `expired`,
   * `escalation_exhausted`, `cancelled_by_admin`, ...; `arguments_edited` when people approved
   * only an edit the node does not accept (the request's own reason code then says `approved`,
   * which a node must not read as leave to run). */
  reasonCode: ReasonCode | 'arguments_edited' | null;
  /** True when it was approved only with edited arguments and `allowEditedArguments` is off. */
  edited: boolean;
  /** One sentence for logs or for a model: who decided what, and why. */
  message: string;
  request: ApprovalRequest;
}

/** What `requestApproval` answers once people decided. */
export type ApprovalDecision = Approved | NotApproved;

/** What a pending approval is: the request and where the graph asked for it. */
export interface ApprovalInterruptInfo {
  requestId: string;
  action: string;
  title: string;
  arguments: JsonObject;
  approvers: string[];
  deadlineAt: string;
  /** The node that asked (for a subgraph's node, its own name). */
  node: string;
  idempotencyKey: string;
}

/** The value a node's pause carries (`task.interrupts[].value`, the `__interrupt__` of the
 * graph's output): what a UI needs to show the pending approval. Plain JSON. */
export interface CountersignInterrupt {
  countersign: ApprovalInterruptInfo;
}

/** The resume value `resumeCommand` sends: which request to look up. */
export interface CountersignResume {
  countersign: { requestId: string };
}

/** A paused approval, as `pendingApprovals` reads it from the thread's state. */
export interface PendingApproval extends ApprovalInterruptInfo {
  /** LangGraph's id for the pause, the key of a resume map. */
  interruptId: string | undefined;
  /** The graph's node whose task is paused (for a subgraph, the parent's node). */
  task: string;
}

/** The Command `resumeCommand` builds: it only resumes (no `update`, no `goto`), which is
 * what lets it fit any graph's typed `invoke`. */
export type ResumeCommand = Command<unknown, never, never>;

/** The part of a compiled graph these helpers use (any CompiledStateGraph or Pregel). */
export interface ResumableGraph<Output> {
  getState(config: LangGraphRunnableConfig): Promise<{
    tasks: ReadonlyArray<{ name: string; interrupts: ReadonlyArray<{ id?: string; value?: unknown }> }>;
  }>;
  invoke(input: ResumeCommand, config: LangGraphRunnableConfig): Promise<Output>;
}

export interface ResumeOptions {
  /** The client; default: the core's default client (COUNTERSIGN_URL, COUNTERSIGN_TOKEN). */
  client?: Client;
  /** Wait for every pending approval to be decided (default true). With false, resume only
   * those decided already, and answer undefined, without invoking, when none is. */
  wait?: boolean;
  /** Stops waiting: rejects with the signal's reason; the requests stay pending. Also passed to
   * the graph's invoke. */
  signal?: AbortSignal;
  /** Told once per request that is still pending when the wait starts. */
  onWaiting?: WaitOptions['onWaiting'];
}

// Reason codes a request gets at its creation, before anyone saw it: a request created so is
// decided on every run of the node, so the node need not pause for it.
const DECIDED_AT_CREATION = new Set(['approved_by_grant', 'approved_by_policy', 'denied_by_policy']);

const MAX_KEY_BYTES = 255;
const MAX_SESSION_BYTES = 128;

// How many approvals each node run has asked for so far, so the n-th call of a run gets the
// same key on every re-run. Keyed by the run's `configurable` object: LangGraph makes a new one
// for every attempt of a task (a resume, a retry), and it is the same object for every call
// within one attempt.
const callsPerRun = new WeakMap<object, number>();

/**
 * Asks people to approve a step, from inside a LangGraph node (or a tool a node runs), and
 * answers their decision.
 *
 * The first run creates the countersign request and pauses the graph (`interrupt()`, which
 * throws LangGraph's GraphInterrupt: do not catch it) with a CountersignInterrupt value.
 * Resuming the thread (`resumeFromCountersign`, or `graph.invoke(resumeCommand(...))`) runs
 * the node again; this call then finds the same request and answers the decision as the
 * server has it: Approved, or NotApproved (denied, expired, cancelled), for the node to branch
 * on. A request a policy or a grant decided at once is answered without pausing. Resumed
 * before anyone decided, it waits for the decision here.
 *
 * `config` is the node's (or tool's) config; default: the running node's, via getConfig().
 */
export async function requestApproval(spec: ApprovalSpec, config?: LangGraphRunnableConfig): Promise<ApprovalDecision> {
  // getConfig() answers undefined outside a graph run, whatever its declared type says.
  const cfg = config ?? (getConfig() as LangGraphRunnableConfig | undefined);
  if (cfg === undefined) {
    throw new CountersignError('requestApproval must be called while a LangGraph node runs (or given its config)');
  }
  const client = spec.client ?? getDefaultClient();
  const place = placeOf(cfg);
  const idempotencyKey = await keyFor(place, spec.key, toolCallId(cfg));

  // The core builds the body as requiresApproval does (the title cut to the server's limit).
  const body = requestFor(
    {
      action: spec.action,
      title: spec.title,
      details: spec.details,
      approvers: spec.approvers,
      quorum: spec.quorum,
      timeoutSeconds: spec.timeoutSeconds,
      onTimeout: spec.onTimeout,
      risk: spec.risk,
      notify: spec.notify,
      session: spec.session === null ? undefined : (spec.session ?? defaultSession(place.thread)),
    },
    undefined,
    spec.arguments ?? {},
    idempotencyKey,
  );
  let created: ApprovalRequest;
  try {
    created = await client.create(body, { signal: cfg.signal });
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      throw new CountersignError(
        `the node ${place.node} asked for approval of ${spec.action} again with a different request than on its ` +
          `first run (idempotency key ${idempotencyKey}); keep everything that varies between runs, such as ` +
          `the time, out of the title, arguments and details` +
          (error.request ? ` (the first run's request is ${error.request.id})` : ''),
        { cause: error },
      );
    }
    throw error;
  }

  if (created.status !== 'pending' && DECIDED_AT_CREATION.has(created.reason_code ?? '')) {
    return decisionFrom(created, spec.allowEditedArguments ?? false);
  }

  const pause: CountersignInterrupt = {
    countersign: {
      requestId: created.id,
      action: created.action,
      title: created.title,
      arguments: created.arguments,
      approvers: created.approvers,
      deadlineAt: created.deadline_at,
      node: place.node,
      idempotencyKey,
    },
  };
  // Throws GraphInterrupt on the first run. On the run after, answers the resume value, which
  // is not needed: the create above answered the request as it stands now. Nor is it trusted:
  // LangGraph hands resume values to a task's interrupts by their order, so calls that race
  // within one task (a ToolNode's parallel tool calls) may get each other's. Each call acts
  // only on the request its own key found.
  interrupt<CountersignInterrupt, unknown>(pause);

  let request = created;
  if (request.status === 'pending') {
    // Resumed before people decided (a Command sent without waiting, or a value meant for
    // another call): wait here, bounded by the request's deadline and the run's signal.
    request = await client.wait(request, { signal: cfg.signal, onWaiting: spec.onWaiting });
  }
  return decisionFrom(request, spec.allowEditedArguments ?? false);
}

/** The approvals a thread is paused on (none when it is not paused on countersign). */
export async function pendingApprovals<Output>(
  graph: ResumableGraph<Output>,
  config: LangGraphRunnableConfig,
): Promise<PendingApproval[]> {
  const snapshot = await graph.getState(config);
  const pending: PendingApproval[] = [];
  for (const task of snapshot.tasks) {
    for (const pause of task.interrupts) {
      if (!isCountersignInterrupt(pause.value)) continue;
      pending.push({ interruptId: pause.id, task: task.name, ...pause.value.countersign });
    }
  }
  return pending;
}

/**
 * The Command that resumes the given paused approvals. Each resume value only names its
 * request: the node reads the decision from the server (and waits for it if it is still
 * pending), so a Command sent early cannot approve anything. Keyed by interrupt id, so other
 * pauses of the thread (another node's, or a non-countersign interrupt) stay paused.
 */
export function resumeCommand(approvals: PendingApproval | readonly PendingApproval[]): ResumeCommand {
  const list = Array.isArray(approvals) ? (approvals as readonly PendingApproval[]) : [approvals as PendingApproval];
  if (list.length === 0) throw new TypeError('resumeCommand needs at least one pending approval');
  const valueFor = (p: PendingApproval): CountersignResume => ({ countersign: { requestId: p.requestId } });
  if (list.some((p) => p.interruptId === undefined)) {
    // A LangGraph too old to give interrupts ids resumes with a single value.
    if (list.length > 1) throw new TypeError('resuming several approvals needs interrupt ids (LangGraph 0.3 or later)');
    return new Command<unknown, never, never>({ resume: valueFor(list[0] as PendingApproval) });
  }
  const resume: Record<string, CountersignResume> = {};
  for (const p of list) resume[p.interruptId as string] = valueFor(p);
  return new Command<unknown, never, never>({ resume });
}

/**
 * Waits for the people's decision on every approval the thread is paused on, then resumes it
 * (`graph.invoke(resumeCommand(pending), config)`) and answers the graph's output, which may
 * carry `__interrupt__` again when the graph pauses for another approval. The wait long-polls
 * the server and survives its restarts; each request's deadline bounds it.
 *
 * Throws when the thread is not paused on an approval. With `wait: false`, resumes only the
 * approvals decided already and answers undefined when none is.
 */
export async function resumeFromCountersign<Output>(
  graph: ResumableGraph<Output>,
  config: LangGraphRunnableConfig,
  options: ResumeOptions & { wait: false },
): Promise<Output | undefined>;
export async function resumeFromCountersign<Output>(
  graph: ResumableGraph<Output>,
  config: LangGraphRunnableConfig,
  options?: ResumeOptions,
): Promise<Output>;
export async function resumeFromCountersign<Output>(
  graph: ResumableGraph<Output>,
  config: LangGraphRunnableConfig,
  options: ResumeOptions = {},
): Promise<Output | undefined> {
  const client = options.client ?? getDefaultClient();
  const pending = await pendingApprovals(graph, config);
  if (pending.length === 0) {
    if (options.wait === false) return undefined;
    throw new CountersignError(`thread ${String(config.configurable?.thread_id)} is not paused on a countersign approval`);
  }
  let ready: PendingApproval[];
  if (options.wait === false) {
    const requests = await Promise.all(pending.map((p) => client.get(p.requestId, { signal: options.signal })));
    ready = pending.filter((_, i) => requests[i]?.status !== 'pending');
    if (ready.length === 0) return undefined;
  } else {
    await Promise.all(
      pending.map((p) => client.wait(p.requestId, { signal: options.signal, onWaiting: options.onWaiting })),
    );
    ready = pending;
  }
  const resumeConfig = options.signal ? { ...config, signal: options.signal } : config;
  return graph.invoke(resumeCommand(ready), resumeConfig);
}

/** True when `value` (an interrupt's value) is a countersign approval's pause. */
export function isCountersignInterrupt(value: unknown): value is CountersignInterrupt {
  const inner = (value as { countersign?: unknown } | null | undefined)?.countersign as
    | { requestId?: unknown; idempotencyKey?: unknown }
    | undefined;
  return typeof inner === 'object' && inner !== null && typeof inner.requestId === 'string' && typeof inner.idempotencyKey === 'string';
}

function decisionFrom(request: ApprovalRequest, allowEdited: boolean): ApprovalDecision {
  const edited = request.status === 'approved' && argumentsEdited(request);
  if (request.status === 'approved' && (!edited || allowEdited)) {
    return {
      approved: true,
      requestId: request.id,
      arguments: edited ? approvedArguments(request) : (request.arguments ?? {}),
      edited,
      receipt: request.receipt,
      request,
    };
  }
  return {
    approved: false,
    requestId: request.id,
    status: request.status,
    reasonCode: edited ? 'arguments_edited' : (request.reason_code ?? null),
    edited,
    message: edited
      ? `request ${request.id} (${request.action}) was approved only with edited arguments, which this node does not accept`
      : describeOutcome(request),
    request,
  };
}

interface Place {
  thread: string;
  node: string;
  task: string;
  /** The call's position among this run's approvals. */
  position: number;
}

// Where in the graph this call is: thread, node, task, and the call's position in the run.
// `executionInfo` is LangGraph's public view of it; `configurable` holds the same for
// versions before it.
function placeOf(config: LangGraphRunnableConfig): Place {
  const configurable = (config.configurable ?? {}) as Record<string, unknown>;
  const info = config.executionInfo;
  const thread = info?.threadId ?? configurable.thread_id;
  if (typeof thread !== 'string' && typeof thread !== 'number') {
    throw new CountersignError(
      'requestApproval needs a graph compiled with a checkpointer and invoked with configurable.thread_id: ' +
        'the pause and its resume live in the thread',
    );
  }
  // The namespace's last segment is `<node>:<task id>` (a subgraph's node is `parent:id|node:id`).
  const namespace = String(info?.checkpointNs ?? configurable.checkpoint_ns ?? '');
  const last = namespace.split('|').pop() ?? '';
  const colon = last.lastIndexOf(':');
  const metadataNode = config.metadata?.langgraph_node;
  const node = typeof metadataNode === 'string' ? metadataNode : colon > 0 ? last.slice(0, colon) : last;
  const task = info?.taskId ?? (colon > 0 ? last.slice(colon + 1) : '');
  if (node === '' || task === '') {
    throw new CountersignError('requestApproval must be called while a LangGraph node runs (no node or task found in its config)');
  }
  const position = callsPerRun.get(configurable) ?? 0;
  callsPerRun.set(configurable, position + 1);
  return { thread: String(thread), node, task, position };
}

// A tool run by a ToolNode gets its call in its config; the call's id is fixed in the model's
// message, so it keys the approval across re-runs even when tools run in parallel (and their
// positions among the task's approvals depend on which finishes first).
function toolCallId(config: LangGraphRunnableConfig): string | undefined {
  const id = (config as { toolCall?: { id?: unknown } }).toolCall?.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

// The caller's key stands alone (it may mean to carry an approval over to a later visit of the
// node). A tool call's id is kept within its task: some model providers number tool calls
// afresh in every answer, and a later call with a reused id must not find an earlier approval.
async function keyFor(place: Place, callerKey: string | undefined, toolCall: string | undefined): Promise<string> {
  const prefix = `lg:${place.thread}:${place.node}`;
  const key =
    callerKey !== undefined
      ? `${prefix}:${callerKey}`
      : toolCall !== undefined
        ? `${prefix}:${place.task}:tool:${toolCall}`
        : `${prefix}:${place.task}:${place.position}`;
  if (utf8Length(key) <= MAX_KEY_BYTES && !hasControlChars(key)) return key;
  // A long thread id or key: the server keeps keys of up to 255 bytes, so a longer one is
  // replaced by its hash, which is as stable across re-runs.
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  return `lg:sha256:${hex}`;
}

function defaultSession(thread: string): string | undefined {
  return utf8Length(thread) <= MAX_SESSION_BYTES && !hasControlChars(thread) ? thread : undefined;
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

function hasControlChars(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(text);
}

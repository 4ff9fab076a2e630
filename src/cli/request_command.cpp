#include "cli/request_command.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include "cli/duration_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json_fields.hpp"
#include "cli/key_value.hpp"
#include "cli/number_option.hpp"
#include "cli/query_string.hpp"
#include "cli/request_view.hpp"
#include "cli/signal_relay.hpp"
#include "cli/wait_interrupt.hpp"
#include "cli/wait_progress.hpp"

namespace countersign {
namespace {

// The server answers a long-poll after at most this long.
constexpr int kLongPollSeconds = 60;
// A long-poll answers only once the request is resolved: while it needs several decisions, poll
// this often to report each one ("alice approved, 1 of 2") soon after it is made.
constexpr int kProgressPollSeconds = 10;
// Allowance on top of the long-poll for the answer to arrive.
constexpr int kLongPollSlackSeconds = 15;

constexpr const char* kFooter =
    "With --wait, stderr says who may decide, the request's page in the web inbox, and each "
    "decision as it comes (\"alice approved, 1 of 2\"); with --json too, as one JSON object a "
    "line (events waiting, decision, interrupted), while stdout gets the final request. "
    "SIGINT or SIGTERM (Ctrl-C) while waiting cancels the request, or with "
    "--keep-on-interrupt leaves it pending.\n"
    "Exit status: without --wait, 0 when the request was created and 3 on any error. With "
    "--wait: 0 approved or answered, 1 denied, 2 expired, cancelled, or still pending when "
    "--wait-timeout passed, 3 any error (bad usage, bad token, server unreachable, any 4xx or "
    "5xx answer), 130 interrupted while waiting (the request is cancelled, or left pending "
    "with --keep-on-interrupt).";

const CLI::Validator kKeyValue(
    [](std::string& text) -> std::string {
      auto split = SplitKeyValue(text);
      return split.ok() ? "" : split.error().message;
    },
    "");

const CLI::Validator kJsonObject(
    [](std::string& text) -> std::string {
      auto parsed = ParseJsonObject(text);
      return parsed.ok() ? "" : parsed.error().message;
    },
    "");

int OutcomeExitCode(const std::string& status) {
  if (status == "approved" || status == "answered") return kExitOk;
  if (status == "denied") return kExitRefused;
  if (status == "expired" || status == "cancelled" || status == "pending") {
    return kExitNotApproved;
  }
  return kExitError;
}

}  // namespace

void RequestCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* command = parent.add_subcommand(
      "request", "Ask for a human decision on an action, optionally waiting for it");
  command->footer(kFooter);
  command->add_option("--action", action_, "what is to be done, e.g. deploy_production")
      ->required()
      ->type_name("ACTION");
  command->add_option("--title", title_, "one line for the approvers")
      ->required()
      ->type_name("TEXT");
  command->add_option("--detail", details_, "extra information shown to approvers (repeatable)")
      ->type_name("KEY=VALUE")
      ->check(kKeyValue);
  command
      ->add_option("--arg", arguments_,
                   "an argument of the exact call to be made (repeatable); VALUE is read as JSON "
                   "when it is JSON (3, true, {...}), else as a string")
      ->type_name("KEY=VALUE")
      ->check(kKeyValue);
  command
      ->add_option("--arguments-json", arguments_json_,
                   "the call's arguments as one JSON object (--arg entries are added to it)")
      ->type_name("JSON")
      ->check(kJsonObject);
  command->add_option("--kind", kind_, "approval (default), verification or question")
      ->type_name("KIND")
      ->check(CLI::IsMember({"approval", "verification", "question"}));
  command->add_option("--approver", approvers_, "who may decide: NAME or group:NAME (repeatable)")
      ->type_name("NAME");
  command->add_option("--quorum", quorum_, "how many distinct approvals are needed (1 to 100)")
      ->type_name("N")
      ->check(WholeNumber(1, 100));
  command
      ->add_option("--timeout", timeout_seconds_,
                   "time until the deadline, e.g. 15m or 900 (seconds; server default 5m)")
      ->type_name("DURATION")
      ->transform(DurationSeconds(1));
  command
      ->add_option("--on-timeout", on_timeout_, "what the deadline does: expire, deny or escalate")
      ->type_name("WHAT")
      ->check(CLI::IsMember({"expire", "deny", "escalate"}));
  command->add_option("--session", session_, "the agent session this belongs to")->type_name("ID");
  command
      ->add_option("--idempotency-key", idempotency_key_,
                   "retrying with the same key returns the same request")
      ->type_name("KEY");
  command->add_option("--requester", requester_, "who asks (display only; the token decides)")
      ->type_name("NAME");
  command->add_flag("--wait", wait_, "wait for the decision and exit with its outcome");
  command->add_flag("--keep-on-interrupt", keep_on_interrupt_,
                    "with --wait: Ctrl-C (SIGINT or SIGTERM) leaves the request pending instead "
                    "of cancelling it; exit 130 either way");
  command
      ->add_option("--wait-timeout", wait_timeout_seconds_,
                   "with --wait: give up after this long, e.g. 10m or 600 (seconds; 0, the "
                   "default: wait until resolved)")
      ->type_name("DURATION")
      ->transform(DurationSeconds(0));
  command->add_flag("-q,--quiet", quiet_, "print only the request id (nothing with --wait)");
  connection_.AddTo(*command);
  command->callback([this, &exit_code] { exit_code = Run(); });
}

boost::json::object RequestCommand::Body() const {
  boost::json::object body;
  body["action"] = action_;
  body["title"] = title_;
  boost::json::object details;
  for (const auto& entry : details_) {
    auto split = SplitKeyValue(entry);  // validated while parsing
    if (split.ok()) details[split->first] = split->second;
  }
  if (!details.empty()) body["details"] = std::move(details);
  boost::json::object arguments;
  if (arguments_json_) {
    auto parsed = ParseJsonObject(*arguments_json_);  // validated while parsing
    if (parsed.ok()) arguments = std::move(parsed).value();
  }
  for (const auto& entry : arguments_) {
    auto split = SplitKeyValue(entry);
    if (split.ok()) arguments[split->first] = LooseJsonValue(split->second);
  }
  if (arguments_json_ || !arguments.empty()) body["arguments"] = std::move(arguments);
  if (kind_) body["kind"] = *kind_;
  if (!approvers_.empty()) {
    boost::json::array approvers;
    for (const auto& name : approvers_) approvers.emplace_back(name);
    body["approvers"] = std::move(approvers);
  }
  if (quorum_) body["quorum"] = *quorum_;
  if (timeout_seconds_) body["timeout_seconds"] = *timeout_seconds_;
  if (on_timeout_) body["on_timeout"] = *on_timeout_;
  if (session_) body["session"] = *session_;
  if (idempotency_key_) body["idempotency_key"] = *idempotency_key_;
  if (requester_) body["requester"] = *requester_;
  return body;
}

int RequestCommand::Run() const {
  auto api = connection_.Connect();
  if (!api.ok()) {
    ReportFailure(api.error());
    return kExitError;
  }
  if (wait_) return CreateAndWait(*api);
  auto created = api->Post("/v1/requests", Body());
  if (!created.ok()) {
    ReportFailure(created.error());
    return kExitError;
  }
  PrintWarnings(std::cerr, *created);
  if (connection_.json) {
    std::cout << boost::json::serialize(*created) << "\n";
  } else if (quiet_) {
    std::cout << TextField(*created, "id") << "\n";
  } else {
    PrintSummaryLine(std::cout, *created);
    // A grant or a policy may have decided it at once: then there is no deadline to wait for.
    if (TextField(*created, "status") == "pending") {
      std::cout << "  deadline " << ShortTime(TextField(*created, "deadline_at")) << " (then "
                << TextField(*created, "on_timeout") << ")\n";
    } else {
      std::cout << "  by " << Join(ArrayField(*created, "resolved_by"), ", ") << "\n";
    }
  }
  return kExitOk;
}

int RequestCommand::CreateAndWait(const ApiClient& api) const {
  const auto style = connection_.json ? WaitProgress::Style::kJson
                     : quiet_         ? WaitProgress::Style::kSilent
                                      : WaitProgress::Style::kHuman;
  WaitProgress progress(std::cerr, style, api.base_url());
  WaitInterrupt interrupt(api, keep_on_interrupt_, progress);
  // From here on SIGINT and SIGTERM reach `interrupt` on the relay's thread, never this one.
  SignalRelay relay([&interrupt](int signal, bool) { interrupt.OnSignal(signal); });
  auto created = api.Post("/v1/requests", Body());
  if (!created.ok()) {
    ReportFailure(created.error());
    return kExitError;
  }
  progress.Warned(*created);
  const std::string id = TextField(*created, "id");
  if (!interrupt.Created(id)) {
    interrupt.Settle(id);
    return kExitInterrupted;
  }
  const int code = Wait(api, std::move(created).value(), progress);
  interrupt.Finished();
  return code;
}

int RequestCommand::Wait(const ApiClient& api, boost::json::object request,
                         WaitProgress& progress) const {
  using SteadyClock = std::chrono::steady_clock;
  const std::string id = TextField(request, "id");
  const bool human = !connection_.json && !quiet_;
  if (human) PrintSummaryLine(std::cout, request);
  // Several decisions may be needed: poll often enough to report each soon after it is made.
  const bool several = IntField(request, "quorum").value_or(1) > 1 ||
                       IntField(request, "deny_threshold").value_or(1) > 1;
  const int longest_poll = several ? kProgressPollSeconds : kLongPollSeconds;
  const bool forever = wait_timeout_seconds_ == 0;
  const auto give_up_at = SteadyClock::now() + std::chrono::seconds(wait_timeout_seconds_);
  bool announced = false;
  while (TextField(request, "status") == "pending") {
    int poll_seconds = longest_poll;
    if (!forever) {
      const auto left = give_up_at - SteadyClock::now();
      if (left <= SteadyClock::duration::zero()) break;
      const auto left_seconds = std::chrono::ceil<std::chrono::seconds>(left).count();
      poll_seconds = static_cast<int>(std::min<long long>(longest_poll, left_seconds));
    }
    if (!announced) {
      progress.Started(
          request, "waiting for a decision on " + id + " (deadline " +
                       ShortTime(TextField(request, "deadline_at")) + ")" +
                       (keep_on_interrupt_ ? "; Ctrl-C leaves it pending" : "; Ctrl-C cancels it"));
      announced = true;
    }
    const std::string target = "/v1/requests/" + PercentEncode(id) + "/wait" +
                               QueryString().Add("timeout", poll_seconds).str();
    auto polled = api.Get(target, std::chrono::seconds(poll_seconds + kLongPollSlackSeconds));
    if (!polled.ok()) {
      ReportFailure(polled.error());
      return kExitError;
    }
    request = std::move(polled).value();
    progress.Saw(request);
  }

  const std::string status = TextField(request, "status");
  if (connection_.json) {
    std::cout << boost::json::serialize(request) << "\n";
  } else if (human) {
    PrintOutcome(std::cout, request);
  }
  if (status == "pending" && !connection_.json) {
    std::cerr << "countersign: gave up waiting after " << wait_timeout_seconds_ << " s; " << id
              << " is still pending\n";
  }
  const int code = OutcomeExitCode(status);
  if (code == kExitError) {
    std::cerr << "countersign: " << id << " has an unknown status '" << status << "'\n";
  }
  return code;
}

}  // namespace countersign

#include "cli/exec_command.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "auth/base64url.hpp"
#include "cli/duration_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json_fields.hpp"
#include "cli/key_value.hpp"
#include "cli/query_string.hpp"
#include "cli/request_view.hpp"
#include "cli/signal_relay.hpp"
#include "cli/wait_progress.hpp"
#include "core/mutex.hpp"
#include "core/mutex_lock.hpp"

extern char** environ;

namespace countersign {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The server answers a long-poll after at most this long.
constexpr int kLongPollSeconds = 60;
// A long-poll answers only once the request is resolved: while it needs several decisions, poll
// this often to report each one ("alice approved, 1 of 2") soon after it is made.
constexpr int kProgressPollSeconds = 10;
// Allowance on top of the long-poll for the answer to arrive.
constexpr int kLongPollSlackSeconds = 15;
// How long the server may stay unreachable (or answer 5xx/429) before exec gives up.
constexpr auto kMaxOutage = std::chrono::minutes(5);
constexpr auto kFirstRetryDelay = std::chrono::milliseconds(500);
constexpr auto kMaxRetryDelay = std::chrono::milliseconds(15000);
constexpr size_t kTitleLimit = 512;  // the server's limit, in bytes

// Shell conventions for a command that cannot be run (an interrupt: kExitInterrupted).
constexpr int kExitCannotExecute = 126;
constexpr int kExitNotFound = 127;

constexpr const char* kReceiptVariable = "COUNTERSIGN_RECEIPT";
constexpr const char* kRequestIdVariable = "COUNTERSIGN_REQUEST_ID";

constexpr const char* kFooter =
    "Asks for approval of the command line (the request's arguments are {\"argv\": [CMD, "
    "ARGS...]} unless --arguments is given), waits for the decision, and runs CMD only if it "
    "is approved, with the signed receipt in COUNTERSIGN_RECEIPT and the request id in "
    "COUNTERSIGN_REQUEST_ID. When the policy makes the receipt single-use (receipt = "
    "\"single_use\"), exec consumes it (POST /v1/receipts/consume) before running CMD and "
    "refuses to run CMD when it was consumed already (an approval replayed with the same "
    "--idempotency-key). Put -- before CMD so that its own options are not read as "
    "exec's. While waiting, stderr says who may decide, the request's page in the web inbox, "
    "and each decision as it comes (\"alice approved, 1 of 2\"). Waiting survives the "
    "server's 60 s long-poll cap and retries an unreachable server (or a 5xx/429 answer) for "
    "up to 5 minutes. SIGINT or SIGTERM (Ctrl-C) while "
    "waiting cancels the request; while CMD runs, they are passed on to it. Once CMD has run, "
    "exec reports its exit status to the server (succeeded on 0, else failed with the exit "
    "code, or \"killed by signal N\"), which records it as the request's execution "
    "(execution.reported); a report that fails is a warning and does not change exec's exit "
    "status. --no-report turns the report off.\n"
    "Exit status: CMD's own exit status once approved (128+N if signal N killed it); "
    "1 denied, approved with edited arguments (CMD is not run: exec runs only the command "
    "as asked), or a single-use receipt already consumed; 2 expired or cancelled; 3 bad "
    "usage, bad token, or the server could not be asked; 126 CMD is not executable; 127 CMD "
    "not found (both checked before asking anyone); 130 interrupted while waiting (the "
    "request is cancelled).";

const CLI::Validator kJsonObject(
    [](std::string& text) -> std::string {
      auto parsed = ParseJsonObject(text);
      return parsed.ok() ? "" : parsed.error().message;
    },
    "");

// `word` as a POSIX shell reads it back: as is when it is plainly safe, else single-quoted.
std::string ShellQuote(const std::string& word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("_./:=@%+,-", c) != nullptr;
  });
  if (plain) return word;
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string CommandLine(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& word : argv) {
    if (!line.empty()) line += ' ';
    line += ShellQuote(word);
  }
  return line;
}

// At most `limit` bytes, cut on a UTF-8 character boundary, with "..." when cut.
std::string TruncateUtf8(std::string text, size_t limit) {
  if (text.size() <= limit) return text;
  size_t end = limit - 3;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text + "...";
}

enum class Lookup { kFound, kNotFound, kNotExecutable };

Lookup CheckFile(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Lookup::kNotFound;
  if (S_ISDIR(st.st_mode) || access(path.c_str(), X_OK) != 0) return Lookup::kNotExecutable;
  return Lookup::kFound;
}

// Where execvp() would find `name`, judged before anyone is asked to approve running it.
Lookup FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return CheckFile(name);
  const char* path_env = std::getenv("PATH");
  const std::string path = path_env != nullptr ? path_env : "/usr/local/bin:/bin:/usr/bin";
  Lookup best = Lookup::kNotFound;
  size_t start = 0;
  for (;;) {
    const size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? colon : colon - start);
    if (dir.empty()) dir = ".";
    const Lookup found = CheckFile(dir + "/" + name);
    if (found == Lookup::kFound) return found;
    if (found == Lookup::kNotExecutable) best = found;
    if (colon == std::string::npos) return best;
    start = colon + 1;
  }
}

// Worth another try: the server unreachable or overloaded, a gateway error, a rate limit.
bool Transient(const Error& error) {
  return error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kInternal ||
         error.code == ErrorCode::kRateLimited;
}

SteadyClock::duration Jittered(std::chrono::milliseconds delay) {
  static thread_local std::minstd_rand random(std::random_device{}());
  std::uniform_int_distribution<long long> spread(delay.count() / 2, delay.count());
  return std::chrono::milliseconds(spread(random));
}

const char* SignalName(int signal) { return signal == SIGINT ? "SIGINT" : "SIGTERM"; }

// The arguments_sha256 claim of a receipt, read without checking the signature (the receipt
// came from the server just now; this only asks whether the approvers edited the arguments).
std::string ReceiptArgumentsHash(std::string_view receipt) {
  const size_t first = receipt.find('.');
  const size_t second = first == std::string_view::npos ? first : receipt.find('.', first + 1);
  if (second == std::string_view::npos) return "";
  const auto payload = Base64UrlDecode(receipt.substr(first + 1, second - first - 1));
  if (!payload) return "";
  boost::system::error_code ec;
  const boost::json::value claims = boost::json::parse(*payload, ec);
  if (ec || !claims.is_object()) return "";
  const auto* hash = claims.get_object().if_contains("arguments_sha256");
  return hash != nullptr && hash->is_string() ? std::string(hash->get_string()) : "";
}

std::string RawStringField(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

// Long-polls until the request leaves `pending`, telling `progress` who may decide and each
// decision it sees. Transient failures are retried with backoff until the server has been
// unreachable for kMaxOutage; anything else is returned.
Result<boost::json::object> WaitForDecision(const ApiClient& api, boost::json::object request,
                                            bool quiet, WaitProgress& progress) {
  const std::string id = TextField(request, "id");
  // Several decisions may be needed: poll often enough to report each soon after it is made.
  const bool several = IntField(request, "quorum").value_or(1) > 1 ||
                       IntField(request, "deny_threshold").value_or(1) > 1;
  const int poll_seconds = several ? kProgressPollSeconds : kLongPollSeconds;
  const std::string target = "/v1/requests/" + PercentEncode(id) + "/wait" +
                             QueryString().Add("timeout", poll_seconds).str();
  bool in_outage = false;
  SteadyClock::time_point outage_since{};
  std::chrono::milliseconds delay = kFirstRetryDelay;
  bool announced = false;
  while (TextField(request, "status") == "pending") {
    if (!announced) {
      progress.Started(request, "countersign: waiting for a decision on " + id + " (" +
                                    TextField(request, "action") + ", deadline " +
                                    ShortTime(TextField(request, "deadline_at")) +
                                    "); Ctrl-C cancels it");
      announced = true;
    }
    const auto started = SteadyClock::now();
    auto polled = api.Get(target, std::chrono::seconds(poll_seconds + kLongPollSlackSeconds));
    if (polled.ok()) {
      request = std::move(polled).value();
      progress.Saw(request);
      if (in_outage && !quiet) std::cerr << "countersign: reached the server again\n";
      in_outage = false;
      // A pending answer long before the poll's time means the server is shutting down (it
      // answers its waiters at once): back off instead of polling in a tight loop.
      if (TextField(request, "status") == "pending" &&
          SteadyClock::now() - started < std::chrono::seconds(poll_seconds / 2)) {
        std::this_thread::sleep_for(Jittered(delay));
        delay = std::min(delay * 2, kMaxRetryDelay);
      } else {
        delay = kFirstRetryDelay;
      }
      continue;
    }
    const Error& error = polled.error();
    if (!Transient(error)) return error;
    const auto now = SteadyClock::now();
    if (!in_outage) {
      in_outage = true;
      outage_since = now;
    }
    if (now - outage_since >= kMaxOutage) {
      return Error::Unavailable(error.message + "; gave up after retrying for 5 minutes");
    }
    const auto wait = Jittered(delay);
    if (!quiet) {
      std::cerr << "countersign: " << error.message << "; retrying in "
                << std::chrono::duration_cast<std::chrono::milliseconds>(wait).count() << " ms\n";
    }
    std::this_thread::sleep_for(wait);
    delay = std::min(delay * 2, kMaxRetryDelay);
  }
  return request;
}

// One run of `exec`, shared by the main thread (create, wait, run) and the signal relay's
// thread (interrupts). Thread-safe: every member below mu_ is guarded by it.
class ExecRun {
 public:
  ExecRun(ApiClient api, bool quiet) : api_(std::move(api)), quiet_(quiet) {}

  // Relay thread. Waiting: cancel the request and exit 130 at once (the main thread may be
  // blocked in a long-poll). Running: pass a signal another process sent on to the command
  // (one from the terminal reached it already). A second interrupt exits without waiting
  // for the cancel.
  void OnSignal(int signal, bool sent_by_process) {
    std::string id;
    {
      MutexLock lock(mu_);
      switch (phase_) {
        case Phase::kRunning:
          if (sent_by_process) kill(child_, signal);
          return;
        case Phase::kFinished:
          return;
        case Phase::kInterrupted:
          std::_Exit(kExitInterrupted);
        case Phase::kCreating:
        case Phase::kWaiting:
          break;
      }
      phase_ = Phase::kInterrupted;
      signal_ = signal;
      // While creating, the id is not known yet: the main thread cancels once it is.
      if (request_id_.empty()) return;
      id = request_id_;
    }
    Cancel(id);
    std::_Exit(kExitInterrupted);
  }

  // Main thread: the request exists. False when an interrupt came first; the caller then
  // calls Cancel() and exits 130.
  bool Created(const std::string& id) {
    MutexLock lock(mu_);
    request_id_ = id;
    if (phase_ == Phase::kInterrupted) return false;
    phase_ = Phase::kWaiting;
    return true;
  }

  // Main thread: starts the command with posix_spawnp() unless an interrupt came first.
  // Returns the child's pid, 0 when interrupted, or -errno when it could not be started.
  pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
              const sigset_t& child_mask) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setsigmask(&attributes, &child_mask);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);

    MutexLock lock(mu_);
    if (phase_ == Phase::kInterrupted) {
      posix_spawnattr_destroy(&attributes);
      return 0;
    }
    pid_t pid = 0;
    const int failed = posix_spawnp(&pid, args[0], nullptr, &attributes, args.data(), envp.data());
    posix_spawnattr_destroy(&attributes);
    if (failed != 0) return -failed;
    child_ = pid;
    phase_ = Phase::kRunning;
    return pid;
  }

  // Main thread: the command has exited; later signals are left alone.
  void Finished() {
    MutexLock lock(mu_);
    phase_ = Phase::kFinished;
  }

  // Cancels the request after an interrupt and says so on stderr.
  void Cancel(const std::string& id) {
    int signal = SIGINT;
    {
      MutexLock lock(mu_);
      signal = signal_;
    }
    boost::json::object body;
    body["reason"] = std::string("countersign exec was interrupted (") + SignalName(signal) + ")";
    auto cancelled = api_.Post("/v1/requests/" + PercentEncode(id) + "/cancel", body);
    if (cancelled.ok()) {
      // Each line in one write: the waiting thread may be printing the outcome meanwhile.
      if (!quiet_) std::cerr << "countersign: interrupted; cancelled " + id + "\n";
    } else {
      std::cerr << "countersign: interrupted; could not cancel " + id + ": " +
                       cancelled.error().message + "\n";
    }
    std::cout.flush();
    std::cerr.flush();
  }

 private:
  enum class Phase { kCreating, kWaiting, kRunning, kFinished, kInterrupted };

  const ApiClient api_;
  const bool quiet_;
  Mutex mu_;
  Phase phase_ CS_GUARDED_BY(mu_) = Phase::kCreating;
  std::string request_id_ CS_GUARDED_BY(mu_);
  pid_t child_ CS_GUARDED_BY(mu_) = -1;
  int signal_ CS_GUARDED_BY(mu_) = SIGINT;
};

// The environment of the command: ours, with the receipt and the request id set.
std::vector<std::string> CommandEnvironment(const std::string& receipt, const std::string& id) {
  std::vector<std::string> env;
  const std::string receipt_prefix = std::string(kReceiptVariable) + "=";
  const std::string id_prefix = std::string(kRequestIdVariable) + "=";
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (text.starts_with(receipt_prefix) || text.starts_with(id_prefix)) continue;
    env.emplace_back(text);
  }
  env.push_back(receipt_prefix + receipt);
  env.push_back(id_prefix + id);
  return env;
}

// Waits for the command; `wait_status` gets its wait status (nullopt when it could not be had).
int WaitForChild(pid_t pid, std::optional<int>& wait_status) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      std::cerr << "countersign: waiting for the command failed: " << std::strerror(errno) << "\n";
      return kExitError;
    }
  }
  wait_status = status;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitError;
}

// The execution report of a command that ended with wait status `wait_status`: succeeded on
// exit 0, else failed with its exit code, or "killed by signal N". Without a wait status,
// failed with `exit_code`, exec's own.
boost::json::object OutcomeBody(std::optional<int> wait_status, int exit_code) {
  boost::json::object body;
  if (!wait_status) {
    body["status"] = "failed";
    body["exit_code"] = exit_code;
    body["detail"] = "its exit status could not be read";
  } else if (WIFSIGNALED(*wait_status)) {
    body["status"] = "failed";
    body["detail"] = "killed by signal " + std::to_string(WTERMSIG(*wait_status));
  } else {
    const int code = WIFEXITED(*wait_status) ? WEXITSTATUS(*wait_status) : exit_code;
    body["status"] = code == 0 ? "succeeded" : "failed";
    body["exit_code"] = code;
  }
  return body;
}

// Tells the server what became of approved request `id` (POST /v1/requests/{id}/outcome). A
// failure is only a warning: the command has run, and its exit status is what exec answers.
void ReportOutcome(const ApiClient& api, const std::string& id, const boost::json::object& body) {
  auto reported = api.Post("/v1/requests/" + PercentEncode(id) + "/outcome", body);
  if (!reported.ok()) {
    std::cerr << "countersign: warning: could not report the outcome of " + id + ": " +
                     DisplaySafe(reported.error().message) + "\n";
  }
}

}  // namespace

void ExecCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* command = parent.add_subcommand(
      "exec",
      "Run a command only after a person approves it: exec --action NAME [OPTIONS] -- CMD "
      "[ARGS...]");
  command->footer(kFooter);
  command->add_option("--action", action_, "what is to be done, e.g. deploy_production")
      ->required()
      ->type_name("ACTION");
  command->add_option("--title", title_, "one line for the approvers (default: Run <command line>)")
      ->type_name("TEXT");
  command
      ->add_option("--arguments", arguments_json_,
                   "the request's arguments as a JSON object, instead of {\"argv\": [...]}; the "
                   "command line is still shown in details")
      ->type_name("JSON")
      ->check(kJsonObject);
  command
      ->add_option("--timeout", timeout_seconds_,
                   "time until the request's deadline, e.g. 15m or 900 (seconds; server "
                   "default 5m); then it expires and CMD is not run")
      ->type_name("DURATION")
      ->transform(DurationSeconds(1));
  // One value per --approver, so that `--approver alice -- CMD` ends at the `--`.
  command->add_option("--approver", approvers_, "who may decide: NAME or group:NAME (repeatable)")
      ->type_name("NAME")
      ->allow_extra_args(false);
  command->add_option("--session", session_, "the agent session this belongs to")->type_name("ID");
  command
      ->add_option("--idempotency-key", idempotency_key_,
                   "the same KEY and command again get the same request (and its decision) "
                   "instead of asking anew")
      ->type_name("KEY");
  command->add_flag("-q,--quiet", quiet_, "print nothing but errors");
  command->add_flag("--no-report", no_report_,
                    "do not report CMD's exit status to the server afterwards (POST "
                    "/v1/requests/{id}/outcome)");
  connection_.AddTo(*command);
  // exec's stdout belongs to CMD, so there is no JSON answer to print.
  command->remove_option(command->get_option("--json"));
  // For the help text and to catch a command given without `--`: TakeCommand() has already
  // taken the real one.
  command->add_option("command", stray_, "the command to run and its arguments, after --")
      ->type_name("-- CMD [ARGS...]");
  command->callback([this, &exit_code] { exit_code = Run(); });
}

void ExecCommand::TakeCommand(std::vector<std::string>& args) {
  if (args.empty() || args.front() != "exec") return;
  const auto separator = std::find(args.begin(), args.end(), "--");
  if (separator == args.end()) return;
  command_.assign(separator + 1, args.end());
  args.erase(separator, args.end());
}

boost::json::object ExecCommand::Body() const {
  const std::string line = CommandLine(command_);
  boost::json::object body;
  body["action"] = action_;
  body["title"] = TruncateUtf8(title_.value_or("Run " + line), kTitleLimit);
  boost::json::array argv;
  for (const auto& word : command_) argv.emplace_back(word);
  boost::json::object arguments;
  if (arguments_json_) {
    auto parsed = ParseJsonObject(*arguments_json_);  // validated while parsing
    if (parsed.ok()) arguments = std::move(parsed).value();
  } else {
    arguments["argv"] = argv;
  }
  body["arguments"] = std::move(arguments);
  boost::json::object details;
  details["command"] = line;
  details["argv"] = std::move(argv);
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) != nullptr) details["cwd"] = cwd;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) details["host"] = host;
  body["details"] = std::move(details);
  if (timeout_seconds_) body["timeout_seconds"] = *timeout_seconds_;
  if (!approvers_.empty()) {
    boost::json::array approvers;
    for (const auto& name : approvers_) approvers.emplace_back(name);
    body["approvers"] = std::move(approvers);
  }
  if (session_) body["session"] = *session_;
  if (idempotency_key_) body["idempotency_key"] = *idempotency_key_;
  return body;
}

int ExecCommand::Run() const {
  if (!stray_.empty() || command_.empty()) {
    std::cerr << "countersign: exec needs the command after --: countersign exec --action NAME "
                 "[OPTIONS] -- CMD [ARGS...]\n";
    return kExitError;
  }
  const std::string& program = command_.front();
  switch (FindExecutable(program)) {
    case Lookup::kFound:
      break;
    case Lookup::kNotFound:
      std::cerr << "countersign: " << program << ": command not found; nothing was asked\n";
      return kExitNotFound;
    case Lookup::kNotExecutable:
      std::cerr << "countersign: " << program << ": not executable; nothing was asked\n";
      return kExitCannotExecute;
  }
  auto api = connection_.Connect();
  if (!api.ok()) {
    ReportFailure(api.error());
    return kExitError;
  }

  // From here on SIGINT and SIGTERM reach `run` on the relay's thread, never this one.
  ExecRun run(*api, quiet_);
  SignalRelay relay(
      [&run](int signal, bool sent_by_process) { run.OnSignal(signal, sent_by_process); });

  auto created = api->Post("/v1/requests", Body());
  if (!created.ok()) {
    ReportFailure(created.error());
    return kExitError;
  }
  PrintWarnings(std::cerr, *created);
  const std::string id = TextField(*created, "id");
  if (!run.Created(id)) {
    run.Cancel(id);
    return kExitInterrupted;
  }
  WaitProgress progress(std::cerr,
                        quiet_ ? WaitProgress::Style::kSilent : WaitProgress::Style::kHuman,
                        api->base_url());
  auto decided = WaitForDecision(*api, std::move(created).value(), quiet_, progress);
  if (!decided.ok()) {
    ReportFailure(decided.error());
    return kExitError;
  }
  const boost::json::object& request = *decided;
  const std::string status = TextField(request, "status");
  if (!quiet_) {
    // Whole, in one write: the interrupt handler's thread may be writing a line of its own.
    std::ostringstream outcome;
    PrintOutcome(outcome, request);
    std::cerr << outcome.str();
  }
  const std::string line = DisplaySafe(CommandLine(command_));
  if (status == "denied") {
    if (!quiet_) std::cerr << "countersign: not running " << line << "\n";
    return kExitRefused;
  }
  if (status == "expired" || status == "cancelled") {
    if (!quiet_) std::cerr << "countersign: not running " << line << "\n";
    return kExitNotApproved;
  }
  if (status != "approved") {
    std::cerr << "countersign: " << id << " ended as '" << status << "'; not running " << line
              << "\n";
    return kExitError;
  }
  const std::string receipt = RawStringField(request, "receipt");
  if (receipt.empty()) {
    std::cerr << "countersign: " << id << " is approved but carries no receipt; not running "
              << line << "\n";
    return kExitError;
  }
  if (ReceiptArgumentsHash(receipt) != RawStringField(request, "arguments_sha256")) {
    std::cerr << "countersign: " << id
              << " was approved with edited arguments; exec runs only the command as asked, "
                 "so it is not running "
              << line << "\n";
    return kExitRefused;
  }
  // A single-use receipt is spent before the command runs, so that a replayed approval (the
  // same request again) never runs it twice.
  if (TextField(request, "receipt_use") == "single_use") {
    auto consumed = api->Post("/v1/receipts/consume", boost::json::object{{"receipt", receipt}});
    if (!consumed.ok()) {
      std::cerr << "countersign: " << id
                << "'s single-use receipt cannot be used: " << DisplaySafe(consumed.error().message)
                << "; not running " << line << "\n";
      return ExitCodeFor(consumed.error()) == kExitRefused ? kExitRefused : kExitError;
    }
  }

  const pid_t pid = run.Spawn(command_, CommandEnvironment(receipt, id), relay.original_mask());
  if (pid == 0) return kExitInterrupted;  // the relay is cancelling and exits 130
  if (pid < 0) {
    std::cerr << "countersign: cannot run " << program << ": " << std::strerror(-pid) << "\n";
    const int code = -pid == ENOENT ? kExitNotFound : kExitCannotExecute;
    if (!no_report_) {
      boost::json::object body{{"status", "failed"},
                               {"exit_code", code},
                               {"detail", std::string("could not start: ") + std::strerror(-pid)}};
      ReportOutcome(*api, id, body);
    }
    return code;
  }
  std::optional<int> wait_status;
  const int exit_status = WaitForChild(pid, wait_status);
  run.Finished();
  if (!no_report_) ReportOutcome(*api, id, OutcomeBody(wait_status, exit_status));
  return exit_status;
}

}  // namespace countersign

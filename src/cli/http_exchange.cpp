#include "cli/http_exchange.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <mutex>

#include "core/ascii.hpp"

namespace countersign {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr const char* kUserAgent = "countersign-cli/0.1";

long long CeilSeconds(HttpExchange::Duration timeout) {
  return std::chrono::ceil<std::chrono::seconds>(timeout).count();
}

// curl_multi_poll's timeout, rounded up so a wait never spins at 0 ms.
int PollMillis(SteadyClock::duration left) {
  const auto millis = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::clamp<long long>(millis, 1, INT_MAX));
}

bool IsMethod(std::string_view method) {
  return !method.empty() &&
         std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

}  // namespace

struct HttpExchange::Transfer {
  enum class Outcome { kReady, kEnded, kTimedOut };

  Transfer() : multi(curl_multi_init()), easy(curl_easy_init()) {}
  ~Transfer() {
    if (added) curl_multi_remove_handle(multi, easy);
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (multi != nullptr) curl_multi_cleanup(multi);
    curl_slist_free_all(fields);
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  // Moves the transfer on as far as it goes without waiting, and notes its end.
  void Perform() {
    int running = 0;
    if (const CURLMcode code = curl_multi_perform(multi, &running); code != CURLM_OK) {
      ended = true;
      failure = curl_multi_strerror(code);
      return;
    }
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      ended = true;
      if (message->data.result != CURLE_OK) {
        failure = error[0] != '\0' ? std::string(error) : curl_easy_strerror(message->data.result);
      }
    }
  }

  // Runs the transfer until `ready()`, its end, or `deadline`, whichever comes first.
  template <typename Ready>
  Outcome RunUntil(Ready ready, SteadyClock::time_point deadline) {
    for (;;) {
      if (ready()) return Outcome::kReady;
      if (ended) return Outcome::kEnded;
      Perform();
      if (ready()) return Outcome::kReady;
      if (ended) return Outcome::kEnded;
      const auto left = deadline - SteadyClock::now();
      if (left <= SteadyClock::duration::zero()) return Outcome::kTimedOut;
      if (const CURLMcode code = curl_multi_poll(multi, nullptr, 0, PollMillis(left), nullptr);
          code != CURLM_OK) {
        ended = true;
        failure = curl_multi_strerror(code);
      }
    }
  }

  // The request is out: libcurl enters its transfer phase only after writing the request's
  // head (TIMER_PRETRANSFER), and counts the body as it goes.
  bool RequestSent() const {
    if (answer_started) return true;
    curl_off_t pretransfer = 0;
    curl_off_t uploaded = 0;
    curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
    curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &uploaded);
    return pretransfer > 0 && uploaded >= body_size;
  }

  // What the exchange was doing when the send step ran out of time.
  std::string SendPhase(const std::string& host) const {
    curl_off_t looked_up = 0;
    curl_off_t connected = 0;
    curl_easy_getinfo(easy, CURLINFO_NAMELOOKUP_TIME_T, &looked_up);
    curl_easy_getinfo(easy, CURLINFO_APPCONNECT_TIME_T, &connected);
    if (connected == 0) curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connected);
    if (looked_up == 0) return "timed out looking up " + host;
    if (connected == 0) return "timed out connecting";
    return "timed out sending the request";
  }

  static size_t OnHeaderLine(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    t->answer_started = true;
    if (t->head_done) return n;  // trailers
    std::string_view line(data, n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty()) {
      // The end of a head; an interim (1xx) one is followed by the answer's own.
      if (t->head.status >= 200) t->head_done = true;
      return n;
    }
    if (line.starts_with("HTTP/")) {
      t->head = HttpHead{};
      const size_t space = line.find(' ');
      if (space != std::string_view::npos) {
        const std::string_view code = line.substr(space + 1, 3);
        std::from_chars(code.data(), code.data() + code.size(), t->head.status);
      }
      return n;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return n;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    t->head.headers[AsciiLower(line.substr(0, colon))] = std::string(value);
    return n;
  }

  static size_t OnBody(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    t->answer_started = true;
    t->pending.append(data, size * count);
    return size * count;
  }

  CURLM* multi = nullptr;
  CURL* easy = nullptr;
  curl_slist* fields = nullptr;
  bool added = false;  // `easy` is in `multi`: the request has been started
  char error[CURL_ERROR_SIZE] = {};
  curl_off_t body_size = 0;

  // What the callbacks found.
  bool answer_started = false;
  HttpHead head;
  bool head_done = false;
  std::string pending;  // body bytes not handed out yet

  bool ended = false;
  std::string failure;  // why, when the transfer ended in an error
};

HttpExchange::HttpExchange(HttpUrl url, std::string peer, std::string ca_file)
    : url_(std::move(url)), peer_(std::move(peer)), ca_file_(std::move(ca_file)) {
  // libcurl >= 7.84 makes this thread-safe by itself; the flag spares the repeated calls.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  transfer_ = std::make_unique<Transfer>();
}

HttpExchange::~HttpExchange() = default;

Status HttpExchange::Send(std::string_view method, std::string_view target, const Headers& headers,
                          const std::string* body, Duration timeout) {
  if (!IsMethod(method)) {
    return Error::Internal("unknown HTTP method '" + std::string(method) + "'");
  }
  Transfer& t = *transfer_;
  if (t.multi == nullptr || t.easy == nullptr) {
    return Error::Unavailable("cannot reach " + peer_ + ": cannot create a libcurl handle");
  }
  if (t.added) return Error::Internal("an HttpExchange sends one request");
  const auto deadline = SteadyClock::now() + timeout;
  auto unreachable = [this](const std::string& reason) {
    return Error::Unavailable("cannot reach " + peer_ + ": " + reason);
  };

  // libcurl would otherwise send "Expect: 100-continue" for larger bodies and wait for it.
  std::vector<std::string> lines = {"Expect:", "Connection: close"};
  for (const auto& [name, value] : headers) lines.push_back(name + ": " + value);
  for (const auto& line : lines) {
    curl_slist* appended = curl_slist_append(t.fields, line.c_str());
    if (appended == nullptr) return unreachable("out of memory building the request");
    t.fields = appended;
  }
  const std::string url =
      url_.scheme + "://" + url_.host_header + url_.prefix + std::string(target);
  CURL* h = t.easy;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  // The target as the caller wrote it, like the server expects it (no "/../" squashing).
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, t.fields);
  // Proxies come from the environment as libcurl reads it (CURLOPT_PROXY is left unset),
  // and the proxy's own answer to CONNECT is not the server's head.
  curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  if (!ca_file_.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, ca_file_.c_str());
  if (body != nullptr) {
    t.body_size = static_cast<curl_off_t>(body->size());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, t.body_size);
    curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body->c_str());
  }
  if (method != (body != nullptr ? "POST" : "GET")) {
    const std::string custom(method);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, custom.c_str());  // copied by libcurl
  }
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Transfer::OnHeaderLine);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t.error);
  if (curl_multi_add_handle(t.multi, h) != CURLM_OK) {
    return unreachable("cannot start a libcurl transfer");
  }
  t.added = true;

  switch (t.RunUntil([&t] { return t.RequestSent(); }, deadline)) {
    case Transfer::Outcome::kReady:
      return Ok();
    case Transfer::Outcome::kTimedOut:
      return unreachable(t.SendPhase(url_.host));
    case Transfer::Outcome::kEnded:
      break;
  }
  if (!t.failure.empty()) return unreachable(t.failure);
  return Ok();  // ended cleanly: the whole answer is already here
}

Error HttpExchange::ReadFailure(const std::string& reason, bool timed_out, Duration timeout) const {
  if (timed_out) {
    return Error::Unavailable("no answer from " + peer_ + " within " +
                              std::to_string(CeilSeconds(timeout)) + " s");
  }
  return Error::Unavailable("reading the answer from " + peer_ + " failed: " + reason);
}

Result<HttpHead> HttpExchange::ReadHead(Duration timeout) {
  Transfer& t = *transfer_;
  if (!t.added) return Error::Internal("HttpExchange::ReadHead before Send");
  const auto outcome = t.RunUntil([&t] { return t.head_done; }, SteadyClock::now() + timeout);
  if (outcome == Transfer::Outcome::kTimedOut) return ReadFailure("", true, timeout);
  if (outcome == Transfer::Outcome::kEnded) {
    return ReadFailure(
        t.failure.empty() ? "the connection closed before the answer's head" : t.failure, false,
        timeout);
  }
  return t.head;
}

Result<std::optional<std::string>> HttpExchange::ReadSome(Duration timeout) {
  Transfer& t = *transfer_;
  const auto deadline = SteadyClock::now() + timeout;
  if (!t.head_done) {
    auto head = ReadHead(timeout);
    if (!head.ok()) return std::move(head).error();
  }
  switch (t.RunUntil([&t] { return !t.pending.empty(); }, deadline)) {
    case Transfer::Outcome::kReady:
      break;
    case Transfer::Outcome::kTimedOut:
      return ReadFailure("", true, timeout);
    case Transfer::Outcome::kEnded:
      if (!t.failure.empty()) return ReadFailure(t.failure, false, timeout);
      return std::optional<std::string>();
  }
  std::optional<std::string> piece(std::move(t.pending));
  t.pending.clear();
  return piece;
}

Result<std::string> HttpExchange::ReadBody(std::uint64_t limit, Duration timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  std::string out;
  for (;;) {
    auto piece = ReadSome(std::max(SteadyClock::duration::zero(), deadline - SteadyClock::now()));
    if (!piece.ok()) return std::move(piece).error();
    if (!piece->has_value()) return out;
    if (out.size() + (*piece)->size() > limit) {
      return Error::Unavailable("the answer from " + peer_ + " is over " + std::to_string(limit) +
                                " bytes");
    }
    out += **piece;
  }
}

}  // namespace countersign

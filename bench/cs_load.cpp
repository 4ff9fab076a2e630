// cs_load: the part of the benchmark wrk cannot do. bench/run drives it; it links nothing of
// the server and talks to it over HTTP/1.1 only.
//
//   cs_load create  --url URL --count N --out FILE [--token T]
//                   [--peer countersign|hermes] [--connections C] [--tag TAG]
//       creates N pending requests over C keep-alive connections and writes their ids to
//       FILE, one a line (the decide benchmark walks that list);
//   cs_load wake    --url URL --token T --decider-token D [--waiters N] [--via wait|sse|ws]
//                   [--decide-url URL]
//       creates N requests, holds one long-poll per request on its own connection (or, with
//       --via sse or ws, one GET /v1/events?request=ID or /v1/ws?request=ID stream), then
//       decides them one by one over another connection and measures, for each, the time
//       from reading the decide response to reading that waiter's answer (the request's
//       request.resolved event on a stream). With --decide-url the decisions go to that
//       server instead (another replica on the same database), the waiters stay on --url;
//   cs_load waiters --url URL --token T --pid PID [--waiters N] [--hold SECONDS]
//       creates N requests and reads the server's VmRSS before and after N long-polls are
//       registered (GET /metrics countersign_waiters); --hold keeps them open that long
//       after the figures are printed, for a profiler to look at the server.
//
// Results go to stdout as "key value" lines, diagnostics to stderr; any unexpected answer
// stops the tool with exit status 1. Single-threaded: one io_context, C++20 coroutines, so
// both timestamps of a wake measurement come from the same thread and steady_clock.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

namespace {

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string decide_host;  // wake --decide-url; empty: decisions go to host:port too
  uint16_t decide_port = 0;
  std::string token;
  std::string decider_token;
  std::string peer = "countersign";
  std::string out;
  std::string tag;
  std::string via = "wait";  // wake: how a waiter hears the decision
  int count = 0;
  int connections = 64;
  int waiters = 1000;
  int pid = 0;
  int hold_seconds = 0;  // waiters: keep them open this long after measuring
};

constexpr char kUsage[] =
    "usage: cs_load create  --url URL --count N --out FILE [--token T]\n"
    "                       [--peer countersign|hermes] [--connections C] [--tag TAG]\n"
    "       cs_load wake    --url URL --token T --decider-token D [--waiters N]\n"
    "                       [--via wait|sse|ws] [--decide-url URL]\n"
    "       cs_load waiters --url URL --token T --pid PID [--waiters N] [--hold SECONDS]\n";

[[noreturn]] void Usage(const std::string& message) {
  std::cerr << "cs_load: " << message << "\n" << kUsage;
  std::exit(2);
}

int ParseInt(const std::string& flag, const std::string& value) {
  try {
    size_t used = 0;
    int v = std::stoi(value, &used);
    if (used == value.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  Usage(flag + " needs a non-negative integer, not '" + value + "'");
}

// http://HOST:PORT, nothing else: the tool only ever talks to loopback servers.
void ParseUrl(const std::string& flag, const std::string& value, std::string& host,
              uint16_t& port) {
  const std::string prefix = "http://";
  const auto colon = value.rfind(':');
  if (value.rfind(prefix, 0) != 0 || colon == std::string::npos || colon < prefix.size()) {
    Usage(flag + " must look like http://127.0.0.1:7400");
  }
  host = value.substr(prefix.size(), colon - prefix.size());
  std::string digits = value.substr(colon + 1);
  if (!digits.empty() && digits.back() == '/') digits.pop_back();
  port = static_cast<uint16_t>(ParseInt(flag, digits));
}

Options ParseOptions(int argc, char** argv) {
  if (argc < 2) Usage("no mode given");
  Options o;
  o.mode = argv[1];
  if (o.mode != "create" && o.mode != "wake" && o.mode != "waiters") {
    Usage("unknown mode '" + o.mode + "'");
  }
  for (int i = 2; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Usage(flag + " needs a value");
    const std::string value = argv[i + 1];
    if (flag == "--url") {
      ParseUrl(flag, value, o.host, o.port);
    } else if (flag == "--decide-url") {
      ParseUrl(flag, value, o.decide_host, o.decide_port);
      if (o.decide_port == 0) Usage("--decide-url needs a port");
    } else if (flag == "--token") {
      o.token = value;
    } else if (flag == "--decider-token") {
      o.decider_token = value;
    } else if (flag == "--peer") {
      if (value != "countersign" && value != "hermes") Usage("--peer is countersign or hermes");
      o.peer = value;
    } else if (flag == "--out") {
      o.out = value;
    } else if (flag == "--tag") {
      o.tag = value;
    } else if (flag == "--count") {
      o.count = ParseInt(flag, value);
    } else if (flag == "--connections") {
      o.connections = std::max(1, ParseInt(flag, value));
    } else if (flag == "--waiters") {
      o.waiters = std::max(1, ParseInt(flag, value));
    } else if (flag == "--via") {
      if (value != "wait" && value != "sse" && value != "ws") Usage("--via is wait, sse or ws");
      o.via = value;
    } else if (flag == "--pid") {
      o.pid = ParseInt(flag, value);
    } else if (flag == "--hold") {
      o.hold_seconds = ParseInt(flag, value);
    } else {
      Usage("unknown option " + flag);
    }
  }
  if (o.port == 0) Usage("--url is required");
  if (o.mode == "create" && (o.count == 0 || o.out.empty()))
    Usage("create needs --count and --out");
  if (o.mode != "create" && o.token.empty()) Usage(o.mode + " needs --token");
  if (o.mode == "wake" && o.decider_token.empty()) Usage("wake needs --decider-token");
  if (o.mode != "wake" && o.decide_port != 0) Usage("--decide-url is for wake only");
  if (o.mode == "waiters" && o.pid == 0) Usage("waiters needs --pid");
  if (o.tag.empty()) {
    o.tag = std::to_string(::getpid()) + "." +
            std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  }
  return o;
}

// One keep-alive HTTP/1.1 client connection: one request in flight at a time.
class HttpConnection {
 public:
  explicit HttpConnection(const asio::any_io_executor& executor) : socket_(executor) {}

  asio::awaitable<void> Connect(const tcp::endpoint& endpoint) {
    co_await socket_.async_connect(endpoint, asio::use_awaitable);
    socket_.set_option(tcp::no_delay(true));
  }
  asio::awaitable<void> Send(const Request& request) {
    co_await http::async_write(socket_, request, asio::use_awaitable);
  }
  asio::awaitable<Response> Receive() {
    Response response;
    co_await http::async_read(socket_, buffer_, response, asio::use_awaitable);
    co_return response;
  }
  asio::awaitable<Response> Exchange(const Request& request) {
    co_await Send(request);
    co_return co_await Receive();
  }

 private:
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

// Wakes a coroutine blocked in Wait() when another calls Notify(); the waiter re-checks its
// condition, so a Notify() with nobody waiting is never lost.
class Signal {
 public:
  explicit Signal(const asio::any_io_executor& executor)
      : timer_(executor, Clock::time_point::max()) {}
  void Notify() { timer_.cancel(); }
  template <typename Predicate>
  asio::awaitable<void> Wait(Predicate done) {
    while (!done()) {
      boost::system::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

 private:
  asio::steady_timer timer_;
};

// Counts coroutines still running; Wait() resumes when all have finished and rethrows the
// first failure among them.
class WaitGroup {
 public:
  explicit WaitGroup(const asio::any_io_executor& executor) : signal_(executor) {}
  auto Completion() {
    ++running_;
    return [this](std::exception_ptr error) {
      if (error && !error_) error_ = error;
      --running_;
      signal_.Notify();
    };
  }
  asio::awaitable<void> Wait() {
    co_await signal_.Wait([this] { return running_ == 0; });
    if (error_) std::rethrow_exception(error_);
  }

 private:
  Signal signal_;
  int running_ = 0;
  std::exception_ptr error_;
};

Request MakeRequest(const Options& o, http::verb verb, std::string target, const std::string& token,
                    std::string body = {}) {
  Request request{verb, target, 11};
  request.set(http::field::host, o.host + ":" + std::to_string(o.port));
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = std::move(body);
  }
  request.keep_alive(true);
  request.prepare_payload();
  return request;
}

std::string Excerpt(const Response& response) {
  return std::to_string(response.result_int()) + " " + response.body().substr(0, 300);
}

json::object ParseObject(const Response& response, std::string_view what) {
  boost::system::error_code ec;
  json::value value = json::parse(response.body(), ec);
  if (ec || !value.is_object()) {
    throw std::runtime_error(std::string(what) +
                             ": answer is not a JSON object: " + Excerpt(response));
  }
  return std::move(value.as_object());
}

std::string StringMember(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

tcp::endpoint Endpoint(const Options& o) {
  return tcp::endpoint(asio::ip::make_address(o.host), o.port);
}

// Where wake sends its decisions: --decide-url, else the server the waiters wait on.
tcp::endpoint DecideEndpoint(const Options& o) {
  if (o.decide_port == 0) return Endpoint(o);
  return tcp::endpoint(asio::ip::make_address(o.decide_host), o.decide_port);
}

// Creates ids.size() pending requests, each with a distinct action, over `connections`
// connections, filling ids in order.
asio::awaitable<void> CreateWorker(const Options& o, const std::string& token,
                                   std::vector<std::string>& ids, size_t& next) {
  HttpConnection connection(co_await asio::this_coro::executor);
  co_await connection.Connect(Endpoint(o));
  const bool hermes = o.peer == "hermes";
  while (next < ids.size()) {
    const size_t i = next++;
    const std::string action = "bench." + o.tag + "." + std::to_string(i);
    json::object body;
    body["action"] = action;
    Request request;
    if (hermes) {
      body["description"] = "bench request " + std::to_string(i);
      body["timeout_seconds"] = 3600;
      request = MakeRequest(o, http::verb::post, "/confirm", "", json::serialize(body));
    } else {
      body["title"] = "bench request " + std::to_string(i);
      body["timeout_seconds"] = 3600;
      request = MakeRequest(o, http::verb::post, "/v1/requests", token, json::serialize(body));
    }
    Response response = co_await connection.Exchange(request);
    const unsigned expected = hermes ? 202 : 201;
    if (response.result_int() != expected) {
      throw std::runtime_error("create answered " + Excerpt(response));
    }
    ids[i] = StringMember(ParseObject(response, "create"), "id");
    if (ids[i].empty()) throw std::runtime_error("create answer has no id: " + Excerpt(response));
  }
}

asio::awaitable<std::vector<std::string>> CreateRequests(const Options& o, const std::string& token,
                                                         size_t count) {
  auto executor = co_await asio::this_coro::executor;
  std::vector<std::string> ids(count);
  size_t next = 0;
  WaitGroup group(executor);
  const size_t workers = std::min<size_t>(static_cast<size_t>(o.connections), count);
  for (size_t w = 0; w < workers; ++w) {
    asio::co_spawn(executor, CreateWorker(o, token, ids, next), group.Completion());
  }
  co_await group.Wait();
  co_return ids;
}

// The value of an unlabelled gauge in GET /metrics.
asio::awaitable<long> ReadGauge(const Options& o, HttpConnection& connection,
                                std::string_view name) {
  Response response = co_await connection.Exchange(MakeRequest(o, http::verb::get, "/metrics", ""));
  if (response.result_int() != 200)
    throw std::runtime_error("/metrics answered " + Excerpt(response));
  std::istringstream lines(response.body());
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == ' ') {
      co_return std::stol(line.substr(name.size() + 1));
    }
  }
  throw std::runtime_error("/metrics has no " + std::string(name));
}

// Polls the gauge `name` (countersign_waiters or countersign_streams) until it reports
// `target`. The server counts a long-poll once it is registered with the waiter hub and a
// stream once it is subscribed, so after this every waiter is really waiting.
asio::awaitable<void> AwaitGauge(const Options& o, std::string_view name, long target) {
  HttpConnection connection(co_await asio::this_coro::executor);
  co_await connection.Connect(Endpoint(o));
  asio::steady_timer pause(co_await asio::this_coro::executor);
  long last = -1;
  auto stalled_since = Clock::now();
  for (;;) {
    const long now = co_await ReadGauge(o, connection, name);
    if (now == target) co_return;
    if (now != last) {
      last = now;
      stalled_since = Clock::now();
    } else if (Clock::now() - stalled_since > std::chrono::seconds(30)) {
      throw std::runtime_error(std::string(name) + " stuck at " + std::to_string(now) +
                               ", expected " + std::to_string(target));
    }
    pause.expires_after(std::chrono::milliseconds(2));
    co_await pause.async_wait(asio::use_awaitable);
  }
}

// A "Name:   1234 kB" line of /proc/PID/`file`, in KiB: status (VmRSS, RssAnon) or
// smaps_rollup (Pss, which counts a page the process maps more than once, as the store file is
// by each SQLite connection, once; VmRSS counts it once per mapping).
long ProcKib(int pid, std::string_view file, std::string_view field) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + std::string(file);
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 &&
        line[field.size()] == ':') {
      return std::stol(line.substr(field.size() + 1));
    }
  }
  throw std::runtime_error("no " + std::string(field) + " in " + path);
}

long StatusKib(int pid, std::string_view field) { return ProcKib(pid, "status", field); }

// One long-poll on its own connection.
struct Waiter {
  std::string request_id;
  std::unique_ptr<HttpConnection> connection;                        // --via wait
  std::unique_ptr<tcp::socket> sse;                                  // --via sse
  std::unique_ptr<beast::websocket::stream<tcp::socket>> websocket;  // --via ws
  beast::flat_buffer buffer;
  bool answered = false;
  Clock::time_point answered_at;
  std::string status;
};

// Connects and sends the long-poll; the answer is read by ReadWaiterAnswer.
asio::awaitable<void> OpenWaiter(const Options& o, Waiter& waiter) {
  waiter.connection = std::make_unique<HttpConnection>(co_await asio::this_coro::executor);
  co_await waiter.connection->Connect(Endpoint(o));
  co_await waiter.connection->Send(MakeRequest(
      o, http::verb::get, "/v1/requests/" + waiter.request_id + "/wait?timeout=60", o.token));
}

asio::awaitable<void> ReadWaiterAnswer(Waiter& waiter, Signal& signal) {
  Response response = co_await waiter.connection->Receive();
  waiter.answered_at = Clock::now();
  waiter.answered = true;
  signal.Notify();
  if (response.result_int() != 200) throw std::runtime_error("wait answered " + Excerpt(response));
  json::object request = ParseObject(response, "wait");
  if (StringMember(request, "id") != waiter.request_id) {
    throw std::runtime_error("waiter for " + waiter.request_id + " got " + Excerpt(response));
  }
  waiter.status = StringMember(request, "status");
}

// Opens a live stream of the waiter's request and returns once the server has answered the
// handshake: the server subscribes before it answers, so no later event can be missed.
asio::awaitable<void> OpenStreamWaiter(const Options& o, Waiter& waiter) {
  auto executor = co_await asio::this_coro::executor;
  const std::string query = "?request=" + waiter.request_id;
  if (o.via == "sse") {
    waiter.sse = std::make_unique<tcp::socket>(executor);
    co_await waiter.sse->async_connect(Endpoint(o), asio::use_awaitable);
    waiter.sse->set_option(tcp::no_delay(true));
    Request request = MakeRequest(o, http::verb::get, "/v1/events" + query, o.token);
    request.set(http::field::accept, "text/event-stream");
    co_await http::async_write(*waiter.sse, request, asio::use_awaitable);
    http::response_parser<http::empty_body> head;
    co_await http::async_read_header(*waiter.sse, waiter.buffer, head, asio::use_awaitable);
    if (head.get().result_int() != 200) {
      throw std::runtime_error("/v1/events answered " + std::to_string(head.get().result_int()));
    }
    co_return;
  }
  waiter.websocket = std::make_unique<beast::websocket::stream<tcp::socket>>(executor);
  co_await waiter.websocket->next_layer().async_connect(Endpoint(o), asio::use_awaitable);
  waiter.websocket->next_layer().set_option(tcp::no_delay(true));
  const std::string authorization = "Bearer " + o.token;
  waiter.websocket->set_option(
      beast::websocket::stream_base::decorator([authorization](beast::websocket::request_type& r) {
        r.set(http::field::authorization, authorization);
      }));
  co_await waiter.websocket->async_handshake(o.host + ":" + std::to_string(o.port),
                                             "/v1/ws" + query, asio::use_awaitable);
}

// Reads the stream until the request's request.resolved event arrives.
asio::awaitable<void> ReadStreamAnswer(Waiter& waiter, Signal& signal) {
  constexpr std::string_view kResolved = "\"type\":\"request.resolved\"";
  std::string text;  // the stream so far (SSE) or the last message (WebSocket)
  size_t at = std::string::npos;
  while (at == std::string::npos) {
    if (waiter.sse) {
      auto space = waiter.buffer.prepare(4096);
      const size_t n = co_await waiter.sse->async_read_some(space, asio::use_awaitable);
      waiter.buffer.commit(n);
      text = beast::buffers_to_string(waiter.buffer.data());
    } else {
      waiter.buffer.clear();
      co_await waiter.websocket->async_read(waiter.buffer, asio::use_awaitable);
      text = beast::buffers_to_string(waiter.buffer.data());
    }
    at = text.find(kResolved);
  }
  waiter.answered_at = Clock::now();
  waiter.answered = true;
  // The event's data names the outcome: {"status":"approved",...}.
  const std::string_view rest = std::string_view(text).substr(at);
  waiter.status =
      rest.find("\"status\":\"approved\"") != std::string_view::npos ? "approved" : "not approved";
  signal.Notify();
  // Closing our end ends the stream; the server notices on its next write or read.
  boost::system::error_code ignored;
  if (waiter.sse) waiter.sse->close(ignored);
  if (waiter.websocket) waiter.websocket->next_layer().close(ignored);
}

// Opens one waiter per id, one connection after another (a burst of thousands of SYNs would
// only measure the listen backlog), and starts reading each answer.
asio::awaitable<void> OpenWaiters(const Options& o, std::vector<Waiter>& waiters, Signal& signal,
                                  WaitGroup& readers) {
  auto executor = co_await asio::this_coro::executor;
  for (auto& waiter : waiters) {
    if (o.via == "wait") {
      co_await OpenWaiter(o, waiter);
      asio::co_spawn(executor, ReadWaiterAnswer(waiter, signal), readers.Completion());
    } else {
      co_await OpenStreamWaiter(o, waiter);
      asio::co_spawn(executor, ReadStreamAnswer(waiter, signal), readers.Completion());
    }
  }
}

double Percentile(std::vector<double> sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<size_t>(rank, 1)) - 1];
}

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

asio::awaitable<void> RunCreate(const Options& o) {
  const auto start = Clock::now();
  auto ids = co_await CreateRequests(o, o.token, static_cast<size_t>(o.count));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::ofstream out(o.out, std::ios::trunc);
  for (const auto& id : ids) out << id << "\n";
  out.close();
  if (!out) throw std::runtime_error("cannot write " + o.out);
  std::printf("created %zu\ncreate_per_second %.0f\n", ids.size(), ids.size() / seconds);
}

asio::awaitable<void> RunWake(const Options& o) {
  auto executor = co_await asio::this_coro::executor;
  auto ids = co_await CreateRequests(o, o.token, static_cast<size_t>(o.waiters));
  std::vector<Waiter> waiters(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) waiters[i].request_id = ids[i];

  HttpConnection probe(executor);
  co_await probe.Connect(Endpoint(o));
  const char* gauge = o.via == "wait" ? "countersign_waiters" : "countersign_streams";
  const long baseline = co_await ReadGauge(o, probe, gauge);
  Signal answered(executor);
  WaitGroup readers(executor);
  co_await OpenWaiters(o, waiters, answered, readers);
  co_await AwaitGauge(o, gauge, baseline + static_cast<long>(waiters.size()));

  HttpConnection decider(executor);
  co_await decider.Connect(DecideEndpoint(o));
  std::vector<double> wake_us, decide_us, sent_to_wake_us;
  int waiter_first = 0;
  for (auto& waiter : waiters) {
    const auto sent = Clock::now();
    Request decide =
        MakeRequest(o, http::verb::post, "/v1/requests/" + waiter.request_id + "/decisions",
                    o.decider_token, R"({"choice":"approve"})");
    if (o.decide_port != 0) {
      decide.set(http::field::host, o.decide_host + ":" + std::to_string(o.decide_port));
    }
    Response response = co_await decider.Exchange(decide);
    const auto decided = Clock::now();
    if (response.result_int() != 200)
      throw std::runtime_error("decide answered " + Excerpt(response));
    co_await answered.Wait([&] { return waiter.answered; });
    if (waiter.answered_at < decided) ++waiter_first;
    // A waiter answered before the decide response was read was woken "at once": 0.
    wake_us.push_back(std::max(0.0, Micros(waiter.answered_at - decided)));
    decide_us.push_back(Micros(decided - sent));
    sent_to_wake_us.push_back(Micros(waiter.answered_at - sent));
  }
  co_await readers.Wait();
  for (const auto& waiter : waiters) {
    if (waiter.status != "approved") {
      throw std::runtime_error("waiter for " + waiter.request_id + " saw status '" + waiter.status +
                               "'");
    }
  }
  std::sort(wake_us.begin(), wake_us.end());
  std::sort(decide_us.begin(), decide_us.end());
  std::sort(sent_to_wake_us.begin(), sent_to_wake_us.end());
  std::printf("wake_via %s\nwake_waiters %zu\n", o.via.c_str(), waiters.size());
  std::printf("wake_across_servers %d\n", o.decide_port != 0 ? 1 : 0);
  std::printf("wake_p50_us %.1f\nwake_p99_us %.1f\nwake_max_us %.1f\n", Percentile(wake_us, 0.50),
              Percentile(wake_us, 0.99), wake_us.back());
  std::printf("wake_waiter_first %d\n", waiter_first);
  std::printf("decide_p50_us %.1f\ndecide_p99_us %.1f\n", Percentile(decide_us, 0.50),
              Percentile(decide_us, 0.99));
  std::printf("sent_to_wake_p50_us %.1f\nsent_to_wake_p99_us %.1f\n",
              Percentile(sent_to_wake_us, 0.50), Percentile(sent_to_wake_us, 0.99));
}

asio::awaitable<void> RunWaiters(const Options& o) {
  auto executor = co_await asio::this_coro::executor;
  auto ids = co_await CreateRequests(o, o.token, static_cast<size_t>(o.waiters));
  std::vector<Waiter> waiters(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) waiters[i].request_id = ids[i];

  HttpConnection probe(executor);
  co_await probe.Connect(Endpoint(o));
  const long baseline = co_await ReadGauge(o, probe, "countersign_waiters");
  const long cold = StatusKib(o.pid, "VmRSS");
  // Every waiter reads its request from the store first. Reading the 10,000 rows once
  // beforehand puts their pages in the store's caches (SQLite's page cache, the mapped file),
  // which any status read would: the figure then counts what waiting costs.
  for (const auto& waiter : waiters) {
    Response response = co_await probe.Exchange(
        MakeRequest(o, http::verb::get, "/v1/requests/" + waiter.request_id, o.token));
    if (response.result_int() != 200)
      throw std::runtime_error("read answered " + Excerpt(response));
  }
  const long before = StatusKib(o.pid, "VmRSS");
  const long anon_before = StatusKib(o.pid, "RssAnon");
  const long pss_before = ProcKib(o.pid, "smaps_rollup", "Pss");
  Signal answered(executor);
  WaitGroup readers(executor);
  co_await OpenWaiters(o, waiters, answered, readers);
  co_await AwaitGauge(o, "countersign_waiters", baseline + static_cast<long>(waiters.size()));
  const long after = StatusKib(o.pid, "VmRSS");
  const long anon_after = StatusKib(o.pid, "RssAnon");
  const long pss_after = ProcKib(o.pid, "smaps_rollup", "Pss");
  for (const auto& waiter : waiters) {
    if (waiter.answered) throw std::runtime_error("a long-poll was answered while still pending");
  }
  const long connections = co_await ReadGauge(o, probe, "countersign_http_connections");
  std::printf("waiters %zu\nhttp_connections %ld\n", waiters.size(), connections);
  std::printf("rss_cold_kib %ld\nrss_before_kib %ld\nrss_after_kib %ld\n", cold, before, after);
  std::printf("extra_mib %.2f\nbytes_per_waiter %.0f\n", (after - before) / 1024.0,
              (after - before) * 1024.0 / static_cast<double>(waiters.size()));
  // Counting from before the rows were read: the waiters and the store's caches.
  std::printf("cold_extra_mib %.2f\n", (after - cold) / 1024.0);
  // Heap and stacks alone (RSS also counts the database file's pages mapped for reading):
  std::printf("anon_extra_mib %.2f\nanon_bytes_per_waiter %.0f\n",
              (anon_after - anon_before) / 1024.0,
              (anon_after - anon_before) * 1024.0 / static_cast<double>(waiters.size()));
  // The memory the process holds, each page once: the heap and stacks, and the store file's
  // pages however many of the store's connections map them.
  std::printf("pss_extra_mib %.2f\npss_bytes_per_waiter %.0f\n", (pss_after - pss_before) / 1024.0,
              (pss_after - pss_before) * 1024.0 / static_cast<double>(waiters.size()));
  // --hold: the figures are out; a profiler (heaptrack, gdb) may now look at the server with
  // every waiter still open.
  if (o.hold_seconds > 0) {
    std::fflush(stdout);
    asio::steady_timer hold(executor, std::chrono::seconds(o.hold_seconds));
    co_await hold.async_wait(asio::use_awaitable);
  }
  // Returning stops the io_context: the open long-polls are dropped with it and the server
  // sees them disconnect.
}

// Every waiter holds a socket: lift the soft descriptor limit to the hard one.
void RaiseFileLimit(size_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    std::cerr << "cs_load: needs " << needed << " file descriptors, the hard limit is "
              << limit.rlim_cur << " (raise it with ulimit -Hn as root)\n";
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  RaiseFileLimit(static_cast<size_t>(options.waiters + options.connections) + 64);
  asio::io_context io(1);
  std::exception_ptr failure;
  auto run = [&]() -> asio::awaitable<void> {
    if (options.mode == "create") co_await RunCreate(options);
    if (options.mode == "wake") co_await RunWake(options);
    if (options.mode == "waiters") co_await RunWaiters(options);
  };
  asio::co_spawn(io, run(), [&](std::exception_ptr error) {
    failure = error;
    io.stop();
  });
  io.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      std::cerr << "cs_load " << options.mode << ": " << e.what() << "\n";
      return 1;
    }
  }
  std::fflush(stdout);
  return 0;
}

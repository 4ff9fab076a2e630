#include "http/slack_socket_mode.hpp"

#include <optional>
#include <variant>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include "core/json_duplicate_keys.hpp"
#include "core/mutex_lock.hpp"

namespace countersign {
namespace {

namespace websocket = boost::beast::websocket;
namespace ssl = boost::asio::ssl;
using PlainSocket = websocket::stream<beast::tcp_stream>;
using TlsSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

constexpr size_t kMaxFrameBytes = 1 << 20;

std::string StringAt(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// Where a Socket Mode URL points.
struct Endpoint {
  bool tls = true;
  std::string host;
  std::string port;
  std::string target;  // path and query
};

Result<Endpoint> ParseEndpoint(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Error::Invalid("apps.connections.open gave a URL that does not parse");
  Endpoint out;
  const std::string scheme(parsed->scheme());
  if (scheme != "wss" && scheme != "ws") {
    return Error::Invalid("apps.connections.open gave a " + scheme + " URL, not wss");
  }
  out.tls = scheme == "wss";
  out.host = std::string(parsed->host_address());
  out.port = parsed->has_port() ? std::string(parsed->port()) : (out.tls ? "443" : "80");
  out.target = std::string(parsed->encoded_path());
  if (out.target.empty()) out.target = "/";
  if (parsed->has_query()) out.target += "?" + std::string(parsed->encoded_query());
  return out;
}

}  // namespace

// One WebSocket connection. Lives on the io thread only.
struct SlackSocketMode::Session {
  uint64_t id = 0;
  std::string url;
  std::optional<ssl::context> tls;  // for wss; declared first so it outlives the socket
  std::variant<std::monostate, std::unique_ptr<PlainSocket>, std::unique_ptr<TlsSocket>> socket;
  bool hello = false;     // Slack said hello on it
  bool retired = false;   // a newer connection took over: close it
  bool writing = false;   // a write is in flight (a close must wait for it)
  bool replaced = false;  // Slack asked for a new connection (disconnect)

  // Closes the socket once no write is in flight.
  void Close() {
    retired = true;
    if (writing) return;
    std::visit(
        [](auto& ws) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(ws)>, std::monostate>) {
            if (ws && ws->is_open()) {
              ws->async_close(websocket::close_code::normal, [](boost::system::error_code) {});
            }
          }
        },
        socket);
  }
};

SlackSocketMode::SlackSocketMode(const SlackChannel& channel, std::string tenant,
                                 HttpTransport& transport, OutboundPolicy policy,
                                 SlackEvents& events, PressHandler presses,
                                 SlackSocketModeOptions options)
    : channel_(channel),
      tenant_(std::move(tenant)),
      transport_(transport),
      policy_(std::move(policy)),
      events_(events),
      presses_(std::move(presses)),
      options_(options),
      seen_(std::chrono::hours(1), 10000) {
  MutexLock lock(mu_);
  state_.channel = channel.name();
}

SlackSocketMode::~SlackSocketMode() { Stop(); }

void SlackSocketMode::Start() {
  if (thread_.joinable()) return;
  wake_ = std::make_unique<asio::steady_timer>(io_);
  delay_ = std::make_unique<asio::steady_timer>(io_);
  backoff_ = options_.first_backoff;
  asio::co_spawn(io_, Run(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

void SlackSocketMode::Stop() {
  if (stopping_.exchange(true) || !thread_.joinable()) {
    if (thread_.joinable()) thread_.join();
    return;
  }
  asio::post(io_, [this] {
    for (auto& s : sessions_) s->Close();
    if (wake_) wake_->cancel();
    if (delay_) delay_->cancel();
  });
  // A close handshake with a silent peer must not hold the server's shutdown.
  std::thread stopper([this] {
    for (int i = 0; i < 50 && !io_.stopped(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    io_.stop();
  });
  if (thread_.joinable()) thread_.join();
  io_.stop();
  stopper.join();
}

SlackSocketMode::State SlackSocketMode::state() const {
  MutexLock lock(mu_);
  return state_;
}

void SlackSocketMode::Fail(const std::string& why) {
  MutexLock lock(mu_);
  state_.failures += 1;
  state_.last_error = why;
}

void SlackSocketMode::WantNew() {
  want_new_ = true;
  if (wake_) wake_->cancel();
}

void SlackSocketMode::LearnBotUser() {
  OutboundCall call;
  call.url = channel_.api_base() + "/auth.test";
  call.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Authorization", "Bearer " + channel_.bot_token()}};
  const OutboundReply reply = transport_.Send(call, std::chrono::seconds(10));
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(reply.body, ec);
  if (reply.status == 200 && !ec && v.is_object()) {
    const std::string user = StringAt(v.get_object(), "user_id");
    if (!user.empty()) {
      events_.SetBotUser(channel_.name(), user);
      return;
    }
  }
  spdlog::warn(
      "slack channel '{}': auth.test failed ({}); the bot's own messages are told apart "
      "by bot_id only",
      channel_.name(), reply.error.empty() ? std::to_string(reply.status) : reply.error);
}

Result<std::string> SlackSocketMode::OpenUrl(std::chrono::milliseconds& retry_after) {
  OutboundCall call;
  call.url = channel_.api_base() + "/apps.connections.open";
  call.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Authorization", "Bearer " + channel_.app_token()}};
  const OutboundReply reply = transport_.Send(call, std::chrono::seconds(10));
  if (reply.refused) return Error::Invalid("the outbound policy refuses " + call.url);
  const auto wait = [&reply] {
    const std::string after = reply.Header("retry-after");
    if (!after.empty() && after.size() < 6 &&
        after.find_first_not_of("0123456789") == std::string::npos) {
      return std::chrono::milliseconds(std::stoll(after) * 1000);
    }
    return std::chrono::milliseconds(1000);
  };
  if (reply.status == 429) {
    retry_after = wait();
    return Error::RateLimited("apps.connections.open is rate-limited", retry_after.count() / 1000);
  }
  if (reply.status != 200) {
    return Error::Unavailable(
        "apps.connections.open answered " +
        (reply.status ? "HTTP " + std::to_string(reply.status) : reply.error));
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(reply.body, ec);
  if (ec || !v.is_object()) return Error::Unavailable("apps.connections.open answered no JSON");
  const auto& o = v.get_object();
  const auto* ok = o.if_contains("ok");
  if (!ok || !ok->is_bool() || !ok->get_bool()) {
    const std::string error = StringAt(o, "error");
    if (error == "ratelimited") {
      retry_after = wait();
      return Error::RateLimited("apps.connections.open is rate-limited", 1);
    }
    return Error::Unavailable("apps.connections.open refused: " + error);
  }
  std::string url = StringAt(o, "url");
  if (url.empty()) return Error::Unavailable("apps.connections.open answered no url");
  return url;
}

asio::awaitable<void> SlackSocketMode::Run() {
  co_await asio::post(io_, asio::use_awaitable);
  LearnBotUser();
  while (!stopping_) {
    boost::system::error_code ec;
    if (!want_new_) {
      wake_->expires_after(std::chrono::hours(24));
      co_await wake_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (failed_last_) {
      // Backing off after a failure; a connection that says hello resets it.
      delay_->expires_after(backoff_);
      co_await delay_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      backoff_ = std::min(backoff_ * 2, options_.max_backoff);
      failed_last_ = false;
      continue;
    }
    std::chrono::milliseconds retry_after{0};
    auto url = OpenUrl(retry_after);
    if (!url.ok()) {
      spdlog::warn("slack channel '{}': {}", channel_.name(), url.error().message);
      Fail(url.error().message);
      failed_last_ = true;
      backoff_ = std::max(backoff_, retry_after);
      continue;
    }
    want_new_ = false;
    auto session = std::make_shared<Session>();
    session->id = ++next_session_;
    session->url = std::move(url).value();
    sessions_.push_back(session);
    asio::co_spawn(io_, RunSession(session), asio::detached);
  }
}

std::string SlackSocketMode::OnText(Session& session, std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object() || FindDuplicateKey(text)) {
    spdlog::warn("slack channel '{}': a frame that is not a JSON object was ignored",
                 channel_.name());
    return {};
  }
  const auto& o = v.get_object();
  const std::string type = StringAt(o, "type");
  if (type == "hello") {
    session.hello = true;
    {
      MutexLock lock(mu_);
      state_.connected = true;
      state_.connections += 1;
      state_.last_error.clear();
    }
    spdlog::info("slack channel '{}': Socket Mode connected", channel_.name());
    backoff_ = options_.first_backoff;
    // The new connection is up: the ones it replaces may go.
    for (auto& older : sessions_) {
      if (older->id < session.id && !older->retired) older->Close();
    }
    return {};
  }
  if (type == "disconnect") {
    spdlog::info("slack channel '{}': Slack asks for a new connection ({})", channel_.name(),
                 StringAt(o, "reason"));
    session.replaced = true;
    WantNew();
    return {};
  }
  const std::string envelope = StringAt(o, "envelope_id");
  if (envelope.empty()) return {};
  // The ack first: Slack needs it within 3 s, whatever the work takes.
  std::string ack = boost::json::serialize(boost::json::object{{"envelope_id", envelope}});
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  bool fresh = seen_.Admit(envelope, now, now).ok();
  {
    MutexLock lock(mu_);
    state_.envelopes += 1;
    if (!fresh) state_.duplicates += 1;
  }
  if (fresh) {
    const auto* payload = o.if_contains("payload");
    if (payload) {
      // Handed over after the ack is written (see RunSession).
      auto type_copy = type;
      auto payload_copy = *payload;
      asio::post(io_,
                 [this, type_copy = std::move(type_copy), payload_copy = std::move(payload_copy)] {
                   Dispatch(type_copy, payload_copy);
                 });
    }
  }
  return ack;
}

void SlackSocketMode::Dispatch(const std::string& type, const boost::json::value& payload) {
  if (!payload.is_object()) return;
  if (type == "events_api") {
    events_.Handle(channel_, tenant_, payload.get_object());
  } else if (type == "interactive") {
    auto press = channel_.ParseInteraction(boost::json::serialize(payload));
    if (!press.ok()) {
      spdlog::debug("slack channel '{}': interaction ignored: {}", channel_.name(),
                    press.error().message);
      return;
    }
    presses_(channel_, tenant_, std::move(press).value());
  }
}

asio::awaitable<void> SlackSocketMode::RunSession(std::shared_ptr<Session> session) {
  std::string why;
  try {
    auto endpoint = ParseEndpoint(session->url);
    if (!endpoint.ok()) throw std::runtime_error(endpoint.error().message);
    const std::string as_http =
        (endpoint->tls ? "https://" : "http://") + endpoint->host + ":" + endpoint->port + "/";
    if (Status allowed = policy_.CheckUrl("the Socket Mode URL", as_http); !allowed.ok()) {
      throw std::runtime_error(allowed.error().message);
    }
    tcp::resolver resolver(io_);
    auto results =
        co_await resolver.async_resolve(endpoint->host, endpoint->port, asio::use_awaitable);
    std::vector<tcp::endpoint> allowed;
    for (const auto& r : results) {
      if (policy_.CheckAddress(endpoint->host, r.endpoint().data()).ok()) {
        allowed.push_back(r.endpoint());
      }
    }
    if (allowed.empty()) {
      throw std::runtime_error("the outbound policy refuses every address of " + endpoint->host);
    }
    const websocket::stream_base::timeout timeouts{options_.handshake_timeout,
                                                   options_.idle_timeout, true};
    auto pump = [&](auto& ws) -> asio::awaitable<void> {
      ws.set_option(timeouts);
      ws.read_message_max(kMaxFrameBytes);
      co_await ws.async_handshake(endpoint->host, endpoint->target, asio::use_awaitable);
      beast::flat_buffer buffer;
      while (!stopping_) {
        buffer.clear();
        co_await ws.async_read(buffer, asio::use_awaitable);
        if (!ws.got_text()) continue;
        const std::string reply = OnText(*session, beast::buffers_to_string(buffer.data()));
        if (!reply.empty()) {
          session->writing = true;
          ws.text(true);
          boost::system::error_code ec;
          co_await ws.async_write(asio::buffer(reply),
                                  asio::redirect_error(asio::use_awaitable, ec));
          session->writing = false;
          if (ec) throw boost::system::system_error(ec);
          if (session->retired) session->Close();
        }
      }
    };
    if (endpoint->tls) {
      ssl::context& tls = session->tls.emplace(ssl::context::tls_client);
      tls.set_default_verify_paths();
      tls.set_verify_mode(ssl::verify_peer);
      auto ws = std::make_unique<TlsSocket>(io_, tls);
      auto& stream = beast::get_lowest_layer(*ws);
      stream.expires_after(options_.handshake_timeout);
      co_await stream.async_connect(allowed, asio::use_awaitable);
      if (!SSL_set_tlsext_host_name(ws->next_layer().native_handle(), endpoint->host.c_str())) {
        throw std::runtime_error("cannot set the TLS server name");
      }
      ws->next_layer().set_verify_callback(ssl::host_name_verification(endpoint->host));
      co_await ws->next_layer().async_handshake(ssl::stream_base::client, asio::use_awaitable);
      stream.expires_never();
      TlsSocket& ref = *ws;
      session->socket = std::move(ws);
      co_await pump(ref);
    } else {
      auto ws = std::make_unique<PlainSocket>(io_);
      auto& stream = beast::get_lowest_layer(*ws);
      stream.expires_after(options_.handshake_timeout);
      co_await stream.async_connect(allowed, asio::use_awaitable);
      stream.expires_never();
      PlainSocket& ref = *ws;
      session->socket = std::move(ws);
      co_await pump(ref);
    }
  } catch (const boost::system::system_error& e) {
    why = e.code() == beast::error::timeout ? "the socket went silent (stale)" : e.what();
    if (e.code() == websocket::error::closed) why.clear();
  } catch (const std::exception& e) {
    why = e.what();
  }
  // Gone: forget it, and unless a newer one took over, ask for another.
  std::erase(sessions_, session);
  const bool superseded = session->retired;
  if (!stopping_ && !superseded && (!why.empty() || !session->hello)) failed_last_ = true;
  if (!why.empty() && !stopping_ && !superseded) {
    spdlog::warn("slack channel '{}': Socket Mode connection lost: {}", channel_.name(), why);
    Fail(why);
  }
  if (!superseded && !stopping_) {
    bool any_live = false;
    for (const auto& s : sessions_) any_live = any_live || (s->hello && !s->retired);
    {
      MutexLock lock(mu_);
      state_.connected = any_live;
    }
    if (!any_live || session->replaced) WantNew();
  }
  if (stopping_) {
    MutexLock lock(mu_);
    state_.connected = false;
  }
}

}  // namespace countersign

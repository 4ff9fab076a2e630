#include "notify/chat_completions_client.hpp"

#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/utf8_text.hpp"

namespace countersign {
namespace {

namespace json = boost::json;

bool Retryable(int status) {
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

// What the server says about waiting: retry-after-ms, then Retry-After in seconds.
std::optional<std::chrono::milliseconds> RetryAfter(const OutboundReply& reply) {
  const auto digits = [](const std::string& s) {
    return !s.empty() && s.size() < 9 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (const std::string ms = reply.Header("retry-after-ms"); digits(ms)) {
    return std::chrono::milliseconds(std::stoll(ms));
  }
  if (const std::string s = reply.Header("retry-after"); digits(s)) {
    return std::chrono::milliseconds(std::stoll(s) * 1000);
  }
  return std::nullopt;
}

std::string ErrorMessage(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return ValidUtf8(body, 200);
  const auto* e = v.get_object().if_contains("error");
  if (!e || !e->is_object()) return ValidUtf8(body, 200);
  const auto* m = e->get_object().if_contains("message");
  return m && m->is_string() ? ValidUtf8(m->get_string(), 300) : ValidUtf8(body, 200);
}

bool IsQuotaError(const std::string& body) {
  return body.find("insufficient_quota") != std::string::npos;
}

Result<Completion> ReadCompletion(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return Error::Invalid("the model server's reply is not JSON");
  const json::object& o = v.get_object();
  const auto* choices = o.if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty() ||
      !choices->get_array()[0].is_object()) {
    return Error::Invalid("the model server's reply has no choices");
  }
  const json::object& choice = choices->get_array()[0].get_object();
  const auto* message = choice.if_contains("message");
  if (!message || !message->is_object()) return Error::Invalid("the first choice has no message");
  const json::object& m = message->get_object();
  if (const auto* refusal = m.if_contains("refusal"); refusal && refusal->is_string()) {
    return Error::Invalid("the model refused: " + ValidUtf8(refusal->get_string(), 200));
  }
  if (const auto* reason = choice.if_contains("finish_reason");
      reason && reason->is_string() && reason->get_string() == "length") {
    return Error::Invalid("the model's answer was cut off at max_tokens");
  }
  const auto* content = m.if_contains("content");
  if (!content || !content->is_string()) return Error::Invalid("the model's message has no text");
  Completion out;
  out.content = std::string(content->get_string());
  if (const auto* model = o.if_contains("model"); model && model->is_string()) {
    out.model = std::string(model->get_string());
  }
  return out;
}

}  // namespace

ChatCompletionsClient::ChatCompletionsClient(ChatCompletionsSettings settings,
                                             HttpTransport& transport, Sleep sleep)
    : settings_(std::move(settings)), transport_(transport), sleep_(std::move(sleep)) {
  if (!sleep_) {
    // The real wait, a tenth of a second at a time so that Cancel() cuts it short.
    sleep_ = [cancelled = cancelled_](std::chrono::milliseconds d) {
      const auto until = std::chrono::steady_clock::now() + d;
      while (!cancelled->load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(
            std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(100)));
      }
    };
  }
}

Result<Completion> ChatCompletionsClient::Complete(const std::vector<ChatTurn>& messages,
                                                   double temperature,
                                                   const std::optional<json::object>& schema,
                                                   const std::string& schema_name) const {
  json::array turns;
  for (const auto& t : messages)
    turns.push_back(json::object{{"role", t.role}, {"content", t.content}});
  json::object body{{"model", settings_.model},
                    {"messages", std::move(turns)},
                    {"temperature", temperature},
                    {"max_tokens", settings_.max_tokens}};
  if (schema) {
    body["response_format"] =
        json::object{{"type", "json_schema"},
                     {"json_schema",
                      json::object{{"name", schema_name}, {"schema", *schema}, {"strict", true}}}};
  }
  OutboundCall call;
  std::string base = settings_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  call.url = base + "/chat/completions";
  call.headers = {{"Content-Type", "application/json"}};
  if (!settings_.api_key.empty())
    call.headers.push_back({"Authorization", "Bearer " + settings_.api_key});
  call.body = json::serialize(body);
  call.cancelled = cancelled_.get();

  const auto started = std::chrono::steady_clock::now();
  Error last = Error::Unavailable("the model server was not called");
  for (int attempt = 0; attempt <= settings_.retries; ++attempt) {
    if (cancelled_->load()) return Error::Unavailable("countersign is stopping");
    const OutboundReply reply = transport_.Send(call, settings_.timeout);
    if (reply.refused) return Error::Invalid("the outbound policy refuses " + call.url);
    if (reply.status >= 200 && reply.status < 300) {
      auto completion = ReadCompletion(reply.body);
      if (!completion.ok()) return completion;
      completion->input_bytes = static_cast<int64_t>(call.body.size());
      completion->attempts = attempt + 1;
      completion->latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - started)
                                   .count();
      if (completion->model.empty()) completion->model = settings_.model;
      return completion;
    }
    const auto wait = RetryAfter(reply);
    if (reply.status == 0) {
      last = Error::Unavailable("the model server did not answer: " + reply.error);
    } else if (reply.status == 429) {
      last =
          Error::RateLimited("the model server rate-limited the call: " + ErrorMessage(reply.body),
                             wait ? std::max<int64_t>(1, wait->count() / 1000) : 1);
      if (IsQuotaError(reply.body)) return last;
    } else if (Retryable(reply.status)) {
      last = Error::Unavailable("the model server answered HTTP " + std::to_string(reply.status) +
                                ": " + ErrorMessage(reply.body));
    } else {
      return Error::Invalid("the model server answered HTTP " + std::to_string(reply.status) +
                            ": " + ErrorMessage(reply.body));
    }
    if (attempt == settings_.retries) break;
    if (wait && *wait > settings_.max_retry_wait) break;  // the caller tries again later
    sleep_(wait ? *wait : std::chrono::milliseconds(500 << attempt));
  }
  return last;
}

}  // namespace countersign

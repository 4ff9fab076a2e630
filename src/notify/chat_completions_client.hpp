// ChatCompletionsClient: one call to an OpenAI-compatible chat completions endpoint
// (`POST {base_url}/chat/completions`: OpenAI, Ollama, vLLM, llama.cpp; PROTOCOLS-AGENTS.md 5),
// through the server's HttpTransport and so its outbound policy.
//
// Sends `model`, the messages, `temperature`, `max_tokens` (which every server reads) and,
// when a schema is given, `response_format` {"type":"json_schema", "json_schema": {name,
// schema, strict}}. Retries 408, 409, 429 and 5xx up to `retries` times, waiting what
// `retry-after-ms` or `Retry-After` says (at most `max_retry_wait`; 429 insufficient_quota is
// not retried), through the injected sleep so tests do not wait. Answers the content of the
// first choice, or an error: kRateLimited or kUnavailable (worth a later attempt), kInvalid
// (a refusal, a truncated answer, a reply that is not a completion). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "notify/http_transport.hpp"

namespace countersign {

struct ChatCompletionsSettings {
  std::string base_url;  // ".../v1"; "/chat/completions" is appended
  std::string model;
  std::string api_key;  // empty: no Authorization header (a local server)
  std::chrono::milliseconds timeout{30000};
  int retries = 2;
  std::chrono::milliseconds max_retry_wait{20000};
  int max_tokens = 400;
};

struct ChatTurn {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct Completion {
  std::string content;
  std::string model;  // as the server names it
  int64_t input_bytes = 0;
  int64_t latency_ms = 0;
  int attempts = 0;
};

class ChatCompletionsClient {
 public:
  using Sleep = std::function<void(std::chrono::milliseconds)>;

  // `sleep` waits between retries (the real one by default).
  ChatCompletionsClient(ChatCompletionsSettings settings, HttpTransport& transport,
                        Sleep sleep = {});

  // `schema`: a JSON schema the answer must follow (response_format json_schema), named
  // `schema_name`.
  Result<Completion> Complete(const std::vector<ChatTurn>& messages, double temperature,
                              const std::optional<boost::json::object>& schema = std::nullopt,
                              const std::string& schema_name = "answer") const;

  const ChatCompletionsSettings& settings() const { return settings_; }
  // Abandons the calls in flight and refuses new ones (kUnavailable): the server is stopping.
  // For good; thread-safe.
  void Cancel() const { cancelled_->store(true); }

 private:
  ChatCompletionsSettings settings_;
  HttpTransport& transport_;
  Sleep sleep_;
  // Shared, so that the client stays copyable; set once by Cancel().
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace countersign

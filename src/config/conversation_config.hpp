// Reads the [llm] and [conversations] tables (docs/conversations.md, docs/configuration.md).
//
//   [llm]                       optional: without it conversations use templates, and the
//     base_url = "https://api.openai.com/v1"        analysts settle them with buttons
//     model = "gpt-4o-mini"
//     api_key = "env:OPENAI_API_KEY"   # or "file:/path"; may be absent for a local server
//     timeout = "30s"   retries = 2   max_tokens = 400
//     greeting_prompt = "..."  judge_prompt  nudge_prompt  summary_prompt  (empty: built in)
//   [conversations]
//     max_message_bytes = 4000     a longer message from Slack is cut
//     messages_per_minute = 20     per Slack user; more are dropped
//
// Errors name the file, line and key. Read at start-up only.
#pragma once

#include <optional>
#include <string>

#include <toml++/toml.h>

#include "core/result.hpp"
#include "notify/chat_completions_client.hpp"

namespace countersign {

struct LlmConfig {
  ChatCompletionsSettings client;
  // Empty: the built-in prompt (engine/model_assistant.hpp).
  std::string greeting_prompt;
  std::string judge_prompt;
  std::string nudge_prompt;
  std::string summary_prompt;
};

struct ConversationConfig {
  std::optional<LlmConfig> llm;  // nullopt: no [llm] table
  size_t max_message_bytes = 4000;
  int messages_per_minute = 20;
};

Result<ConversationConfig> ReadConversationTables(const toml::table& root, const std::string& file);

}  // namespace countersign

#include "config/conversation_config.hpp"

#include "config/notify_config.hpp"
#include "config/toml_values.hpp"
#include "config/where.hpp"

namespace countersign {
namespace {

constexpr DurationRange kModelTimeout{std::chrono::seconds(1), std::chrono::minutes(10), false};

const toml::table* TableAt(const toml::table& root, const char* name, const std::string& file,
                           Status& error) {
  const toml::node* node = root.get(name);
  if (!node) return nullptr;
  const toml::table* table = node->as_table();
  if (!table) error = Error::Invalid(Where(file, *node, name) + " must be a table");
  return table;
}

Result<LlmConfig> ReadLlm(const toml::table& table, const std::string& file) {
  LlmConfig out;
  for (const auto& [key_node, value] : table) {
    const std::string key(key_node.str());
    const std::string where = Where(file, value, "llm." + key);
    if (key == "base_url" || key == "model" || key == "api_key") {
      auto text = ReadNonEmptyText(value, where);
      if (!text.ok()) return std::move(text).error();
      if (key == "base_url") {
        if (!text->starts_with("https://") && !text->starts_with("http://")) {
          return Error::Invalid(where + " must be an http or https URL");
        }
        out.client.base_url = std::move(text).value();
      } else if (key == "model") {
        out.client.model = std::move(text).value();
      } else {
        auto secret = ResolveSecret(text.value(), where);
        if (!secret.ok()) return std::move(secret).error();
        out.client.api_key = std::move(secret).value();
      }
    } else if (key == "timeout") {
      auto timeout = ReadDuration(value, where, kModelTimeout);
      if (!timeout.ok()) return std::move(timeout).error();
      out.client.timeout = timeout.value();
    } else if (key == "retries") {
      auto n = ReadIntegerBetween(value, where, 0, 5);
      if (!n.ok()) return std::move(n).error();
      out.client.retries = static_cast<int>(n.value());
    } else if (key == "max_tokens") {
      auto n = ReadIntegerBetween(value, where, 16, 16384);
      if (!n.ok()) return std::move(n).error();
      out.client.max_tokens = static_cast<int>(n.value());
    } else if (key == "greeting_prompt" || key == "judge_prompt" || key == "nudge_prompt" ||
               key == "summary_prompt") {
      auto text = ReadNonEmptyText(value, where);
      if (!text.ok()) return std::move(text).error();
      std::string& into = key == "greeting_prompt" ? out.greeting_prompt
                          : key == "judge_prompt"  ? out.judge_prompt
                          : key == "nudge_prompt"  ? out.nudge_prompt
                                                   : out.summary_prompt;
      into = std::move(text).value();
    } else {
      return Error::Invalid(where +
                            ": unknown key (the [llm] keys are base_url, model, api_key, timeout, "
                            "retries, max_tokens, greeting_prompt, judge_prompt, nudge_prompt "
                            "and summary_prompt)");
    }
  }
  if (out.client.base_url.empty() || out.client.model.empty()) {
    return Error::Invalid(file + ": [llm] needs base_url and model");
  }
  return out;
}

}  // namespace

Result<ConversationConfig> ReadConversationTables(const toml::table& root,
                                                  const std::string& file) {
  ConversationConfig out;
  Status error = Ok();
  if (const toml::table* llm = TableAt(root, "llm", file, error)) {
    auto read = ReadLlm(*llm, file);
    if (!read.ok()) return std::move(read).error();
    out.llm = std::move(read).value();
  }
  if (!error.ok()) return std::move(error).error();
  if (const toml::table* t = TableAt(root, "conversations", file, error)) {
    for (const auto& [key_node, value] : *t) {
      const std::string key(key_node.str());
      const std::string where = Where(file, value, "conversations." + key);
      if (key == "max_message_bytes") {
        auto n = ReadIntegerBetween(value, where, 100, 40000);
        if (!n.ok()) return std::move(n).error();
        out.max_message_bytes = static_cast<size_t>(n.value());
      } else if (key == "messages_per_minute") {
        auto n = ReadIntegerBetween(value, where, 1, 600);
        if (!n.ok()) return std::move(n).error();
        out.messages_per_minute = static_cast<int>(n.value());
      } else {
        return Error::Invalid(where +
                              ": unknown key (the [conversations] keys are max_message_bytes "
                              "and messages_per_minute)");
      }
    }
  }
  if (!error.ok()) return std::move(error).error();
  return out;
}

}  // namespace countersign

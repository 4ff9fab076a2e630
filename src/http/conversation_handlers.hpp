// ConversationHandlers: the v1 API of conversations (docs/api.md, docs/conversations.md):
//   POST /v1/alerts                     create a conversation about an alert (an agent token,
//                                       as for POST /v1/requests): 201 with the request and
//                                       its `conversation`; an idempotency key as for requests
//   GET  /v1/requests/{id}/messages     the transcript: {"conversation", "messages"};
//                                       ?since=SEQ&limit=N (1-1000, default 200)
// An alert names the Slack [[channel]] to use (`channel`) or gets the first one serving the
// caller's tenant; none there, or one that is not such a channel, is 422.
// A subject given as a principal's name is mapped to that principal's Slack identity through
// [identities]; a chat identity ("slack:U123") is taken as given.
// Thread-safe: no mutable state of its own.
#pragma once

#include <map>
#include <string>

#include "engine/gateway.hpp"
#include "http/metrics.hpp"
#include "http/request_context.hpp"
#include "http/router.hpp"
#include "notify/outbound_policy.hpp"

namespace countersign {

class ConversationHandlers {
 public:
  // `chats`: the Slack channels that can hold a conversation, by name, with the tenant each
  // serves (empty: every tenant), in configuration order.
  ConversationHandlers(Gateway& gateway, Metrics& metrics,
                       std::map<std::string, std::string> identities, OutboundPolicy outbound,
                       bool auth_off, std::vector<std::pair<std::string, std::string>> chats)
      : gateway_(gateway),
        metrics_(metrics),
        identities_(std::move(identities)),
        outbound_(std::move(outbound)),
        auth_off_(auth_off),
        chats_(std::move(chats)) {}

  void Register(Router& router);

  asio::awaitable<HttpResponse> CreateAlert(RequestContext& ctx);
  asio::awaitable<HttpResponse> ListMessages(RequestContext& ctx);

  // The chat identity a subject names: itself when it has a ':' ("slack:U123"), else the Slack
  // identity [identities] maps to that principal (empty when none).
  std::string SubjectIdentity(const std::string& subject) const;
  // The chat an alert of `tenant` asking for `channel` (empty: any) goes to, or why none.
  Result<std::string> ChatFor(const std::string& tenant, const std::string& channel) const;

 private:
  Gateway& gateway_;
  Metrics& metrics_;
  std::map<std::string, std::string> identities_;
  OutboundPolicy outbound_;
  bool auth_off_;
  std::vector<std::pair<std::string, std::string>> chats_;
};

}  // namespace countersign

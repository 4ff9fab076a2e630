#include "http/conversation_handlers.hpp"

#include "core/conversation_json.hpp"
#include "core/request_json.hpp"
#include "http/engine_call.hpp"
#include "http/responses.hpp"

namespace countersign {

void ConversationHandlers::Register(Router& router) {
  using A = Router::Access;
  router.Add(http::verb::post, "/v1/alerts", A::kAuthenticated,
             [this](RequestContext& ctx) { return CreateAlert(ctx); });
  router.Add(http::verb::get, "/v1/requests/{id}/messages", A::kAuthenticated,
             [this](RequestContext& ctx) { return ListMessages(ctx); });
}

std::string ConversationHandlers::SubjectIdentity(const std::string& subject) const {
  if (subject.find(':') != std::string::npos) return subject;
  for (const auto& [identity, principal] : identities_) {
    if (principal == subject && identity.starts_with("slack:")) return identity;
  }
  return {};
}

Result<std::string> ConversationHandlers::ChatFor(const std::string& tenant,
                                                  const std::string& channel) const {
  for (const auto& [name, serves] : chats_) {
    if (!channel.empty() && name != channel) continue;
    if (!serves.empty() && serves != tenant) {
      if (channel.empty()) continue;
      return Error::Invalid("channel '" + Echo(channel) + "' does not serve tenant " + tenant);
    }
    return name;
  }
  if (!channel.empty()) {
    return Error::Invalid("channel '" + Echo(channel) +
                          "' is not a Slack [[channel]] with a bot_token on this server");
  }
  return Error::Invalid("no Slack [[channel]] with a bot_token serves tenant " + tenant +
                        ": a conversation needs one (docs/conversations.md)");
}

asio::awaitable<HttpResponse> ConversationHandlers::CreateAlert(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request, false);
  if (!body.ok()) co_return ErrorResponse(body.error());
  auto input = ParseNewAlert(body.value());
  if (!input.ok()) co_return ErrorResponse(input.error());
  if (Status key =
          TakeIdempotencyKey(ctx, body.value(), input->idempotency_key, input->body_sha256);
      !key.ok()) {
    co_return ErrorResponse(key.error());
  }
  if (!input->subject.empty()) {
    const std::string identity = SubjectIdentity(input->subject);
    if (identity.empty()) {
      co_return ErrorResponse(Error::Invalid(
          "subject '" + Echo(input->subject) +
          "' is neither a chat identity (slack:U123) nor a principal with a Slack identity in "
          "[identities]"));
    }
    input->subject = identity;
  }
  if (!input->callback_url.empty()) {
    Status allowed = outbound_.CheckUrl("callback_url", input->callback_url);
    if (!allowed.ok()) co_return ErrorResponse(allowed.error());
  }
  Actor actor = ctx.actor;
  if (auth_off_ && !input->requester.empty()) actor.name = input->requester;
  auto chat = ChatFor(actor.tenant, input->channel);
  if (!chat.ok()) co_return ErrorResponse(chat.error());
  input->channel = std::move(chat).value();
  auto created = co_await CallEngine<Gateway::Created>(gateway_, [&](auto done) {
    gateway_.CreateAlert(actor, std::move(input).value(), std::move(done));
  });
  if (!created.ok()) co_return ErrorResponse(created.error());
  if (!created->replayed) metrics_.CountRequestCreated();
  boost::json::object out = RequestToJson(*created->request);
  const std::string id = created->request->id;
  auto read = [this, actor, id] { return gateway_.GetConversation(actor, id); };
  auto conversation = co_await ReadEngine<Conversation>(gateway_, std::move(read));
  if (conversation.ok()) out["conversation"] = ConversationView(conversation.value());
  co_return JsonResponse(created->replayed ? http::status::ok : http::status::created, out);
}

asio::awaitable<HttpResponse> ConversationHandlers::ListMessages(RequestContext& ctx) {
  auto since = IntParam(ctx, "since", 0, 0, INT64_MAX);
  if (!since.ok()) co_return ErrorResponse(since.error());
  auto limit = IntParam(ctx, "limit", 200, 1, 1000);
  if (!limit.ok()) co_return ErrorResponse(limit.error());
  const Actor actor = ctx.actor;
  const std::string id = ctx.path["id"];
  struct Transcript {
    Conversation conversation;
    std::vector<ConversationMessage> messages;
  };
  auto read = [this, actor, id, since = since.value(),
               limit = static_cast<int>(limit.value())]() -> Result<Transcript> {
    auto conversation = gateway_.GetConversation(actor, id);
    if (!conversation.ok()) return std::move(conversation).error();
    auto messages = gateway_.ListMessages(actor, id, since, limit);
    if (!messages.ok()) return std::move(messages).error();
    return Transcript{std::move(conversation).value(), std::move(messages).value()};
  };
  auto transcript = co_await ReadEngine<Transcript>(gateway_, std::move(read));
  if (!transcript.ok()) co_return ErrorResponse(transcript.error());
  boost::json::array messages;
  for (const auto& m : transcript->messages) messages.push_back(MessageToJson(m));
  co_return JsonResponse(
      http::status::ok,
      boost::json::object{{"conversation", ConversationView(transcript->conversation)},
                          {"messages", std::move(messages)}});
}

}  // namespace countersign

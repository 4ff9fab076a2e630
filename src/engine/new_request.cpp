#include "engine/new_request.hpp"

#include "core/request_json.hpp"
#include "core/time_format.hpp"
#include "engine/field_reader.hpp"

namespace countersign {

Result<NewRequest> ParseNewRequest(const boost::json::value& body) {
  if (!body.is_object()) return Error::Malformed("the request body must be a JSON object");
  const auto& o = body.get_object();
  FieldReader r(o);
  NewRequest in;
  CS_RETURN_IF_ERROR(r.String("action", in.action));
  CS_RETURN_IF_ERROR(r.String("description", in.title));
  CS_RETURN_IF_ERROR(r.String("title", in.title));
  CS_RETURN_IF_ERROR(r.Object("details", in.details));
  CS_RETURN_IF_ERROR(r.Object("arguments", in.arguments));
  CS_RETURN_IF_ERROR(r.String("kind", in.kind));
  if (const auto* choices = o.if_contains("choices"); choices && !choices->is_null()) {
    auto parsed = ChoicesFromJson(*choices);
    if (!parsed.ok()) return std::move(parsed).error();
    in.choices = std::move(parsed).value();
  }
  CS_RETURN_IF_ERROR(r.Strings("approvers", in.approvers));
  CS_RETURN_IF_ERROR(r.Integer("quorum", in.quorum));
  CS_RETURN_IF_ERROR(r.Integer("timeout_seconds", in.timeout_seconds));
  std::string on_timeout;
  CS_RETURN_IF_ERROR(r.String("on_timeout", on_timeout));
  if (!on_timeout.empty()) in.on_timeout = std::move(on_timeout);
  CS_RETURN_IF_ERROR(r.String("risk", in.risk));
  CS_RETURN_IF_ERROR(r.Strings("notify", in.notify));
  CS_RETURN_IF_ERROR(r.String("callback_url", in.callback_url));
  CS_RETURN_IF_ERROR(r.String("session", in.session));
  CS_RETURN_IF_ERROR(r.String("idempotency_key", in.idempotency_key));
  CS_RETURN_IF_ERROR(r.String("requester", in.requester));
  CS_RETURN_IF_ERROR(r.OptionalObject("response_schema", in.response_schema));
  return in;
}

Result<NewDecision> ParseNewDecision(const boost::json::value& body) {
  if (!body.is_object()) return Error::Malformed("the decision body must be a JSON object");
  FieldReader r(body.get_object());
  NewDecision in;
  CS_RETURN_IF_ERROR(r.String("choice", in.choice));
  CS_RETURN_IF_ERROR(r.String("comment", in.comment));
  CS_RETURN_IF_ERROR(r.String("answer", in.answer));
  CS_RETURN_IF_ERROR(r.OptionalObject("arguments", in.arguments));
  CS_RETURN_IF_ERROR(r.OptionalObject("response", in.response));
  CS_RETURN_IF_ERROR(r.String("by", in.by));
  if (const auto* grant = body.get_object().if_contains("grant"); grant && !grant->is_null()) {
    auto parsed = ParseNewGrant(*grant);
    if (!parsed.ok()) return std::move(parsed).error();
    in.grant = std::move(parsed).value();
  }
  if (const auto* receipt = body.get_object().if_contains("receipt");
      receipt && !receipt->is_null()) {
    auto parsed = ParseReceiptConstraints(*receipt);
    if (!parsed.ok()) return std::move(parsed).error();
    in.receipt = std::move(parsed).value();
  }
  return in;
}

Result<ReceiptConstraints> ParseReceiptConstraints(const boost::json::value& body) {
  if (!body.is_object()) return Error::Malformed("receipt must be a JSON object");
  const boost::json::object& o = body.get_object();
  ReceiptConstraints out;
  if (const auto* not_after = o.if_contains("not_after"); not_after && !not_after->is_null()) {
    if (not_after->is_string()) {
      auto at = ParseTime(not_after->get_string());
      if (!at) {
        return Error::InvalidField("receipt.not_after",
                                   "receipt.not_after must be an RFC 3339 time in UTC "
                                   "(2026-11-21T10:00:00Z) or Unix seconds");
      }
      out.not_after = *at;
    } else {
      std::optional<int64_t> seconds;
      FieldReader r(o);
      CS_RETURN_IF_ERROR(r.Integer("not_after", seconds));
      // Years 1970 to 9999 only, so that the milliseconds cannot overflow.
      if (*seconds < 0 || *seconds > 253402300799) {
        return Error::InvalidField("receipt.not_after", "receipt.not_after is out of range");
      }
      out.not_after = FromUnixMillis(*seconds * 1000);
    }
  }
  FieldReader r(o);
  std::optional<int64_t> max_uses;
  CS_RETURN_IF_ERROR(r.Integer("max_uses", max_uses));
  if (max_uses) {
    if (*max_uses < 1 || *max_uses > kMaxReceiptUses) {
      return Error::InvalidField(
          "receipt.max_uses", "receipt.max_uses must be 1 to " + std::to_string(kMaxReceiptUses));
    }
    out.max_uses = *max_uses;
  }
  if (!out.not_after && out.max_uses == 0) {
    return Error::Malformed("receipt needs not_after or max_uses");
  }
  return out;
}

Result<NewGrant> ParseNewGrant(const boost::json::value& body) {
  if (!body.is_object()) return Error::Malformed("a grant must be a JSON object");
  FieldReader r(body.get_object());
  NewGrant in;
  CS_RETURN_IF_ERROR(r.String("action", in.action));
  CS_RETURN_IF_ERROR(r.String("scope", in.scope));
  CS_RETURN_IF_ERROR(r.String("session", in.session));
  CS_RETURN_IF_ERROR(r.String("requester", in.requester));
  std::optional<int64_t> ttl;
  CS_RETURN_IF_ERROR(r.Integer("ttl_seconds", ttl));
  in.ttl_seconds = ttl.value_or(0);
  return in;
}

}  // namespace countersign

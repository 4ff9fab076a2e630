// JSON renderings of conversations: the body the store keeps, the view the v1 API shows
// (DESIGN.md, docs/api.md), and the transcript. Pure functions; thread-safe.
#pragma once

#include <string>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/conversation.hpp"
#include "core/result.hpp"

namespace countersign {

// Everything about `c`, as the store keeps it; ConversationFromJson reads it back.
boost::json::object ConversationToJson(const Conversation& c);
// kInternal naming the field at fault when `value` is not what ConversationToJson wrote.
Result<Conversation> ConversationFromJson(const boost::json::value& value);

// What `GET /v1/requests/{id}` shows as `conversation`: the subject, the alert, the phase,
// the nudges and, once there is one, the result. Never the worker's bookkeeping.
boost::json::object ConversationView(const Conversation& c);

boost::json::object AlertToJson(const Alert& alert);
// An alert property's value as people read it: a string as it is, a number in its shortest
// exact form (0.5, not 5E-1), true or false.
std::string PropertyText(const boost::json::value& value);
boost::json::object ResultToJson(const ConversationResult& result);
// One transcript entry: {"seq", "role", "author", "text", "at"}.
boost::json::object MessageToJson(const ConversationMessage& message);

}  // namespace countersign

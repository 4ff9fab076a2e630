// The conversation tables (migrations/007_conversations.sql) on one SQLite connection, shared
// by the writer-side SqlTransaction and the reader side of SqliteStore.
//
// Free functions; each uses only the connection it is given, which the caller owns for the
// duration of the call. A stored body that does not parse is kInternal naming the request.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/conversation.hpp"
#include "core/result.hpp"
#include "store/sql/sql_connection.hpp"

namespace countersign::sql_conversations {

Status Insert(SqlConnection& connection, const Conversation& c);
Status Update(SqlConnection& connection, const Conversation& c);
Result<std::optional<Conversation>> Find(SqlConnection& connection, std::string_view tenant,
                                         std::string_view request_id);
Result<std::optional<Conversation>> FindByThread(SqlConnection& connection, std::string_view tenant,
                                                 std::string_view feed_ts);
Result<std::vector<Conversation>> FindWith(SqlConnection& connection, std::string_view tenant,
                                           std::string_view subject, ConversationPhase phase);
Result<std::vector<Conversation>> ListDue(SqlConnection& connection, TimePoint now, int limit);
Result<std::optional<TimePoint>> NextDue(SqlConnection& connection);

// Sets message.seq; false (nothing stored) when its external_id is already in the transcript.
Result<bool> AppendMessage(SqlConnection& connection, ConversationMessage& message);
Result<std::vector<ConversationMessage>> ListMessages(SqlConnection& connection,
                                                      std::string_view request_id, int64_t since,
                                                      int limit);

}  // namespace countersign::sql_conversations

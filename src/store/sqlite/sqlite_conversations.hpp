// The conversation tables (migrations/007_conversations.sql) on one SQLite connection, shared
// by the writer-side SqliteTransaction and the reader side of SqliteStore.
//
// Free functions; each uses only the connection it is given, which the caller owns for the
// duration of the call. A stored body that does not parse is kInternal naming the request.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/conversation.hpp"
#include "core/result.hpp"
#include "store/sqlite/sqlite_connection.hpp"

namespace countersign::sqlite_conversations {

Status Insert(SqliteConnection& connection, const Conversation& c);
Status Update(SqliteConnection& connection, const Conversation& c);
Result<std::optional<Conversation>> Find(SqliteConnection& connection, std::string_view tenant,
                                         std::string_view request_id);
Result<std::optional<Conversation>> FindByThread(SqliteConnection& connection,
                                                 std::string_view tenant, std::string_view feed_ts);
Result<std::vector<Conversation>> FindWith(SqliteConnection& connection, std::string_view tenant,
                                           std::string_view subject, ConversationPhase phase);
Result<std::vector<Conversation>> ListDue(SqliteConnection& connection, TimePoint now, int limit);
Result<std::optional<TimePoint>> NextDue(SqliteConnection& connection);

// Sets message.seq; false (nothing stored) when its external_id is already in the transcript.
Result<bool> AppendMessage(SqliteConnection& connection, ConversationMessage& message);
Result<std::vector<ConversationMessage>> ListMessages(SqliteConnection& connection,
                                                      std::string_view request_id, int64_t since,
                                                      int limit);

}  // namespace countersign::sqlite_conversations

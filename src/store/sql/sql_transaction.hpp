// SqlTransaction: the Transaction a Write() operation sees, on the store's writer
// connection.
//
// It only issues statements; the enclosing batch transaction and the operation's savepoint
// belong to SqliteStore's writer thread, which creates this object. Not thread-safe: used only
// on the writer thread, and only during one batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>
#include "store/sql/sql_connection.hpp"

#include "store/store.hpp"

namespace countersign {

// The end of the audit chain as the writer's open transaction left it, kept across the
// operations of one batch so that appending an event needs no query for the chain's head.
// Valid only while the writer holds the chain (SQLite's one writer; PostgreSQL's chain lock)
// and only within one transaction: the writer resets it for every batch, and restores it when
// an operation rolls back.
struct ChainHead {
  bool known = false;  // false: read it from the events table
  int64_t seq = 0;
  std::string hash;
};

class SqlTransaction final : public Transaction {
 public:
  // `connection` must be inside a transaction for as long as this object is used. `head`, when
  // given, is the batch's ChainHead, read and advanced by AppendEvent.
  explicit SqlTransaction(SqlConnection& connection, ChainHead* head = nullptr)
      : connection_(connection), head_(head) {}

  Result<std::optional<Request>> FindRequest(std::string_view tenant, std::string_view id) override;
  Status InsertRequest(const Request& request) override;
  Status InsertDecision(const Request& request, const Decision& decision) override;
  Result<bool> ResolveIfPending(std::string_view id, RequestStatus status, TimePoint at,
                                const std::vector<std::string>& resolved_by,
                                std::string_view answer, ReasonCode reason,
                                std::string_view receipt) override;
  Result<bool> SetExecutionIfUnreported(std::string_view id,
                                        const ExecutionReport& report) override;
  Result<bool> ConsumeReceipt(ReceiptUse& attempt) override;
  Result<bool> EscalateIfPending(std::string_view id, int escalation_level, TimePoint deadline,
                                 const std::vector<std::string>& approvers) override;
  Status InsertGrant(const Grant& grant) override;
  Result<bool> RevokeGrant(std::string_view tenant, std::string_view id, TimePoint at) override;
  Result<int64_t> AppendEvent(EventDraft draft) override;
  Result<std::optional<TimePoint>> LastEventAt(std::string_view request_id,
                                               std::string_view type) override;
  Result<std::optional<IdempotencyRecord>> FindIdempotency(std::string_view tenant,
                                                           std::string_view key) override;
  Status InsertIdempotency(const IdempotencyRecord& record) override;
  Status DeleteIdempotency(std::string_view tenant, std::string_view key) override;
  Result<int64_t> PurgeIdempotency(TimePoint before, int64_t limit) override;
  Result<int64_t> CountPendingFrom(std::string_view tenant, std::string_view requester) override;
  Status InsertPrincipal(const Principal& principal) override;
  Result<bool> RevokePrincipal(std::string_view tenant, std::string_view id, TimePoint at) override;
  Status InsertOutbox(OutboxRow& row) override;
  Status UpdateOutbox(const OutboxRow& row) override;
  Result<std::optional<OutboxRow>> RetryOutbox(std::string_view tenant,
                                               std::string_view delivery_id,
                                               TimePoint now) override;
  Status PutChannelMessage(std::string_view request_id, std::string_view destination,
                           std::string_view ref) override;
  Status PutAuditCheckpoint(const AuditCheckpoint& checkpoint) override;
  Result<AuditHead> FindAuditHead() override;
  Status InsertConversation(const Conversation& conversation) override;
  Result<std::optional<Conversation>> FindConversation(std::string_view tenant,
                                                       std::string_view request_id) override;
  Status UpdateConversation(const Conversation& conversation) override;
  Result<std::optional<Conversation>> FindConversationByThread(std::string_view tenant,
                                                               std::string_view feed_ts) override;
  Result<std::vector<Conversation>> FindConversationsWith(std::string_view tenant,
                                                          std::string_view subject,
                                                          ConversationPhase phase) override;
  Result<bool> AppendMessage(ConversationMessage& message) override;
  Result<std::vector<ConversationMessage>> ListMessagesIn(std::string_view request_id) override;
  Result<PrunedRequests> PruneResolved(TimePoint before, int64_t limit) override;
  const std::vector<Event>& AppendedEvents() const override { return appended_; }
  // Hands the appended events over, once the operation is done with this transaction.
  std::vector<Event> TakeAppendedEvents() { return std::move(appended_); }

 private:
  SqlConnection& connection_;
  ChainHead* head_;  // may be null
  std::vector<Event> appended_;
};

}  // namespace countersign

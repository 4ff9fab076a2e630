// SqlStore: the reads of the Store interface, written once for both SQL stores.
//
// SqliteStore and PgStore derive from it: they own the connections and the writer, and lend
// this class a read connection for each read (Borrow/Return). The SQL is shared (store/sql/,
// SQLite's ?N parameters, which the PostgreSQL driver rewrites); the few dialect differences
// ask SqlConnection::dialect(). A read that needs several queries runs them in one read
// transaction (SqlConnection::BeginSnapshot), so it sees one snapshot.
//
// Thread-safe as far as Borrow() is: each read uses a connection no other thread holds.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/sql/sql_connection.hpp"
#include "store/store.hpp"

namespace countersign {

class SqlStore : public Store {
 public:
  using Store::VerifyAudit;
  Result<std::optional<Request>> GetRequest(std::string_view tenant, std::string_view id) override;
  Result<RequestPage> ListRequests(const RequestFilter& filter) override;
  Result<std::vector<Event>> ListEvents(const EventFilter& filter) override;
  Result<AuditReport> VerifyAudit(const AuditCheckpoint& from, int64_t max_events) override;
  Result<AuditCheckpoint> GetAuditCheckpoint() override;
  Result<AuditHead> GetAuditHead() override;
  Result<std::vector<PendingDeadline>> ListPendingDeadlines(const DeadlineCursor& after,
                                                            int limit) override;
  Result<std::vector<PendingDeadline>> ListPendingReminders() override;
  Result<int64_t> CountPending(std::string_view tenant) override;
  Result<std::optional<Principal>> FindPrincipalByTokenHash(std::string_view sha256) override;
  Result<std::vector<Principal>> ListPrincipals(std::string_view tenant) override;
  Result<std::map<std::string, int64_t>> CountRequestsByStatus() override;
  Result<std::map<std::string, int64_t>> CountUnreported(TimePoint now) override;
  Result<std::optional<Grant>> FindActiveGrant(std::string_view tenant, std::string_view action,
                                               std::string_view session, std::string_view requester,
                                               TimePoint now) override;
  Result<std::vector<Grant>> ListGrants(std::string_view tenant) override;
  Result<std::optional<TimePoint>> LatestGrantExpiry() override;
  Result<std::vector<OutboxRow>> ListDueOutbox(TimePoint now, int limit) override;
  Result<std::optional<TimePoint>> NextOutboxDue() override;
  Result<std::vector<OutboxRow>> ListOutbox(std::string_view tenant, std::string_view state,
                                            std::string_view request_id, int limit) override;
  Result<std::map<std::string, int64_t>> CountOutboxByState() override;
  Result<std::string> FindChannelMessage(std::string_view request_id,
                                         std::string_view destination) override;
  Result<std::optional<Conversation>> GetConversation(std::string_view tenant,
                                                      std::string_view request_id) override;
  Result<std::vector<ConversationMessage>> ListMessages(std::string_view request_id, int64_t since,
                                                        int limit) override;
  Result<std::vector<Conversation>> ListDueConversations(TimePoint now, int limit) override;
  Result<std::optional<TimePoint>> NextConversationDue() override;
  Status Ping() override;

 protected:
  // A read connection borrowed for one read; given back on destruction.
  class Lease {
   public:
    Lease(SqlStore& store, SqlConnection* connection) : store_(store), connection_(connection) {}
    Lease(Lease&& other) noexcept
        : store_(other.store_), connection_(std::exchange(other.connection_, nullptr)) {}
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    SqlConnection& operator*() { return *connection_; }
    SqlConnection* operator->() { return connection_; }

   private:
    SqlStore& store_;
    SqlConnection* connection_;
  };

  // A read connection no other thread holds (blocking until one is free), or why there is
  // none (the database cannot be reached); Return() gives it back.
  virtual Result<Lease> Borrow() = 0;
  virtual void Return(SqlConnection* connection) = 0;
};

}  // namespace countersign

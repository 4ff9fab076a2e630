// Metrics: the counters /metrics exposes, in Prometheus text format. Thread-safe (atomics).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "http/slack_socket_mode.hpp"
#include "store/store.hpp"

namespace countersign {

class Metrics {
 public:
  void CountResponse(unsigned status);
  void CountDecision() { decisions_.fetch_add(1, std::memory_order_relaxed); }
  void CountRequestCreated() { created_.fetch_add(1, std::memory_order_relaxed); }
  // POST /mcp: a session begun (initialize), a tools/call started.
  void CountMcpSession() { mcp_sessions_.fetch_add(1, std::memory_order_relaxed); }
  void CountMcpToolCall() { mcp_tool_calls_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionOpened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  void StreamOpened() { streams_.fetch_add(1, std::memory_order_relaxed); }
  void StreamClosed() { streams_.fetch_sub(1, std::memory_order_relaxed); }
  void CountStreamOverflow() { stream_overflows_.fetch_add(1, std::memory_order_relaxed); }
  void CountAcceptFailure() { accept_failures_.fetch_add(1, std::memory_order_relaxed); }
  void CountConnectionRefused() { connections_refused_.fetch_add(1, std::memory_order_relaxed); }

  struct Snapshot {
    std::map<std::string, int64_t> requests_by_status;
    size_t waiters = 0;
    size_t deadline_timers = 0;
    StoreStats store;
    size_t reads_queued = 0;       // store reads waiting for a read-executor thread
    uint64_t reads_refused = 0;    // store reads refused because too many were waiting
    uint64_t engine_timeouts = 0;  // calls answered 503: the store missed the call deadline
    std::vector<SlackSocketMode::State> slack_sockets;  // the Socket Mode channels
    // Approved requests past their report time without an execution report, by tenant
    // (Gateway::CountUnreported); nullopt when the store could not be read for it, and the
    // gauge is left out.
    std::optional<std::map<std::string, int64_t>> executions_unreported;
    // The receipt signer's nonce pool (auth/ed25519_nonce_pool.hpp), when it has one.
    struct NoncePool {
      size_t ready = 0;
      uint64_t taken = 0;   // signatures made with a pool nonce
      uint64_t missed = 0;  // signatures made the RFC 8032 way: the pool was empty
    };
    std::optional<NoncePool> nonce_pool;
  };
  std::string Render(const Snapshot& snapshot) const;

 private:
  // Responses by status class: 1xx..5xx at index 1..5.
  std::array<std::atomic<uint64_t>, 6> responses_{};
  std::atomic<uint64_t> decisions_{0};
  std::atomic<uint64_t> created_{0};
  std::atomic<uint64_t> mcp_sessions_{0};
  std::atomic<uint64_t> mcp_tool_calls_{0};
  std::atomic<int64_t> connections_{0};
  std::atomic<int64_t> streams_{0};
  std::atomic<uint64_t> stream_overflows_{0};
  std::atomic<uint64_t> accept_failures_{0};
  std::atomic<uint64_t> connections_refused_{0};
};

}  // namespace countersign

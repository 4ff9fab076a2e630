#include "http/metrics.hpp"

#include <fmt/format.h>

namespace countersign {
namespace {

// A label value as the Prometheus text format writes it: backslash, quote and newline escaped.
std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void Metrics::CountResponse(unsigned status) {
  const unsigned klass = status / 100;
  if (klass >= 1 && klass <= 5) responses_[klass].fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::Render(const Snapshot& s) const {
  std::string out;
  auto line = [&out](const std::string& text) {
    out += text;
    out.push_back('\n');
  };
  line("# HELP countersign_requests Requests in the store, by status.");
  line("# TYPE countersign_requests gauge");
  for (const char* status : {"pending", "approved", "denied", "answered", "expired", "cancelled",
                             "dismissed", "ended"}) {
    auto it = s.requests_by_status.find(status);
    line(fmt::format("countersign_requests{{status=\"{}\"}} {}", status,
                     it == s.requests_by_status.end() ? 0 : it->second));
  }
  if (s.executions_unreported) {
    line(
        "# HELP countersign_executions_unreported Approved requests past their policy's "
        "report_within without an execution report, by tenant.");
    line("# TYPE countersign_executions_unreported gauge");
    for (const auto& [tenant, count] : *s.executions_unreported) {
      line(fmt::format("countersign_executions_unreported{{tenant=\"{}\"}} {}",
                       EscapeLabelValue(tenant), count));
    }
  }
  if (!s.slack_sockets.empty()) {
    line("# HELP countersign_slack_socket_connected Whether a Socket Mode channel is connected.");
    line("# TYPE countersign_slack_socket_connected gauge");
    for (const auto& socket : s.slack_sockets) {
      line(fmt::format("countersign_slack_socket_connected{{channel=\"{}\"}} {}", socket.channel,
                       socket.connected ? 1 : 0));
    }
    line("# HELP countersign_slack_socket_envelopes_total Socket Mode envelopes acknowledged.");
    line("# TYPE countersign_slack_socket_envelopes_total counter");
    for (const auto& socket : s.slack_sockets) {
      line(fmt::format("countersign_slack_socket_envelopes_total{{channel=\"{}\"}} {}",
                       socket.channel, socket.envelopes));
    }
    line("# HELP countersign_slack_socket_duplicates_total Envelopes delivered again, dropped.");
    line("# TYPE countersign_slack_socket_duplicates_total counter");
    for (const auto& socket : s.slack_sockets) {
      line(fmt::format("countersign_slack_socket_duplicates_total{{channel=\"{}\"}} {}",
                       socket.channel, socket.duplicates));
    }
    line("# HELP countersign_slack_socket_failures_total Socket Mode connections that failed.");
    line("# TYPE countersign_slack_socket_failures_total counter");
    for (const auto& socket : s.slack_sockets) {
      line(fmt::format("countersign_slack_socket_failures_total{{channel=\"{}\"}} {}",
                       socket.channel, socket.failures));
    }
  }
  line("# HELP countersign_requests_created_total Requests created since start.");
  line("# TYPE countersign_requests_created_total counter");
  line(fmt::format("countersign_requests_created_total {}", created_.load()));
  line("# HELP countersign_decisions_total Decisions recorded since start.");
  line("# TYPE countersign_decisions_total counter");
  line(fmt::format("countersign_decisions_total {}", decisions_.load()));
  line("# HELP countersign_mcp_sessions_total MCP sessions begun on /mcp since start.");
  line("# TYPE countersign_mcp_sessions_total counter");
  line(fmt::format("countersign_mcp_sessions_total {}", mcp_sessions_.load()));
  line("# HELP countersign_mcp_tool_calls_total MCP tool calls started on /mcp since start.");
  line("# TYPE countersign_mcp_tool_calls_total counter");
  line(fmt::format("countersign_mcp_tool_calls_total {}", mcp_tool_calls_.load()));
  line("# HELP countersign_waiters Long-polls waiting for a request to resolve.");
  line("# TYPE countersign_waiters gauge");
  line(fmt::format("countersign_waiters {}", s.waiters));
  line(
      "# HELP countersign_deadline_timers Deadline timers held in memory on this replica "
      "(the next deadlines; the store holds the rest).");
  line("# TYPE countersign_deadline_timers gauge");
  line(fmt::format("countersign_deadline_timers {}", s.deadline_timers));
  line("# HELP countersign_http_connections Open HTTP connections.");
  line("# TYPE countersign_http_connections gauge");
  line(fmt::format("countersign_http_connections {}", connections_.load()));
  line("# HELP countersign_streams Open event streams (SSE and WebSocket).");
  line("# TYPE countersign_streams gauge");
  line(fmt::format("countersign_streams {}", streams_.load()));
  line("# HELP countersign_read_queue Store reads waiting for a read thread.");
  line("# TYPE countersign_read_queue gauge");
  line(fmt::format("countersign_read_queue {}", s.reads_queued));
  line("# HELP countersign_reads_refused_total Store reads refused (503) because too many waited.");
  line("# TYPE countersign_reads_refused_total counter");
  line(fmt::format("countersign_reads_refused_total {}", s.reads_refused));
  line(
      "# HELP countersign_engine_timeouts_total Calls answered 503: the store missed the "
      "deadline.");
  line("# TYPE countersign_engine_timeouts_total counter");
  line(fmt::format("countersign_engine_timeouts_total {}", s.engine_timeouts));
  if (s.nonce_pool) {
    line(
        "# HELP countersign_signatures_total Receipts and audit checkpoints signed, by nonce: "
        "\"pool\" (made ahead on an idle core) or \"inline\" (the pool was empty).");
    line("# TYPE countersign_signatures_total counter");
    line(fmt::format("countersign_signatures_total{{nonce=\"pool\"}} {}", s.nonce_pool->taken));
    line(fmt::format("countersign_signatures_total{{nonce=\"inline\"}} {}", s.nonce_pool->missed));
    line("# HELP countersign_signing_nonces Signing nonces ready in the pool.");
    line("# TYPE countersign_signing_nonces gauge");
    line(fmt::format("countersign_signing_nonces {}", s.nonce_pool->ready));
  }
  line("# HELP countersign_stream_overflows_total Streams closed because the client fell behind.");
  line("# TYPE countersign_stream_overflows_total counter");
  line(fmt::format("countersign_stream_overflows_total {}", stream_overflows_.load()));
  line(
      "# HELP countersign_accept_failures_total Accepts that failed (out of file descriptors, "
      "typically); each is followed by a pause.");
  line("# TYPE countersign_accept_failures_total counter");
  line(fmt::format("countersign_accept_failures_total {}", accept_failures_.load()));
  line(
      "# HELP countersign_connections_refused_total Connections answered 503 and closed: over "
      "[limits] max_connections or max_connections_per_ip.");
  line("# TYPE countersign_connections_refused_total counter");
  line(fmt::format("countersign_connections_refused_total {}", connections_refused_.load()));
  line("# HELP countersign_http_responses_total HTTP responses since start, by status class.");
  line("# TYPE countersign_http_responses_total counter");
  for (unsigned k = 1; k <= 5; ++k) {
    line(fmt::format("countersign_http_responses_total{{code=\"{}xx\"}} {}", k,
                     responses_[k].load()));
  }
  line("# HELP countersign_store_commit_seconds Time to commit (and fsync) one write batch.");
  line("# TYPE countersign_store_commit_seconds histogram");
  // The store's buckets are already cumulative (each counts batches at or under its bound).
  for (size_t i = 0; i < std::size(StoreStats::kCommitBucketsMs); ++i) {
    line(fmt::format("countersign_store_commit_seconds_bucket{{le=\"{}\"}} {}",
                     StoreStats::kCommitBucketsMs[i] / 1000.0, s.store.commit_buckets[i]));
  }
  line(fmt::format("countersign_store_commit_seconds_bucket{{le=\"+Inf\"}} {}", s.store.batches));
  line(fmt::format("countersign_store_commit_seconds_sum {}", s.store.commit_ms_sum / 1000.0));
  line(fmt::format("countersign_store_commit_seconds_count {}", s.store.batches));
  line("# HELP countersign_store_operations_total Write operations committed.");
  line("# TYPE countersign_store_operations_total counter");
  line(fmt::format("countersign_store_operations_total {}", s.store.operations));
  line("# HELP countersign_store_queue_depth Write operations waiting for the writer.");
  line("# TYPE countersign_store_queue_depth gauge");
  line(fmt::format("countersign_store_queue_depth {}", s.store.queue_depth));
  return out;
}

}  // namespace countersign

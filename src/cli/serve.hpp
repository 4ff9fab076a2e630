#pragma once
#include <optional>
#include <string>
namespace countersign {
// What `countersign serve` was told on its command line or by COUNTERSIGN_* variables.
// Unset fields fall back to the config file, then to built-in defaults.
struct ServeOptions {
  std::optional<std::string> listen;    // --listen HOST:PORT      (COUNTERSIGN_LISTEN)
  std::optional<std::string> store;     // --store sqlite:PATH     (COUNTERSIGN_STORE)
  std::optional<std::string> auth;      // --auth on|off           (COUNTERSIGN_AUTH)
  std::optional<std::string> config;    // --config FILE           (COUNTERSIGN_CONFIG)
  std::optional<std::string> data_dir;  // --data-dir DIR          (COUNTERSIGN_DATA_DIR)
  std::optional<std::string>
      port_file;  // --port-file FILE: written with the bound port once listening
  std::optional<std::string>
      log_level;               // --log-level trace|debug|info|warn|error (COUNTERSIGN_LOG_LEVEL)
  std::optional<int> threads;  // --threads N              (COUNTERSIGN_THREADS)
  std::optional<std::string> tls_cert;  // --tls-cert FILE  (COUNTERSIGN_TLS_CERT)
  std::optional<std::string> tls_key;   // --tls-key FILE   (COUNTERSIGN_TLS_KEY)
  std::optional<int> stream_queue;      // --stream-queue N (COUNTERSIGN_STREAM_QUEUE)
  std::optional<int> stream_heartbeat;  // --stream-heartbeat SECONDS (COUNTERSIGN_STREAM_HEARTBEAT)
  std::optional<std::string> public_url;  // --public-url URL (COUNTERSIGN_PUBLIC_URL)
  std::optional<int> hermes_rate_limit;   // --hermes-rate-limit N (COUNTERSIGN_HERMES_RATE_LIMIT)
};
int Serve(const ServeOptions& options);
}  // namespace countersign

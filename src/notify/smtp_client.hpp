// SmtpClient: hands one message for one recipient to an SMTP server (libcurl's SMTP).
//
// `smtp://` URLs upgrade with STARTTLS before anything else is said when `require_tls` is set
// (a server that does not offer it is refused, and nothing is sent); `smtps://` URLs speak TLS
// from the first byte. TLS peers are verified against the system CA store, or `ca_file` when
// set. AUTH uses `username` and `password` when a username is set. Nothing is retried here:
// the outcome says whether a later attempt may succeed.
// Thread-safe: immutable after construction; each Send() uses its own libcurl handle.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace countersign {

struct SmtpSettings {
  std::string url;  // smtp://host[:port] or smtps://host[:port]
  std::string username;
  std::string password;
  bool require_tls = true;
  std::string ca_file;  // PEM bundle to verify the server with; empty: the system store
};

struct SmtpResult {
  enum class Kind {
    kSent,        // the server accepted the message (250 after DATA)
    kNoStartTls,  // smtp:// with require_tls, and the server does not offer STARTTLS
    kTransient,   // a 4xx reply, no answer, a dropped or timed-out connection: try again
    kPermanent,   // a 5xx reply, bad credentials, a TLS peer that fails verification
  };
  Kind kind = Kind::kSent;
  long reply_code = 0;  // the last SMTP reply code; 0 when the server said nothing
  std::string error;    // for everything but kSent: what happened, for the outbox and logs
};

// What a failed libcurl SMTP transfer came to: `curl_code` (a CURLcode other than CURLE_OK),
// the last `reply_code`, `reply` (the server's last reply line, possibly empty) and
// `detail` (libcurl's message). 4xx replies are transient and 5xx permanent whatever libcurl
// calls them; without a decisive reply, configuration problems (login denied, a TLS peer
// that fails verification, a malformed URL) are permanent and the rest transient.
SmtpResult ClassifySmtpFailure(int curl_code, long reply_code, std::string_view reply,
                               std::string_view detail);

class SmtpClient {
 public:
  explicit SmtpClient(SmtpSettings settings);

  // Sends `message` (CRLF line ends, no dot-stuffing: libcurl does it) from `from` to `to`
  // (bare addresses), within about `timeout`. Never throws.
  SmtpResult Send(std::string_view from, std::string_view to, std::string_view message,
                  std::chrono::milliseconds timeout) const;

  const SmtpSettings& settings() const { return settings_; }

 private:
  SmtpSettings settings_;
};

}  // namespace countersign

#include "cli/link_command.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include "auth/link_signer.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json_fields.hpp"
#include "cli/query_string.hpp"
#include "config/duration.hpp"
#include "config/server_config.hpp"
#include "core/id_generator.hpp"
#include "core/public_url.hpp"
#include "core/system_clock.hpp"
#include "core/time_format.hpp"

namespace countersign {
namespace {

constexpr const char* kFooter =
    "Prints public_url/l/TOKEN alone on stdout. Opening it (GET) shows a confirm page and "
    "changes nothing; the page's button (POST) records the choice as --as, with the same "
    "rules as the API (the requester cannot decide, only listed approvers can). With --url "
    "(or COUNTERSIGN_URL) the server makes the link (POST /v1/requests/ID/links, with the "
    "token of an admin, an approver the request names, or the agent that asked it): --as "
    "must be one of the request's approvers, the link lives until the request's deadline "
    "(--expires-at and --ttl are refused), and --json prints every link the server gave. "
    "Otherwise the link is signed here, with DATA_DIR/link_key, which the server creates "
    "on its first start; public_url comes from --public-url, else [server] public_url of "
    "--config, else the listen address. Exit status: 0 printed, 1 invalid input or the "
    "server refused (no such link, not allowed, already decided), 3 any other error (no "
    "link key, unreadable config, server unreachable, bad usage).";

constexpr size_t kMaxNameBytes = 128;

// Up to ten years: anything longer is a link that never expires.
constexpr DurationRange kLinkTtl{std::chrono::seconds(1), std::chrono::hours(24 * 3650), false};

bool IsPrintableName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

void LinkCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* link = parent.add_subcommand(
      "link", "Mint a one-click link that lets one person make one choice (offline, admin)");
  link->footer(kFooter);
  link->add_option("--request", request_id_, "the request id (req_...)")
      ->required()
      ->type_name("ID");
  link->add_option("--choice", choice_, "the choice the link makes, e.g. approve or deny")
      ->required()
      ->type_name("CHOICE");
  link->add_option("--as", recipient_,
                   "who decides through the link: the principal the decision is recorded as")
      ->required()
      ->type_name("NAME");
  link->add_option("--tenant", tenant_, "the request's tenant (default: default)")
      ->type_name("TENANT");
  link->add_option("--data-dir", data_dir_,
                   "the server's data directory, holding link_key (default: as serve)")
      ->type_name("DIR")
      ->envname("COUNTERSIGN_DATA_DIR");
  link->add_option("--config", config_, "the server's TOML file, for data_dir and public_url")
      ->type_name("FILE")
      ->envname("COUNTERSIGN_CONFIG");
  link->add_option("--public-url", public_url_, "where people reach the server")
      ->type_name("URL")
      ->envname("COUNTERSIGN_PUBLIC_URL");
  auto* expires_at =
      link->add_option("--expires-at", expires_at_,
                       "when the link stops working, RFC 3339 UTC (2026-11-21T10:00:00Z)")
          ->type_name("TIME");
  link->add_option(
          "--ttl", ttl_,
          "how long the link works from now, e.g. 30m, 1h, 2d or 3600 (seconds; default 24h)")
      ->type_name("DURATION")
      ->excludes(expires_at);
  connection_.AddTo(*link);
  link->callback([this, &exit_code] { exit_code = Run(); });
}

int LinkCommand::Run() const {
  if (!IsWellFormedId(request_id_, "req_")) {
    return ReportFailure(Error::Invalid("--request must be a request id (req_...)"));
  }
  const std::pair<const char*, const std::string*> names[] = {
      {"--choice", &choice_}, {"--as", &recipient_}, {"--tenant", &tenant_}};
  for (const auto& [flag, value] : names) {
    if (!IsPrintableName(*value)) {
      return ReportFailure(Error::Invalid(std::string(flag) + " must be 1 to 128 printable bytes"));
    }
  }

  const char* env_url = std::getenv("COUNTERSIGN_URL");
  if (connection_.url || (env_url != nullptr && *env_url != '\0')) return RunRemote();

  ServeOptions options;
  options.Give("config", config_);
  options.Give("data_dir", data_dir_);
  options.Give("public_url", public_url_);
  auto config = LoadServerConfig(options);
  if (!config.ok()) {
    return ReportFailure(Error::Unavailable("configuration error: " + config.error().message));
  }
  std::optional<PublicUrl> public_url;
  if (!config->public_url.empty()) {
    public_url = PublicUrl::Parse(config->public_url, "public_url").value();
  } else if (config->listen_port != 0) {
    public_url =
        PublicUrl::ForListener(config->listen_host, config->listen_port, !config->tls_cert.empty());
  } else {
    return ReportFailure(Error::Invalid(
        "the server listens on port 0, so its address is unknown: give --public-url"));
  }

  SystemClock clock;
  TimePoint expires = clock.Now() + std::chrono::hours(24);
  if (expires_at_) {
    auto parsed = ParseTime(*expires_at_);
    if (!parsed) {
      return ReportFailure(
          Error::Invalid("--expires-at must be an RFC 3339 UTC time like 2026-11-21T10:00:00Z"));
    }
    expires = *parsed;
  } else if (ttl_) {
    auto parsed = ParseDurationValue(*ttl_, "--ttl", kLinkTtl);
    if (!parsed.ok()) return ReportFailure(std::move(parsed).error());
    expires = clock.Now() + parsed.value();
  }

  auto signer = LinkSigner::Load(config->data_dir);
  if (!signer.ok()) return ReportFailure(Error::Unavailable(signer.error().message));
  const LinkClaims claims{tenant_, request_id_, choice_, recipient_, expires};
  std::cout << public_url->LinkFor(signer->Sign(claims)) << "\n";
  std::cerr << "link for " << recipient_ << " to choose '" << choice_ << "' on " << request_id_
            << " (tenant " << tenant_ << "), valid until "
            << FormatTime(std::chrono::floor<std::chrono::seconds>(expires)) << "\n";
  return kExitOk;
}

int LinkCommand::RunRemote() const {
  if (expires_at_ || ttl_) {
    return ReportFailure(Error::Unavailable(
        "--expires-at and --ttl sign a link here; a link from the server (--url) lives until "
        "the request's deadline"));
  }
  auto api = connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  auto answer =
      api->Post("/v1/requests/" + PercentEncode(request_id_) + "/links", boost::json::object{});
  if (!answer.ok()) return ReportFailure(answer.error());
  if (connection_.json) {
    std::cout << boost::json::serialize(*answer) << "\n";
    return kExitOk;
  }
  const std::string expires_at = TextField(*answer, "expires_at");
  std::vector<std::string> recipients;
  for (const auto& item : ArrayField(*answer, "links")) {
    if (!item.is_object()) continue;
    const boost::json::object& link = item.get_object();
    const std::string recipient = TextField(link, "recipient");
    if (recipient == recipient_ && TextField(link, "choice") == choice_) {
      std::cout << TextField(link, "url") << "\n";
      std::cerr << "link for " << recipient_ << " to choose '" << choice_ << "' on " << request_id_
                << ", valid until " << expires_at << "\n";
      return kExitOk;
    }
    if (std::find(recipients.begin(), recipients.end(), recipient) == recipients.end()) {
      recipients.push_back(recipient);
    }
  }
  std::string known;
  for (const auto& r : recipients) known += (known.empty() ? "" : ", ") + r;
  return ReportFailure(Error::Invalid(
      "the server made no link for " + recipient_ + " to choose '" + choice_ + "' on " +
      request_id_ +
      (known.empty() ? std::string(": the request names no approvers to address one to")
                     : ": its links are for " + known + ", with the request's own choices")));
}

}  // namespace countersign

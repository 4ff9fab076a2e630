#include "cli/receipt_command.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "auth/receipt_verifier.hpp"
#include "cli/connection_options.hpp"
#include "cli/exit_codes.hpp"
#include "cli/http_client.hpp"
#include "cli/json_fields.hpp"
#include "core/canonical_json.hpp"
#include "core/sha256.hpp"
#include "core/time_format.hpp"

namespace countersign {
namespace {

constexpr const char* kVerifyFooter =
    "Checks the EdDSA signature against the key named by the receipt's kid, that the outcome "
    "is approved and that exp has not passed; with --action and --arguments also that the "
    "receipt is for that action and for arguments whose canonical JSON hashes to its "
    "arguments_sha256. The keys come from --jwks, else from GET /v1/keys of --url "
    "(env COUNTERSIGN_URL). With --consume a valid receipt is then consumed, one use, through "
    "POST /v1/receipts/consume of that server (token: --token, --token-file, COUNTERSIGN_TOKEN "
    "or COUNTERSIGN_TOKEN_FILE, an agent's or admin's). See docs/receipts.md. Exit status: 0 "
    "valid (and consumed), 1 invalid or the consumption refused (already consumed, expired, "
    "foreign; the reason is on stderr), 3 any other error (unreadable file, unreachable "
    "server, bad usage).";

constexpr std::chrono::seconds kKeysTimeout(10);
constexpr std::int64_t kLastSecondOf9999 = 253402300799;  // larger times are not shown as dates

std::string Trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// The whole of `path`, or of stdin for "-".
Result<std::string> ReadInput(const std::string& path) {
  if (path == "-") {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (std::cin.bad()) return Error::Unavailable("cannot read stdin");
    return text;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::Unavailable("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error::Unavailable("cannot read " + path);
  return text.str();
}

Result<boost::json::value> ParseJson(const std::string& text, const std::string& what) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  if (ec) return Error::Unavailable(what + " is not valid JSON: " + ec.message());
  return value;
}

Result<boost::json::value> FetchKeys(const std::optional<std::string>& url,
                                     const std::optional<std::string>& ca_file) {
  const char* from_env = std::getenv("COUNTERSIGN_URL");
  const std::string base_url =
      url ? *url : (from_env != nullptr && *from_env != '\0' ? from_env : kDefaultUrl);
  auto ca = CaFileOption(ca_file);
  if (!ca.ok()) return std::move(ca).error();
  HttpClient http(base_url, "", std::move(ca).value());
  auto response = http.Call("GET", "/v1/keys", nullptr, kKeysTimeout);
  if (!response.ok()) return std::move(response).error();
  if (response->status != 200) {
    return Error::Unavailable("countersign at " + base_url + " answered HTTP " +
                              std::to_string(response->status) + " for GET /v1/keys");
  }
  return ParseJson(response->body, "the answer of " + base_url + "/v1/keys");
}

Result<boost::json::value> LoadKeys(const std::optional<std::string>& jwks_file,
                                    const std::optional<std::string>& url,
                                    const std::optional<std::string>& ca_file) {
  if (!jwks_file) return FetchKeys(url, ca_file);
  auto text = ReadInput(*jwks_file);
  if (!text.ok()) return std::move(text).error();
  return ParseJson(text.value(), *jwks_file == "-" ? "stdin" : *jwks_file);
}

std::string TimeText(const boost::json::object& claims, std::string_view key) {
  const auto seconds = IntField(claims, key);
  if (!seconds) return "";
  if (*seconds < 0 || *seconds > kLastSecondOf9999) return std::to_string(*seconds);
  return ShortTime(FormatTime(FromUnixMillis(*seconds * 1000))) + " (" + std::to_string(*seconds) +
         ")";
}

void PrintClaims(std::ostream& out, const ReceiptVerdict& verdict) {
  const boost::json::object& claims = *verdict.claims;
  auto line = [&out](const char* label, const std::string& value) {
    out << "  " << label << value << "\n";
  };
  line("request_id:       ", TextField(claims, "request_id"));
  line("tenant:           ", TextField(claims, "tenant"));
  line("action:           ", TextField(claims, "action"));
  line("arguments_sha256: ", TextField(claims, "arguments_sha256"));
  line("outcome:          ", TextField(claims, "outcome"));
  line("approvers:        ", Join(ArrayField(claims, "approvers"), ", "));
  line("decided_at:       ", TimeText(claims, "decided_at"));
  line("expires (exp):    ", TimeText(claims, "exp"));
  if (claims.contains("not_after")) line("not_after:        ", TimeText(claims, "not_after"));
  if (claims.contains("jti")) line("jti:              ", TextField(claims, "jti"));
  if (claims.contains("receipt_use")) line("receipt_use:      ", TextField(claims, "receipt_use"));
  if (const auto max_uses = IntField(claims, "max_uses")) {
    line("max_uses:         ", std::to_string(*max_uses));
  }
  line("key (kid):        ", DisplaySafe(verdict.kid));
}

// The server's answer to one use of a receipt, and, unless 200, the refusal it is.
struct Consumed {
  ApiAnswer answer;
  std::optional<Error> refusal;
};

Result<Consumed> Consume(const ConnectionOptions& connection, const std::string& token) {
  auto api = connection.Connect();
  if (!api.ok()) return std::move(api).error();
  auto answer = api->PostForAnswer("/v1/receipts/consume", boost::json::object{{"receipt", token}});
  if (!answer.ok()) return std::move(answer).error();
  Consumed out{std::move(answer).value(), std::nullopt};
  if (out.answer.status != 200) out.refusal = api->ErrorFor(out.answer);
  return out;
}

}  // namespace

void ReceiptCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* receipt = parent.add_subcommand("receipt", "Verify signed approval receipts");
  receipt->footer(kVerifyFooter);

  CLI::App* verify = receipt->add_subcommand(
      "verify", "Check a receipt's signature, expiry, action and arguments (exit 0 valid, 1 not)");
  verify->footer(kVerifyFooter);
  verify->add_option("token", token_, "the receipt (a compact JWS), or - to read it from stdin")
      ->required()
      ->type_name("TOKEN");
  auto* jwks = verify->add_option("--jwks", jwks_file_, "read the keys from this JWKS file")
                   ->type_name("FILE");
  verify
      ->add_option("--url", url_,
                   std::string("fetch the keys from this server's GET /v1/keys (env "
                               "COUNTERSIGN_URL, default ") +
                       kDefaultUrl + ")")
      ->type_name("URL")
      ->excludes(jwks);
  AddCaFileOption(*verify, ca_file_);
  verify->add_option("--action", action_, "require the receipt to be for this action")
      ->type_name("ACTION");
  verify
      ->add_option("--arguments", arguments_file_,
                   "require the receipt to approve the JSON arguments in FILE (- for stdin)")
      ->type_name("FILE");
  verify
      ->add_option("--at", at_,
                   "check expiry as of this Unix time in seconds instead of now (for testing)")
      ->type_name("UNIX_SECONDS");
  verify->add_flag("--json", json_, "print the verdict and the claims as JSON");
  verify->add_flag("--consume", consume_,
                   "once valid, consume one use of it through the server's POST "
                   "/v1/receipts/consume (needs an agent's or admin's token)");
  verify->add_option("--token", token_value_, "API token for --consume")->type_name("TOKEN");
  verify->add_option("--token-file", token_file_, "read the API token for --consume from FILE")
      ->type_name("FILE");
  verify->callback([this, &exit_code] { exit_code = RunVerify(); });

  // CLI11 runs this after the subcommand's callback.
  receipt->callback([receipt] {
    if (receipt->get_subcommands().empty()) throw CLI::RequiredError("a subcommand (verify)");
  });
}

int ReceiptCommand::RunVerify() const {
  if ((token_ == "-") + (jwks_file_ == "-") + (arguments_file_ == "-") > 1) {
    std::cerr << "countersign: only one of TOKEN, --jwks and --arguments can be - (stdin)\n";
    return kExitError;
  }
  std::string token = token_;
  if (token == "-") {
    auto read = ReadInput("-");
    if (!read.ok()) return ReportFailure(read.error());
    token = std::move(read).value();
  }
  token = Trim(std::move(token));

  auto keys = LoadKeys(jwks_file_, url_, ca_file_);
  if (!keys.ok()) {
    std::cerr << "countersign: " << keys.error().message << "\n";
    return kExitError;
  }
  auto verifier = ReceiptVerifier::FromJwks(keys.value());
  if (!verifier.ok()) {
    std::cerr << "countersign: " << verifier.error().message << "\n";
    return kExitError;
  }

  ReceiptExpectations expect;
  expect.now_unix_seconds =
      at_ ? *at_
          : std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())
                .time_since_epoch()
                .count();
  expect.action = action_;
  if (arguments_file_) {
    auto text = ReadInput(*arguments_file_);
    if (!text.ok()) return ReportFailure(text.error());
    const std::string what = *arguments_file_ == "-" ? "stdin" : *arguments_file_;
    auto arguments = ParseJson(text.value(), what);
    if (!arguments.ok()) return ReportFailure(arguments.error());
    expect.arguments_sha256 = Sha256Hex(CanonicalJson(arguments.value()));
  }

  const ReceiptVerdict verdict = verifier->Verify(token, expect);
  // Only a receipt valid here is worth a use: the server checks it again anyway.
  std::optional<Consumed> consumed;
  if (consume_ && verdict.valid()) {
    ConnectionOptions connection;
    connection.url = url_;
    connection.ca_file = ca_file_;
    connection.token = token_value_;
    connection.token_file = token_file_;
    auto answer = Consume(connection, token);
    if (!answer.ok()) return ReportFailure(answer.error());
    consumed = std::move(answer).value();
  }
  if (json_) {
    boost::json::object out;
    out["valid"] = verdict.valid();
    out["fault"] = verdict.fault ? boost::json::value(ReceiptFaultName(*verdict.fault))
                                 : boost::json::value(nullptr);
    out["reason"] =
        verdict.valid() ? boost::json::value(nullptr) : boost::json::value(verdict.reason);
    out["kid"] =
        verdict.kid.empty() ? boost::json::value(nullptr) : boost::json::value(verdict.kid);
    out["claims"] =
        verdict.claims ? boost::json::value(*verdict.claims) : boost::json::value(nullptr);
    if (consume_) {
      out["consume"] =
          consumed ? boost::json::value(boost::json::object{{"status", consumed->answer.status},
                                                            {"answer", consumed->answer.body}})
                   : boost::json::value(nullptr);
    }
    std::cout << boost::json::serialize(out) << "\n";
  } else if (verdict.valid()) {
    std::cout << "valid receipt\n";
    PrintClaims(std::cout, verdict);
  }
  if (!verdict.valid()) {
    std::cerr << "countersign: invalid receipt (" << ReceiptFaultName(*verdict.fault)
              << "): " << DisplaySafe(verdict.reason) << "\n";
    return kExitRefused;
  }
  if (consumed) {
    if (consumed->refusal) {
      std::cerr << "countersign: not consumed: " << DisplaySafe(consumed->refusal->message) << "\n";
      return ExitCodeFor(*consumed->refusal);
    }
    if (!json_) {
      const boost::json::object& body = consumed->answer.body;
      std::cout << "  consumed:         use " << IntField(body, "uses").value_or(0) << " of "
                << IntField(body, "max_uses").value_or(0) << ", by "
                << TextField(body, "consumed_by") << "\n";
    }
  }
  return kExitOk;
}

}  // namespace countersign

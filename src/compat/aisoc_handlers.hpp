// AisocHandlers: the AiSOC ChatOps verification API (seeds/000_...), a thin layer over the
// same Gateway as the v1 API.
//
//   POST /v1/verifications              a verification request (kind "verification": choices
//                                       acknowledge / deny / escalate), its prompt posted to
//                                       the caller's Slack or Teams webhook, then 202
//                                       {"status": "running", ...}; never waits for the human
//   GET  /api/v1/chatops/callback?token the confirm page of one choice (LinkHandlers::Show:
//                                       changes nothing)
//   POST /api/v1/chatops/callback?token the decision, as the verification's user
//                                       (LinkHandlers::Submit)
//   GET  /v1/cases/{case_id}/timeline   the case's chatops.verify.prompted / .responded
//                                       entries, oldest first, from the audit log
//
// A verification is a request of action "chatops.verify" in session "case:<case_id>", its
// approvers [user_ref], its timeout [compat.aisoc] timeout_seconds (cut to the matching
// policy's timeout, like any request's: the built-in policy's is the server default, 300 s),
// its details the case id, the AiSOC tenant_id, user_ref, transport, channel, context and
// rationale. Each prompt button opens a callback URL carrying a LinkSigner token for one
// choice (recipient user_ref, expiry the deadline). The prompt is sent from the adapter's
// AisocSender threads while the handler's coroutine waits, so no io thread blocks on a chat
// server. An undelivered prompt cancels the request through the Gateway (reason on the
// record) and answers 502. A delivered one adds the chatops.verify.prompted audit event
// (Gateway::Note) and, with timeline_url, POSTs the timeline entry there, signed like
// callback_url POSTs; the entry of a decision made through the callback follows when it is
// recorded. A timeline_url failure is a "timeline_warning" and a chatops.verify.timeline_failed
// audit event, never a failed verification.
//
// Errors of POST /v1/verifications are {"status": "failed", "error": "..."}; the other routes
// answer {"error": "..."} (the callback pages are LinkHandlers' HTML pages). Calls act as
// CompatCaller says. With the adapter off, every route answers 404 saying how to enable it.
// Thread-safe; everything passed in must outlive the handlers.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "auth/authenticator.hpp"
#include "auth/link_signer.hpp"
#include "compat/aisoc_host_allow_list.hpp"
#include "compat/aisoc_prompt.hpp"
#include "compat/aisoc_sender.hpp"
#include "compat/compat_caller.hpp"
#include "compat/compat_options.hpp"
#include "core/public_url.hpp"
#include "engine/gateway.hpp"
#include "http/link_handlers.hpp"
#include "http/router.hpp"
#include "notify/http_transport.hpp"
#include "notify/webhook_channel.hpp"

namespace countersign {

// What the adapter needs to know about the server it runs in.
struct AisocServerFacts {
  bool auth_on = true;
  std::string callback_secret;  // signs timeline_url POSTs, as it signs callback_url POSTs
  std::chrono::milliseconds call_timeout{10000};  // per prompt or timeline POST
};

class AisocHandlers {
 public:
  struct Verification;  // a parsed POST /v1/verifications body (defined in the .cpp)

  AisocHandlers(Gateway& gateway, const Clock& clock, IdGenerator& ids,
                Authenticator& authenticator, LinkHandlers& links, const LinkSigner& signer,
                HttpTransport& transport, const PublicUrl& public_url, AisocOptions options,
                AisocServerFacts server);

  // Adds the routes (answering 404 while the adapter is off) and logs how it is set up;
  // `loopback`: the server listens on loopback only.
  void Register(Router& router, bool loopback);

  asio::awaitable<HttpResponse> CreateVerification(RequestContext& ctx);
  asio::awaitable<HttpResponse> ShowCallback(RequestContext& ctx);
  asio::awaitable<HttpResponse> SubmitCallback(RequestContext& ctx);
  asio::awaitable<HttpResponse> CaseTimeline(RequestContext& ctx);

 private:
  // After the request exists: delivers the prompt and answers 202, or cancels the request
  // and answers 502.
  asio::awaitable<HttpResponse> Prompt(Gateway::RequestPtr r, Actor actor, const Verification& in);
  // Renders and posts the prompt; `done` gets what the delivery came to, or why it failed.
  void Deliver(const Request& view, const AisocPromptTarget& target, const std::string& recipient,
               std::function<void(Result<boost::json::object>)> done);
  // After delivery: the chatops.verify.prompted note with `note` as its data, then, with a
  // `timeline_url`, its timeline entry POSTed there. `done` gets "" or the timeline_warning.
  void RecordPrompt(Gateway::RequestPtr r, std::string actor, boost::json::object note,
                    std::string timeline_url, std::string case_id,
                    std::function<void(std::string)> done);
  // POSTs timeline `entry` (made by event `e` of `r`) for `case_id` to `url`; `done` gets ""
  // or the warning, once a failure is also on the record (a chatops.verify.timeline_failed
  // note). `done` runs on a sender thread, the store's writer thread or the caller's.
  void SendTimeline(const Request& r, const std::string& url, const std::string& case_id,
                    const Event& e, boost::json::object entry,
                    std::function<void(std::string warning)> done);
  // After a callback POST recorded a decision: its timeline entry to the timeline_url the
  // verification was given, if any (best effort, not awaited).
  // Reads the store: runs on the read executor.
  void SendResponded(const std::string& token);
  // A case's timeline entries, by event seq (the order recorded); kNotFound when the case has
  // no verification the actor may see. Reads the store: runs on the read executor.
  using Timeline = std::vector<std::pair<int64_t, boost::json::object>>;
  Result<Timeline> CollectTimeline(const Actor& actor, const std::string& case_id);
  // The callback page with its anti-CSRF cookie scoped to the callback path, which is where
  // the page's form posts.
  HttpResponse ScopeCookie(HttpResponse page) const;

  Gateway& gateway_;
  const Clock& clock_;
  IdGenerator& ids_;
  Authenticator& authenticator_;
  LinkHandlers& links_;
  const LinkSigner& signer_;
  const PublicUrl public_url_;
  const AisocOptions options_;
  const AisocServerFacts server_;
  const CompatIdentity identity_;
  const AisocHostAllowList allow_hosts_;
  const AisocPrompt prompt_;
  const WebhookChannel timeline_;
  // Last, so it is the first to go: its threads finish their calls while the rest still
  // exists.
  AisocSender sender_;
};

}  // namespace countersign

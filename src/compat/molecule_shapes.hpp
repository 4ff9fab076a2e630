// Molecule wire shapes: how countersign requests and events look to the Molecule platform's
// approval clients (seeds 002 and 003), and how Molecule's names map onto countersign's.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/event.hpp"
#include "core/request.hpp"

namespace countersign {

// The longest workspace id: "molecule:" + id must fit a request's 128-byte session.
inline constexpr size_t kMaxWorkspaceId = 119;

// "molecule:<ws>": the session a workspace's requests are made in, and the agent principal
// its anonymous calls act as.
std::string MoleculeSession(std::string_view workspace);

// Whether `workspace` can name a workspace: 1 to kMaxWorkspaceId printable bytes.
bool IsValidWorkspaceId(std::string_view workspace);

// A countersign action name for Molecule's free-text action: "Wipe production DB" becomes
// "molecule.wipe_production_db" (ASCII letters and digits lower-cased, every run of anything
// else one '_', at most 128 bytes in all); text without a letter or digit becomes
// "molecule.action". Policies match these names ("molecule.wipe_*").
std::string MoleculeActionName(std::string_view text);

// One element of GET /workspaces/{ws}/approvals:
// {"id", "action" (the original text), "reason", "status", "decided_by", "created_at"}.
boost::json::object MoleculeApprovalJson(const Request& r);

// Who resolved `r` as Molecule shows it: the deciders joined with ", " (or the canceller, or
// the "policy:NAME" / "grant:ID" that decided automatically); null while pending and after
// expiry.
boost::json::value MoleculeDecidedBy(const Request& r);

// The /ws message for an event that resolved a request (request.resolved, request.expired,
// request.cancelled): {"event": "APPROVAL_DECIDED", "approval_id", "status", "decided_by",
// "reason_code"} as JSON text, decided_by as MoleculeDecidedBy() gives it, reason_code the
// event's (null for an event recorded before reason codes). nullopt for any other event.
std::optional<std::string> MoleculeDecidedMessage(const Event& event);

}  // namespace countersign

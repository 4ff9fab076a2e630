#include "compat/molecule_shapes.hpp"

#include <algorithm>
#include <vector>

#include <boost/json/serialize.hpp>

#include "core/time_format.hpp"

namespace countersign {
namespace {

constexpr std::string_view kActionPrefix = "molecule.";
constexpr size_t kMaxActionName = 128;

std::string Joined(const boost::json::array& names) {
  std::string out;
  for (const auto& name : names) {
    if (!name.is_string()) continue;
    if (!out.empty()) out += ", ";
    out += name.get_string();
  }
  return out;
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

std::string MoleculeSession(std::string_view workspace) {
  return "molecule:" + std::string(workspace);
}

bool IsValidWorkspaceId(std::string_view workspace) {
  if (workspace.empty() || workspace.size() > kMaxWorkspaceId) return false;
  for (unsigned char c : workspace) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::string MoleculeActionName(std::string_view text) {
  std::string name(kActionPrefix);
  bool gap = false;
  for (unsigned char c : text) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) {
      gap = true;
      continue;
    }
    if (gap && name.size() > kActionPrefix.size()) name += '_';
    gap = false;
    name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (name.size() >= kMaxActionName) break;
  }
  if (name.size() == kActionPrefix.size()) name += "action";
  name.resize(std::min(name.size(), kMaxActionName));
  return name;
}

boost::json::value MoleculeDecidedBy(const Request& r) {
  if (r.resolved_by.empty()) return nullptr;
  return boost::json::string(Joined(r.resolved_by));
}

boost::json::object MoleculeApprovalJson(const Request& r) {
  const auto* reason = r.details.if_contains("reason");
  return {{"id", r.id},
          {"action", r.title},
          {"reason", reason && reason->is_string() ? reason->get_string() : ""},
          {"status", StatusName(r.status)},
          {"decided_by", MoleculeDecidedBy(r)},
          {"created_at", FormatTime(r.created_at)}};
}

std::optional<std::string> MoleculeDecidedMessage(const Event& event) {
  std::string status;
  boost::json::value decided_by = nullptr;
  if (event.type == "request.resolved" || event.type == "request.expired") {
    const auto* s = event.data.if_contains("status");
    if (!s || !s->is_string()) return std::nullopt;
    status = s->get_string();
    const auto* by = event.data.if_contains("resolved_by");
    if (by && by->is_array() && !by->get_array().empty()) {
      decided_by = boost::json::string(Joined(by->get_array()));
    }
  } else if (event.type == "request.cancelled") {
    status = StatusName(RequestStatus::kCancelled);
    decided_by = boost::json::string(event.actor);
  } else {
    return std::nullopt;
  }
  // An extra member the Molecule client ignores; events recorded before reason codes have none.
  boost::json::value reason_code = nullptr;
  if (const auto* code = event.data.if_contains("reason_code"); code && code->is_string()) {
    reason_code = *code;
  }
  return boost::json::serialize(boost::json::object{{"event", "APPROVAL_DECIDED"},
                                                    {"approval_id", event.request_id},
                                                    {"status", status},
                                                    {"decided_by", std::move(decided_by)},
                                                    {"reason_code", std::move(reason_code)}});
}

}  // namespace countersign

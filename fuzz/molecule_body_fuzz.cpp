// Fuzzes the Molecule adapter's inputs (compat/molecule_shapes.hpp): a POST
// /workspaces/{ws}/approvals body through ParseJsonBody, its free-text action through
// MoleculeActionName, and the raw bytes as a workspace id. Invariants: an action name is
// "molecule." and then only [a-z0-9_], at most 128 bytes; a valid workspace id makes a
// session of at most 128 bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "compat/molecule_shapes.hpp"
#include "http/responses.hpp"

namespace {

void CheckActionName(std::string_view text) {
  const std::string name = countersign::MoleculeActionName(text);
  constexpr std::string_view kPrefix = "molecule.";
  if (!name.starts_with(kPrefix) || name.size() > 128 || name.size() == kPrefix.size()) {
    __builtin_trap();
  }
  for (const char c : std::string_view(name).substr(kPrefix.size())) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (IsValidWorkspaceId(text) && MoleculeSession(text).size() > 128) __builtin_trap();
  CheckActionName(text);

  HttpRequest request{http::verb::post, "/workspaces/ws-1/approvals", 11};
  request.set(http::field::content_type, "application/json");
  request.body() = std::string(text);
  auto body = ParseJsonBody(request, false);
  if (!body.ok() || !body->is_object()) return 0;
  for (const char* key : {"action", "reason"}) {
    const auto* field = body->get_object().if_contains(key);
    if (field && field->is_string()) CheckActionName(field->get_string());
  }
  return 0;
}

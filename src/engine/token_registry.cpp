#include "engine/token_registry.hpp"

#include <memory>

#include "auth/token.hpp"
#include "core/request_json.hpp"
#include "store/write_sync.hpp"

namespace countersign {
namespace {

bool IsPrintableName(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (unsigned char c : s) {
    if (c < 0x21 || c == 0x7f) return false;
  }
  return true;
}

bool MayManage(const Actor& actor, const std::string& tenant) {
  return actor.IsOperator() || (actor.role == Role::kAdmin && actor.tenant == tenant);
}

}  // namespace

void TokenRegistry::Create(const Actor& actor, NewToken input,
                           std::function<void(Result<IssuedToken>)> done) {
  if (input.tenant.empty()) input.tenant = actor.tenant;
  if (!MayManage(actor, input.tenant)) {
    done(Error::Forbidden("only an admin may create tokens for tenant " + input.tenant));
    return;
  }
  if (!IsPrintableName(input.name, 128)) {
    done(Error::Invalid("name must be 1 to 128 printable bytes without spaces"));
    return;
  }
  if (!IsPrintableName(input.tenant, 64)) {
    done(Error::Invalid("tenant must be 1 to 64 printable bytes without spaces"));
    return;
  }
  for (const auto& g : input.groups) {
    if (!IsPrintableName(g, 64)) {
      done(Error::Invalid("each group must be 1 to 64 printable bytes without spaces"));
      return;
    }
  }
  auto issued = std::make_shared<IssuedToken>();
  issued->token = GenerateToken();
  Principal& p = issued->principal;
  p.id = ids_.Next("tok_");
  p.name = std::move(input.name);
  p.role = input.role;
  p.tenant = std::move(input.tenant);
  p.groups = std::move(input.groups);
  p.token_sha256 = HashToken(issued->token);
  p.created_at = clock_.Now();
  const std::string actor_name = actor.name;
  store_.Write(
      [issued, actor_name](Transaction& txn) -> Status {
        const Principal& p = issued->principal;
        CS_RETURN_IF_ERROR(txn.InsertPrincipal(p));
        auto event = txn.AppendEvent({p.created_at,
                                      p.tenant,
                                      "",
                                      "token.created",
                                      actor_name,
                                      {{"token_id", p.id},
                                       {"name", p.name},
                                       {"role", RoleName(p.role)},
                                       {"groups", StringsToJson(p.groups)}}});
        if (!event.ok()) return std::move(event).error();
        return Ok();
      },
      [issued, done = std::move(done)](Status s) {
        if (!s.ok()) {
          done(std::move(s).error());
          return;
        }
        done(std::move(*issued));
      });
}

Result<std::vector<Principal>> TokenRegistry::List(const Actor& actor) {
  if (actor.role != Role::kAdmin) return Error::Forbidden("only an admin may list tokens");
  return store_.ListPrincipals(actor.IsOperator() ? "" : actor.tenant);
}

void TokenRegistry::Revoke(const Actor& actor, std::string id, std::function<void(Status)> done) {
  if (actor.role != Role::kAdmin) {
    done(Error::Forbidden("only an admin may revoke tokens"));
    return;
  }
  const std::string scope = actor.IsOperator() ? "" : actor.tenant;
  // The revocation is recorded in the token's own tenant, where its use was audited.
  auto listed = store_.ListPrincipals(scope);
  if (!listed.ok()) {
    done(std::move(listed).error());
    return;
  }
  std::string tenant;
  for (const auto& p : listed.value()) {
    if (p.id == id && !p.revoked_at) tenant = p.tenant;
  }
  if (tenant.empty()) {
    done(Error::NotFound("no active token " + Echo(id)));
    return;
  }
  const TimePoint now = clock_.Now();
  const std::string actor_name = actor.name;
  store_.Write(
      [scope, id, now, actor_name, tenant](Transaction& txn) -> Status {
        auto changed = txn.RevokePrincipal(scope, id, now);
        if (!changed.ok()) return std::move(changed).error();
        if (!changed.value()) return Error::NotFound("no active token " + Echo(id));
        auto event =
            txn.AppendEvent({now, tenant, "", "token.revoked", actor_name, {{"token_id", id}}});
        if (!event.ok()) return std::move(event).error();
        return Ok();
      },
      [this, done = std::move(done)](Status s) {
        if (s.ok() && on_revoked_) on_revoked_();
        done(std::move(s));
      });
}

Result<bool> TokenRegistry::NeedsBootstrapAdmin() {
  auto existing = store_.ListPrincipals(kOperatorTenant);
  if (!existing.ok()) return std::move(existing).error();
  for (const auto& p : existing.value()) {
    if (p.role == Role::kAdmin && !p.revoked_at) return false;
  }
  return true;
}

Status TokenRegistry::BootstrapAdmin(const std::string& token) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  auto principal = std::make_shared<Principal>();
  principal->id = ids_.Next("tok_");
  principal->name = "admin";
  principal->role = Role::kAdmin;
  principal->tenant = kOperatorTenant;
  principal->token_sha256 = HashToken(token);
  principal->created_at = clock_.Now();
  store_.Write(
      [principal](Transaction& txn) -> Status {
        CS_RETURN_IF_ERROR(txn.InsertPrincipal(*principal));
        auto event = txn.AppendEvent({principal->created_at,
                                      principal->tenant,
                                      "",
                                      "token.created",
                                      "system",
                                      {{"token_id", principal->id},
                                       {"name", principal->name},
                                       {"role", "admin"},
                                       {"groups", boost::json::array()},
                                       {"reason", "no active admin at start-up"}}});
        if (!event.ok()) return std::move(event).error();
        return Ok();
      },
      [promise](Status s) { promise->set_value(std::move(s)); });
  return future.get();
}

}  // namespace countersign

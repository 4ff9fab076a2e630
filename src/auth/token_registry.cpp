#include "auth/token_registry.hpp"

#include <memory>

#include "auth/token.hpp"
#include "core/request_json.hpp"
#include "store/write_sync.hpp"

namespace countersign {
namespace {

constexpr char kOperatorTenant[] = "default";

bool IsPrintableName(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (unsigned char c : s) {
    if (c < 0x21 || c == 0x7f) return false;
  }
  return true;
}

// Admins of the default tenant run the installation and manage every tenant's tokens;
// admins of any other tenant manage only their own.
bool MayManage(const Actor& actor, const std::string& tenant) {
  return actor.role == Role::kAdmin && (actor.tenant == kOperatorTenant || actor.tenant == tenant);
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
  return store_.ListPrincipals(actor.tenant == kOperatorTenant ? "" : actor.tenant);
}

void TokenRegistry::Revoke(const Actor& actor, std::string id, std::function<void(Status)> done) {
  if (actor.role != Role::kAdmin) {
    done(Error::Forbidden("only an admin may revoke tokens"));
    return;
  }
  const std::string scope = actor.tenant == kOperatorTenant ? "" : actor.tenant;
  const TimePoint now = clock_.Now();
  const std::string actor_name = actor.name;
  const std::string actor_tenant = actor.tenant;
  store_.Write(
      [scope, id, now, actor_name, actor_tenant](Transaction& txn) -> Status {
        auto changed = txn.RevokePrincipal(scope, id, now);
        if (!changed.ok()) return std::move(changed).error();
        if (!changed.value()) return Error::NotFound("no active token " + id);
        auto event = txn.AppendEvent(
            {now, actor_tenant, "", "token.revoked", actor_name, {{"token_id", id}}});
        if (!event.ok()) return std::move(event).error();
        return Ok();
      },
      std::move(done));
}

Result<std::string> TokenRegistry::BootstrapAdmin() {
  auto existing = store_.ListPrincipals("");
  if (!existing.ok()) return std::move(existing).error();
  if (!existing->empty()) return std::string();
  auto promise = std::make_shared<std::promise<Result<IssuedToken>>>();
  auto future = promise->get_future();
  Create(Actor{"bootstrap", Role::kAdmin, kOperatorTenant, {}},
         NewToken{"admin", Role::kAdmin, kOperatorTenant, {}},
         [promise](Result<IssuedToken> r) { promise->set_value(std::move(r)); });
  auto issued = future.get();
  if (!issued.ok()) return std::move(issued).error();
  return issued->token;
}

}  // namespace countersign

#include "auth/token_authenticator.hpp"

#include <gtest/gtest.h>

#include "auth/token.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/write_sync.hpp"
#include "testing/fake_clock.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;

class TokenAuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteStoreOptions options;
    options.path = dir_.File("cs.db");
    auto opened = SqliteStore::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
    token_ = GenerateToken();
    Principal p;
    p.id = "tok_1";
    p.name = "alice";
    p.role = Role::kApprover;
    p.groups = {"sre"};
    p.token_sha256 = HashToken(token_);
    p.created_at = clock_.Now();
    ASSERT_TRUE(WriteSync(*store_, [p](Transaction& txn) { return txn.InsertPrincipal(p); }).ok());
  }

  void RevokeInStore() {
    const TimePoint now = clock_.Now();
    ASSERT_TRUE(WriteSync(*store_, [now](Transaction& txn) -> Status {
                  auto r = txn.RevokePrincipal("", "tok_1", now);
                  if (!r.ok()) return std::move(r).error();
                  return Ok();
                }).ok());
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<SqliteStore> store_;
  std::string token_;
};

TEST_F(TokenAuthenticatorTest, ABearerTokenBecomesItsPrincipal) {
  TokenAuthenticator auth(*store_, clock_);
  auto actor = auth.Authenticate("Bearer " + token_);
  ASSERT_TRUE(actor.ok()) << actor.error().message;
  EXPECT_EQ(actor->name, "alice");
  EXPECT_EQ(actor->role, Role::kApprover);
  EXPECT_TRUE(actor->InGroup("sre"));
  EXPECT_TRUE(auth.Authenticate("bearer " + token_).ok());
}

TEST_F(TokenAuthenticatorTest, MissingMalformedAndUnknownCredentialsAreUnauthorized) {
  TokenAuthenticator auth(*store_, clock_);
  for (const std::string header : {"", "Basic YWxpY2U6eA==", "Bearer ", "Bearer cs_nope"}) {
    auto actor = auth.Authenticate(header);
    ASSERT_FALSE(actor.ok()) << header;
    EXPECT_EQ(actor.error().code, ErrorCode::kUnauthorized);
  }
}

TEST_F(TokenAuthenticatorTest, ACachedTokenRevokedElsewhereStopsWorkingWhenItsEntryExpires) {
  TokenAuthenticator auth(*store_, clock_, 5s);
  ASSERT_TRUE(auth.Authenticate("Bearer " + token_).ok());
  RevokeInStore();
  // Another process revoked it: this one trusts its cache for at most the TTL.
  EXPECT_TRUE(auth.Authenticate("Bearer " + token_).ok());
  clock_.Advance(5s);
  auto after = auth.Authenticate("Bearer " + token_);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, ErrorCode::kUnauthorized);
}

TEST_F(TokenAuthenticatorTest, ForgetMakesARevocationTakeEffectAtOnce) {
  TokenAuthenticator auth(*store_, clock_, 5s);
  ASSERT_TRUE(auth.Authenticate("Bearer " + token_).ok());
  RevokeInStore();
  auth.Forget();
  EXPECT_FALSE(auth.Authenticate("Bearer " + token_).ok());
}

}  // namespace
}  // namespace countersign

#include "auth/link_signer.hpp"

#include <sys/stat.h>

#include <cctype>
#include <fstream>
#include <iterator>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/base64url.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;

const std::string kKey(32, 'k');

LinkClaims Claims() {
  return {"default", "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V", "approve", "alice", TimePoint(1795255200s)};
}

std::string Payload(const std::string& token) {
  return *Base64UrlDecode(token.substr(0, token.find('.')));
}

std::string Mac(const std::string& token) { return token.substr(token.find('.') + 1); }

TEST(LinkSignerTest, VerifyReturnsTheSignedClaims) {
  LinkSigner signer(kKey);
  const std::string token = signer.Sign(Claims());
  auto claims = signer.Verify(token);
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->tenant, "default");
  EXPECT_EQ(claims->request_id, "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V");
  EXPECT_EQ(claims->choice, "approve");
  EXPECT_EQ(claims->recipient, "alice");
  EXPECT_EQ(claims->expires_at, TimePoint(1795255200s));
}

TEST(LinkSignerTest, TokenIsShortAndUrlSafe) {
  const std::string token = LinkSigner(kKey).Sign(Claims());
  EXPECT_LE(token.size(), 120u) << token;
  for (char c : token) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')
        << token;
  }
}

TEST(LinkSignerTest, SigningDropsSubsecondsAndClampsTimesBeforeTheEpoch) {
  LinkSigner signer(kKey);
  LinkClaims claims = Claims();
  claims.expires_at = TimePoint(1795255200s) + 999ms;
  EXPECT_EQ(signer.Verify(signer.Sign(claims))->expires_at, TimePoint(1795255200s));
  claims.expires_at = TimePoint(-5s);
  EXPECT_EQ(signer.Verify(signer.Sign(claims))->expires_at, TimePoint(0s));
}

TEST(LinkSignerTest, NamesWithAnyBytesRoundTrip) {
  LinkSigner signer(kKey);
  LinkClaims claims = Claims();
  claims.recipient = std::string("a.b|c\0d\xff", 9) + std::string(300, 'x');
  claims.tenant = "t\xc3\xa9nant";
  auto verified = signer.Verify(signer.Sign(claims));
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->recipient, claims.recipient);
  EXPECT_EQ(verified->tenant, claims.tenant);
}

TEST(LinkSignerTest, ChangingAnyClaimChangesTheTokenAndTheOldMacNoLongerFits) {
  LinkSigner signer(kKey);
  const std::string original = signer.Sign(Claims());
  std::vector<LinkClaims> variants(5, Claims());
  variants[0].tenant = "other";
  variants[1].request_id = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2W";
  variants[2].choice = "deny";
  variants[3].recipient = "bob";
  variants[4].expires_at += 1s;
  for (const auto& variant : variants) {
    const std::string forged = signer.Sign(variant);
    ASSERT_NE(forged, original);
    // The tampered claims with the original MAC: what an attacker editing the link can make.
    const std::string spliced = forged.substr(0, forged.find('.')) + "." + Mac(original);
    auto verified = signer.Verify(spliced);
    ASSERT_FALSE(verified.ok()) << spliced;
    EXPECT_EQ(verified.error().code, ErrorCode::kUnauthorized);
  }
}

TEST(LinkSignerTest, EveryFlippedBitIsRefused) {
  LinkSigner signer(kKey);
  const std::string token = signer.Sign(Claims());
  const std::string payload = Payload(token);
  for (size_t i = 0; i < payload.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string changed = payload;
      changed[i] = static_cast<char>(changed[i] ^ (1 << bit));
      EXPECT_FALSE(signer.Verify(Base64UrlEncode(changed) + "." + Mac(token)).ok()) << i;
    }
  }
  std::string mac = *Base64UrlDecode(Mac(token));
  for (size_t i = 0; i < mac.size(); ++i) {
    std::string changed = mac;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_FALSE(
        signer.Verify(token.substr(0, token.find('.') + 1) + Base64UrlEncode(changed)).ok());
  }
}

TEST(LinkSignerTest, TruncatedTokensAreRefused) {
  LinkSigner signer(kKey);
  const std::string token = signer.Sign(Claims());
  for (size_t n = 0; n < token.size(); ++n) {
    EXPECT_FALSE(signer.Verify(token.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(signer.Verify(token + "A").ok());
  EXPECT_FALSE(signer.Verify(token.substr(1)).ok());
}

TEST(LinkSignerTest, AnotherKeyRefusesTheToken) {
  const std::string token = LinkSigner(kKey).Sign(Claims());
  auto verified = LinkSigner(std::string(32, 'j')).Verify(token);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, ErrorCode::kUnauthorized);
}

TEST(LinkSignerTest, GarbageIsRefusedWithoutCrashing) {
  LinkSigner signer(kKey);
  for (std::string_view garbage :
       {"", ".", "..", "a.b", "a.b.c", "%%%.%%%", "AAAA", "AAAA.", ".AAAA",
        "====.====", "AQ.AAAAAAAAAAAAAAAAAAAAAA", "\xff\xfe.\x00", "a b.c d"}) {
    auto verified = signer.Verify(garbage);
    ASSERT_FALSE(verified.ok()) << garbage;
    EXPECT_EQ(verified.error().code, ErrorCode::kUnauthorized);
  }
  EXPECT_FALSE(signer.Verify(std::string(LinkSigner::kMaxTokenChars + 1, 'A')).ok());
}

// Signs arbitrary payload bytes with kKey, exactly as LinkSigner does, to reach its parser.
std::string SignRaw(const std::string& payload) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), kKey.data(), static_cast<int>(kKey.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest, &length);
  return Base64UrlEncode(payload) + "." +
         Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), 16));
}

TEST(LinkSignerTest, SignRawMatchesTheSigner) {
  const std::string token = LinkSigner(kKey).Sign(Claims());
  EXPECT_EQ(SignRaw(Payload(token)), token);
}

// With the right key, a payload that does not parse must still be refused cleanly: no input
// may reach undefined behaviour (the sanitizer build runs this too).
TEST(LinkSignerTest, AuthenticButMalformedPayloadsAreRefused) {
  LinkSigner signer(kKey);
  const std::string good = Payload(signer.Sign(Claims()));
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(signer.Verify(SignRaw(good.substr(0, n))).ok()) << n;
  }
  const std::vector<std::string> bad = {
      good + "x",                                     // trailing bytes
      std::string("\x02") + good.substr(1),           // unknown version
      std::string("\x01\x00", 2) + good.substr(9),    // empty tenant
      std::string("\x01\xff\xff\xff\xff\x0f", 6),     // length far past the end
      std::string("\x01\x87\x00", 3),                 // overlong varint
      std::string("\x01") + std::string(11, '\xff'),  // varint longer than 64 bits
      std::string("\x01\x01t\x01r\x01"
                  "c\x01"
                  "a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
                  19),
  };
  for (const auto& payload : bad) {
    auto verified = signer.Verify(SignRaw(payload));
    ASSERT_FALSE(verified.ok()) << Base64UrlEncode(payload);
    EXPECT_EQ(verified.error().code, ErrorCode::kUnauthorized);
  }
  // A well-formed payload written by hand parses: the format is what the header says.
  auto parsed =
      signer.Verify(SignRaw(std::string("\x01\x01t\x01r\x01"
                                        "c\x01"
                                        "a\x05",
                                        10)));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->tenant, "t");
  EXPECT_EQ(parsed->request_id, "r");
  EXPECT_EQ(parsed->choice, "c");
  EXPECT_EQ(parsed->recipient, "a");
  EXPECT_EQ(parsed->expires_at, TimePoint(5s));
}

TEST(LinkSignerTest, LoadOrCreateWritesAPrivateKeyAndReloadsTheSameOne) {
  testing::TempDir dir;
  auto first = LinkSigner::LoadOrCreate(dir.path());
  ASSERT_TRUE(first.ok()) << first.error().message;
  const auto path = dir.path() / LinkSigner::kKeyFileName;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_EQ(st.st_size, static_cast<off_t>(LinkSigner::kKeyBytes));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "link_key.new"));

  const std::string token = first->Sign(Claims());
  auto second = LinkSigner::LoadOrCreate(dir.path());
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_TRUE(second->Verify(token).ok());
  auto loaded = LinkSigner::Load(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->Sign(Claims()), token);
}

TEST(LinkSignerTest, TwoDataDirectoriesGetDifferentKeys) {
  testing::TempDir a;
  testing::TempDir b;
  const std::string token = LinkSigner::LoadOrCreate(a.path())->Sign(Claims());
  EXPECT_FALSE(LinkSigner::LoadOrCreate(b.path())->Verify(token).ok());
}

TEST(LinkSignerTest, LoadDoesNotCreateAMissingKey) {
  testing::TempDir dir;
  auto loaded = LinkSigner::Load(dir.path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, ErrorCode::kNotFound);
  EXPECT_NE(loaded.error().message.find("link_key"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / LinkSigner::kKeyFileName));
}

TEST(LinkSignerTest, AShortKeyFileIsRefusedNamingTheFile) {
  testing::TempDir dir;
  {
    std::ofstream out(dir.File(LinkSigner::kKeyFileName));
    out << "too short";
  }
  auto loaded = LinkSigner::LoadOrCreate(dir.path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, ErrorCode::kInvalid);
  EXPECT_NE(loaded.error().message.find("link_key"), std::string::npos);
}

}  // namespace
}  // namespace countersign

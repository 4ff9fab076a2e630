#include "auth/ed25519_receipt_signer.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "auth/base64url.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;

// RFC 8037 Appendix A.1: the example Ed25519 key, its x, and (A.3) its RFC 7638 thumbprint.
constexpr char kRfcD[] = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
constexpr char kRfcX[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
constexpr char kRfcThumbprint[] = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

struct Jws {
  std::string signing_input;
  std::string header;
  std::string payload;
  std::string signature;
};

Jws Split(const std::string& token) {
  const size_t a = token.find('.');
  const size_t b = token.find('.', a + 1);
  Jws jws;
  jws.signing_input = token.substr(0, b);
  jws.header = Base64UrlDecode(token.substr(0, a)).value_or("");
  jws.payload = Base64UrlDecode(token.substr(a + 1, b - a - 1)).value_or("");
  jws.signature = Base64UrlDecode(token.substr(b + 1)).value_or("");
  return jws;
}

// Verifies like an outside verifier would: from the JWKS's x alone, with plain OpenSSL.
bool VerifyWithJwksX(const boost::json::object& jwks, const std::string& signing_input,
                     const std::string& signature) {
  const auto& key = jwks.at("keys").get_array().at(0).get_object();
  const auto x = Base64UrlDecode(std::string(key.at("x").get_string()));
  if (!x || x->size() != 32) return false;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                  reinterpret_cast<const unsigned char*>(x->data()), x->size()),
      &EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  return pkey && ctx &&
         EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

std::string PemOf(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  EXPECT_EQ(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// A new Ed25519 key, made by OpenSSL.
std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> FreshKey() {
  return {EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), &EVP_PKEY_free};
}

std::string RfcKeyPem() {
  const std::string d = Base64UrlDecode(kRfcD).value();
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                   reinterpret_cast<const unsigned char*>(d.data()), d.size()),
      &EVP_PKEY_free);
  return PemOf(key.get());
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

ReceiptClaims ExampleClaims() {
  ReceiptClaims c;
  c.request_id = "req_01M7YQ0KET0372EXW812BTE32A";
  c.tenant = "default";
  c.action = "deploy_production";
  c.arguments_sha256 = "a2578fe60ff2789048626f36128d2ce39996eb00ec6ecda4e7deae0bf182a48f";
  c.outcome = "approved";
  c.approvers = {"alice", "bob"};
  c.decided_at = FromUnixMillis(1795253359358);
  c.exp = c.decided_at + 15min;
  return c;
}

TEST(Ed25519ReceiptSignerTest, AReceiptVerifiesWithNothingButTheJwksX) {
  testing::TempDir dir;
  auto signer = Ed25519ReceiptSigner::LoadOrCreate(dir.path());
  ASSERT_TRUE(signer.ok()) << signer.error().message;
  const std::string token = (*signer)->Sign(ExampleClaims());
  const Jws jws = Split(token);
  EXPECT_EQ(jws.signature.size(), 64u);
  EXPECT_TRUE(VerifyWithJwksX((*signer)->Jwks(), jws.signing_input, jws.signature));
}

// OpenSSL's own Ed25519 signature of `input` with the private key in `pem`.
std::string OpenSslSignature(const std::string& pem, const std::string& input) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char signature[64];
  size_t length = sizeof signature;
  if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature, &length,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(signature), length);
}

// The signer signs with libsodium from the key OpenSSL read: Ed25519 is deterministic, so the
// bytes must be exactly OpenSSL's, for the RFC 8037 key and for a key made here.
TEST(Ed25519ReceiptSignerTest, SignaturesAreExactlyOpenSslsForTheSameKey) {
  testing::TempDir dir;
  ASSERT_TRUE(Ed25519ReceiptSigner::LoadOrCreate(dir.path()).ok());
  std::ifstream file(dir.path() / Ed25519ReceiptSigner::kKeyFileName);
  std::stringstream fresh;
  fresh << file.rdbuf();
  for (const std::string& pem : {RfcKeyPem(), fresh.str()}) {
    auto signer = Ed25519ReceiptSigner::FromPem(pem);
    ASSERT_TRUE(signer.ok()) << signer.error().message;
    for (const auto& approvers :
         {std::vector<std::string>{"alice"}, std::vector<std::string>{"alice", "bob", "carol"}}) {
      ReceiptClaims claims = ExampleClaims();
      claims.approvers = approvers;
      const Jws jws = Split((*signer)->Sign(claims));
      const std::string expected = OpenSslSignature(pem, jws.signing_input);
      ASSERT_EQ(expected.size(), 64u);
      EXPECT_EQ(jws.signature, expected);
    }
  }
}

// With a nonce pool each signature takes a nonce made ahead of time: the same claims give a
// different token each time, and each verifies as an ordinary Ed25519 signature would.
TEST(Ed25519ReceiptSignerTest, WithANoncePoolEachSignatureIsNewAndVerifies) {
  for (const std::string& pem : {RfcKeyPem(), PemOf(FreshKey().get())}) {
    auto signer = Ed25519ReceiptSigner::FromPem(pem);
    ASSERT_TRUE(signer.ok()) << signer.error().message;
    auto pool = std::make_unique<Ed25519NoncePool>(8);
    pool->Fill(8);
    (*signer)->UseNoncePool(std::move(pool));
    const auto jwks = (*signer)->Jwks();
    std::set<std::string> tokens;
    for (int i = 0; i < 8; ++i) {
      ReceiptClaims claims = ExampleClaims();
      if (i % 2 == 1) claims.approvers.push_back("carol");
      const std::string token = (*signer)->Sign(claims);
      const Jws jws = Split(token);
      ASSERT_EQ(jws.signature.size(), 64u);
      EXPECT_TRUE(VerifyWithJwksX(jwks, jws.signing_input, jws.signature)) << i;
      EXPECT_NE(jws.signature, OpenSslSignature(pem, jws.signing_input)) << i;
      tokens.insert(token);
    }
    EXPECT_EQ(tokens.size(), 8u) << "a token repeated: a nonce signed twice";
    EXPECT_EQ((*signer)->nonce_pool()->taken(), 8u);
    EXPECT_EQ((*signer)->nonce_pool()->size(), 0u);

    // The pool is empty now: the next signature is RFC 8032's, exactly OpenSSL's.
    const Jws fallback = Split((*signer)->Sign(ExampleClaims()));
    EXPECT_EQ(fallback.signature, OpenSslSignature(pem, fallback.signing_input));
    EXPECT_EQ((*signer)->nonce_pool()->missed(), 1u);
  }
}

// Sign() writes the payload's JSON itself; it must be byte for byte what Boost.JSON prints for
// the same members in the same order, escapes included, with every optional claim.
TEST(Ed25519ReceiptSignerTest, ThePayloadIsTheClaimsObjectSerialisedByteForByte) {
  auto signer = Ed25519ReceiptSigner::FromPem(RfcKeyPem());
  ASSERT_TRUE(signer.ok()) << signer.error().message;
  ReceiptClaims full = ExampleClaims();
  full.tenant = std::string("t\"e\\n\x01\x1f\x7f") + "\xc3\xa9";
  full.action = "deploy\n\tnow";
  full.approvers = {"alice", "b\"ob", ""};
  full.response_sha256 = std::string(64, 'c');
  full.jti = "rct_0123456789abcdef0123456789abcdef";
  full.receipt_use = "single_use";
  full.not_after = full.decided_at + 5min;
  full.max_uses = 3;
  ReceiptClaims bare = ExampleClaims();
  bare.approvers.clear();
  for (const ReceiptClaims& c : {full, bare, ExampleClaims()}) {
    auto seconds = [](TimePoint t) {
      return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
    };
    boost::json::object expected;
    expected["request_id"] = c.request_id;
    expected["tenant"] = c.tenant;
    expected["action"] = c.action;
    expected["arguments_sha256"] = c.arguments_sha256;
    if (!c.response_sha256.empty()) expected["response_sha256"] = c.response_sha256;
    expected["outcome"] = c.outcome;
    boost::json::array approvers;
    for (const auto& name : c.approvers) approvers.emplace_back(name);
    expected["approvers"] = std::move(approvers);
    expected["decided_at"] = seconds(c.decided_at);
    expected["exp"] = seconds(c.exp);
    expected["iat"] = seconds(c.decided_at);
    if (!c.jti.empty()) expected["jti"] = c.jti;
    if (!c.receipt_use.empty()) expected["receipt_use"] = c.receipt_use;
    if (c.not_after) expected["not_after"] = seconds(*c.not_after);
    if (c.max_uses > 0) expected["max_uses"] = c.max_uses;
    EXPECT_EQ(Split((*signer)->Sign(c)).payload, boost::json::serialize(expected));
  }
}

TEST(Ed25519ReceiptSignerTest, HeaderAndPayloadCarryTheClaimsAsJwtNumericDates) {
  auto signer = Ed25519ReceiptSigner::FromPem(RfcKeyPem());
  ASSERT_TRUE(signer.ok()) << signer.error().message;
  const Jws jws = Split((*signer)->Sign(ExampleClaims()));
  EXPECT_EQ(boost::json::parse(jws.header),
            boost::json::parse(R"({"alg":"EdDSA","typ":"JWT","kid":")" +
                               std::string(kRfcThumbprint) + R"("})"));
  EXPECT_EQ(boost::json::parse(jws.payload), boost::json::parse(R"({
      "request_id":"req_01M7YQ0KET0372EXW812BTE32A","tenant":"default",
      "action":"deploy_production",
      "arguments_sha256":"a2578fe60ff2789048626f36128d2ce39996eb00ec6ecda4e7deae0bf182a48f",
      "outcome":"approved","approvers":["alice","bob"],
      "decided_at":1795253359,"exp":1795254259,"iat":1795253359})"));
}

TEST(Ed25519ReceiptSignerTest, JwksIsAnRfc8037OkpKeyWhoseKidIsItsRfc7638Thumbprint) {
  auto signer = Ed25519ReceiptSigner::FromPem(RfcKeyPem());
  ASSERT_TRUE(signer.ok()) << signer.error().message;
  EXPECT_EQ((*signer)->kid(), kRfcThumbprint);
  EXPECT_EQ(
      (*signer)->Jwks(),
      boost::json::parse(R"({"keys":[{"kty":"OKP","crv":"Ed25519","x":")" + std::string(kRfcX) +
                         R"(","kid":")" + kRfcThumbprint + R"(","alg":"EdDSA","use":"sig"}]})"));
}

// For an RFC 8032 signature and for one made with a pool nonce (whose S the signer computes
// itself, so this shows it binds R, the public key and the whole message).
TEST(Ed25519ReceiptSignerTest, AFlippedByteInPayloadOrSignatureFailsVerification) {
  auto signer = Ed25519ReceiptSigner::FromPem(RfcKeyPem());
  ASSERT_TRUE(signer.ok()) << signer.error().message;
  const auto jwks = (*signer)->Jwks();
  auto pool = std::make_unique<Ed25519NoncePool>(1);
  pool->Fill(1);
  for (bool with_pool : {false, true}) {
    if (with_pool) (*signer)->UseNoncePool(std::move(pool));
    const Jws jws = Split((*signer)->Sign(ExampleClaims()));
    if (with_pool) {
      ASSERT_EQ((*signer)->nonce_pool()->taken(), 1u);
    }
    ASSERT_TRUE(VerifyWithJwksX(jwks, jws.signing_input, jws.signature));
    for (size_t i = 0; i < jws.signing_input.size(); i += 7) {
      std::string input = jws.signing_input;
      input[i] = static_cast<char>(input[i] ^ 0x01);
      EXPECT_FALSE(VerifyWithJwksX(jwks, input, jws.signature)) << "input byte " << i;
    }
    for (size_t i = 0; i < jws.signature.size(); ++i) {
      std::string signature = jws.signature;
      signature[i] = static_cast<char>(signature[i] ^ 0x80);
      EXPECT_FALSE(VerifyWithJwksX(jwks, jws.signing_input, signature)) << "signature byte " << i;
    }
  }
}

TEST(Ed25519ReceiptSignerTest, TheKeyIsCreatedOnceWithMode0600AndSurvivesAReload) {
  testing::TempDir dir;
  auto first = Ed25519ReceiptSigner::LoadOrCreate(dir.path());
  ASSERT_TRUE(first.ok()) << first.error().message;
  const auto path = dir.path() / Ed25519ReceiptSigner::kKeyFileName;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".new"));

  std::ifstream in(path);
  std::stringstream pem;
  pem << in.rdbuf();
  EXPECT_EQ(pem.str().rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u) << pem.str();

  auto second = Ed25519ReceiptSigner::LoadOrCreate(dir.path());
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ((*second)->kid(), (*first)->kid());
  EXPECT_EQ((*second)->Jwks(), (*first)->Jwks());
  // Ed25519 is deterministic: the same key signs the same claims identically.
  EXPECT_EQ((*second)->Sign(ExampleClaims()), (*first)->Sign(ExampleClaims()));

  testing::TempDir other;
  auto third = Ed25519ReceiptSigner::LoadOrCreate(other.path());
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_NE((*third)->kid(), (*first)->kid());
}

TEST(Ed25519ReceiptSignerTest, AStaleStagingFileFromACrashIsReplaced) {
  testing::TempDir dir;
  WriteFile(dir.path() / "receipt_key.pem.new", "-----BEGIN PRIVATE KEY-----\nMC4CAQAw");
  auto signer = Ed25519ReceiptSigner::LoadOrCreate(dir.path());
  ASSERT_TRUE(signer.ok()) << signer.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "receipt_key.pem.new"));
}

TEST(Ed25519ReceiptSignerTest, AnExistingKeyFileIsUsedAsIs) {
  testing::TempDir dir;
  WriteFile(dir.path() / "receipt_key.pem", RfcKeyPem());
  auto signer = Ed25519ReceiptSigner::LoadOrCreate(dir.path());
  ASSERT_TRUE(signer.ok()) << signer.error().message;
  EXPECT_EQ((*signer)->kid(), kRfcThumbprint);
}

TEST(Ed25519ReceiptSignerTest, BadKeyFilesAreClearErrorsNamingTheFile) {
  testing::TempDir dir;
  const auto path = dir.path() / "receipt_key.pem";

  WriteFile(path, "not a key\n");
  auto garbage = Ed25519ReceiptSigner::LoadOrCreate(dir.path());
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code, ErrorCode::kInvalid);
  EXPECT_NE(garbage.error().message.find(path.string()), std::string::npos)
      << garbage.error().message;
  EXPECT_NE(garbage.error().message.find("PEM"), std::string::npos) << garbage.error().message;

  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec_key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
  ASSERT_TRUE(ec_key);
  WriteFile(path, PemOf(ec_key.get()));
  auto wrong_type = Ed25519ReceiptSigner::LoadOrCreate(dir.path());
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().code, ErrorCode::kInvalid);
  EXPECT_NE(wrong_type.error().message.find("not an Ed25519 key"), std::string::npos)
      << wrong_type.error().message;

  std::filesystem::remove(path);
  std::filesystem::create_directory(path);
  auto unreadable = Ed25519ReceiptSigner::LoadOrCreate(dir.path());
  ASSERT_FALSE(unreadable.ok());
  EXPECT_EQ(unreadable.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(unreadable.error().message.find(path.string()), std::string::npos)
      << unreadable.error().message;

  auto missing_dir = Ed25519ReceiptSigner::LoadOrCreate(dir.path() / "nope");
  ASSERT_FALSE(missing_dir.ok());
  EXPECT_EQ(missing_dir.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace countersign

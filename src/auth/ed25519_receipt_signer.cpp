#include "auth/ed25519_receipt_signer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include "auth/base64url.hpp"
#include "core/canonical_json.hpp"

namespace countersign {
namespace {

// A PEM key file is a few hundred bytes; anything much larger is not one.
constexpr size_t kMaxKeyFileBytes = 64 * 1024;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

std::string Errno(const std::string& what, const std::filesystem::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

int64_t UnixSeconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

// Refuses to prompt for a passphrase: the server starts unattended.
int NoPassphrase(char*, int, int, void*) { return -1; }

// RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
std::string Thumbprint(const std::string& x) {
  const std::string canonical = R"({"crv":"Ed25519","kty":"OKP","x":")" + x + R"("})";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), digest);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

// The file's bytes; Error::Unavailable naming the file when it cannot be read.
Result<std::string> ReadKeyFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::Unavailable(Errno("cannot read receipt key", path));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
    spdlog::warn("receipt key {} is readable by other users (mode {:o}); chmod 600 it",
                 path.string(), st.st_mode & 0777);
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string message = Errno("cannot read receipt key", path);
      ::close(fd);
      OPENSSL_cleanse(buffer, sizeof buffer);
      return Error::Unavailable(message);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxKeyFileBytes) break;
  }
  ::close(fd);
  OPENSSL_cleanse(buffer, sizeof buffer);
  return text;
}

// Writes `bytes` to a new file (O_EXCL, mode 0600) and fsyncs it.
Status WriteNewFile(const std::filesystem::path& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error::Unavailable(Errno("cannot create", path));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string message = Errno("cannot write", path);
      ::close(fd);
      return Error::Unavailable(message);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string message = Errno("cannot fsync", path);
    ::close(fd);
    return Error::Unavailable(message);
  }
  if (::close(fd) != 0) return Error::Unavailable(Errno("cannot write", path));
  return Ok();
}

// So that the new directory entry survives a crash.
void SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// A fresh key in PKCS#8 PEM, or an empty string when OpenSSL fails.
std::string GeneratePem() {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (raw == nullptr) return "";
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw, &EVP_PKEY_free);
  // Secure memory: the BIO's buffer is wiped when it is freed.
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_secmem()));
  if (!bio) return "";
  if (PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return "";
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0 || data == nullptr) return "";
  return std::string(data, static_cast<size_t>(size));
}

// Publishes `staged` as `path` unless `path` exists already. True when published, false when
// another process got there first (then `staged` is removed and `path` is theirs).
Result<bool> Publish(const std::filesystem::path& staged, const std::filesystem::path& path) {
  if (::link(staged.c_str(), path.c_str()) == 0) {
    ::unlink(staged.c_str());
    return true;
  }
  if (errno == EEXIST) {
    ::unlink(staged.c_str());
    return false;
  }
  // A file system without hard links: rename, which is atomic too but would replace a key
  // created in the meantime; only one server uses a data directory, so that cannot happen.
  if (::rename(staged.c_str(), path.c_str()) == 0) return true;
  const std::string message = Errno("cannot create receipt key", path);
  ::unlink(staged.c_str());
  return Error::Unavailable(message);
}

}  // namespace

void Ed25519ReceiptSigner::KeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

Ed25519ReceiptSigner::Ed25519ReceiptSigner(const std::array<unsigned char, 64>& secret,
                                           std::string x, std::string kid)
    : secret_(secret), x_(std::move(x)), kid_(std::move(kid)) {
  // RFC 8032 §5.1.5: a is the first half of SHA-512(seed), clamped. Reduced mod L it gives the
  // same point and the same S, and libsodium's scalar arithmetic takes it in that form.
  unsigned char expanded[crypto_hash_sha512_BYTES];
  crypto_hash_sha512(expanded, secret_.data(), crypto_sign_SEEDBYTES);
  expanded[0] &= 248;
  expanded[31] &= 127;
  expanded[31] |= 64;
  unsigned char wide[crypto_core_ed25519_NONREDUCEDSCALARBYTES] = {};
  std::memcpy(wide, expanded, 32);
  crypto_core_ed25519_scalar_reduce(scalar_.data(), wide);
  sodium_memzero(expanded, sizeof expanded);
  sodium_memzero(wide, sizeof wide);
  boost::json::object header;
  header["alg"] = "EdDSA";
  header["typ"] = "JWT";
  header["kid"] = kid_;
  header_b64_ = Base64UrlEncode(boost::json::serialize(header));
}

Ed25519ReceiptSigner::~Ed25519ReceiptSigner() {
  sodium_memzero(secret_.data(), secret_.size());
  sodium_memzero(scalar_.data(), scalar_.size());
}

Result<std::unique_ptr<Ed25519ReceiptSigner>> Ed25519ReceiptSigner::FromPem(
    const std::string& pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Error::Internal("out of memory reading the receipt key");
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassphrase, nullptr));
  if (!key) {
    return Error::Invalid(
        "not an unencrypted private key in PEM (expected -----BEGIN PRIVATE KEY-----)");
  }
  if (!EVP_PKEY_is_a(key.get(), "ED25519")) {
    const char* type = EVP_PKEY_get0_type_name(key.get());
    return Error::Invalid(std::string("a key of type ") + (type != nullptr ? type : "unknown") +
                          ", not an Ed25519 key");
  }
  unsigned char public_key[32];
  size_t length = sizeof public_key;
  if (EVP_PKEY_get_raw_public_key(key.get(), public_key, &length) != 1 ||
      length != sizeof public_key) {
    return Error::Invalid("cannot read the Ed25519 public key");
  }
  static_assert(crypto_sign_SECRETKEYBYTES == 64 && crypto_sign_PUBLICKEYBYTES == 32);
  if (sodium_init() < 0) return Error::Internal("libsodium could not initialise");
  unsigned char seed[crypto_sign_SEEDBYTES];
  length = sizeof seed;
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> secret{};
  unsigned char derived_public[crypto_sign_PUBLICKEYBYTES];
  const bool derived = EVP_PKEY_get_raw_private_key(key.get(), seed, &length) == 1 &&
                       length == sizeof seed &&
                       crypto_sign_seed_keypair(derived_public, secret.data(), seed) == 0;
  sodium_memzero(seed, sizeof seed);
  if (!derived || sodium_memcmp(derived_public, public_key, sizeof public_key) != 0) {
    sodium_memzero(secret.data(), secret.size());
    return Error::Invalid("cannot read the Ed25519 private key");
  }
  std::string x = Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(public_key), 32));
  std::string kid = Thumbprint(x);
  auto signer = std::unique_ptr<Ed25519ReceiptSigner>(
      new Ed25519ReceiptSigner(secret, std::move(x), std::move(kid)));
  sodium_memzero(secret.data(), secret.size());
  return signer;
}

Result<std::unique_ptr<Ed25519ReceiptSigner>> Ed25519ReceiptSigner::LoadOrCreate(
    const std::filesystem::path& data_dir) {
  const std::filesystem::path path = data_dir / kKeyFileName;
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (ec)
    return Error::Unavailable("cannot read receipt key " + path.string() + ": " + ec.message());
  if (!exists) {
    std::string pem = GeneratePem();
    if (pem.empty()) return Error::Internal("OpenSSL could not generate an Ed25519 key");
    // A fixed staging name: a crash while writing leaves it behind, and the next start
    // removes it instead of accumulating half-written keys.
    const std::filesystem::path staged = data_dir / (std::string(kKeyFileName) + ".new");
    ::unlink(staged.c_str());
    Status written = WriteNewFile(staged, pem);
    OPENSSL_cleanse(pem.data(), pem.size());
    if (!written.ok()) {
      ::unlink(staged.c_str());
      return std::move(written).error();
    }
    auto published = Publish(staged, path);
    if (!published.ok()) return std::move(published).error();
    SyncDirectory(data_dir);
    if (published.value()) spdlog::info("new receipt signing key written to {}", path.string());
  }
  auto text = ReadKeyFile(path);
  if (!text.ok()) return std::move(text).error();
  auto signer = FromPem(text.value());
  OPENSSL_cleanse(text->data(), text->size());
  if (!signer.ok()) {
    Error error = std::move(signer).error();
    error.message = "receipt key " + path.string() + ": " + error.message;
    return error;
  }
  return signer;
}

std::string Ed25519ReceiptSigner::Sign(const ReceiptClaims& claims) const {
  // The payload's JSON written straight out (members in the order below, strings escaped as
  // Boost.JSON escapes them), not built as an object first: an approval signs inside the
  // writer's transaction.
  std::string payload;
  payload.reserve(320 + claims.request_id.size() + claims.tenant.size() + claims.action.size() +
                  claims.approvers.size() * 24);
  auto key = [&payload](std::string_view name) {
    payload.push_back(payload.empty() ? '{' : ',');
    AppendJsonString(name, payload);
    payload.push_back(':');
  };
  auto text = [&](std::string_view name, std::string_view value) {
    key(name);
    AppendJsonString(value, payload);
  };
  auto number = [&](std::string_view name, int64_t value) {
    key(name);
    payload += std::to_string(value);
  };
  text("request_id", claims.request_id);
  text("tenant", claims.tenant);
  text("action", claims.action);
  text("arguments_sha256", claims.arguments_sha256);
  if (!claims.response_sha256.empty()) text("response_sha256", claims.response_sha256);
  text("outcome", claims.outcome);
  key("approvers");
  payload.push_back('[');
  for (size_t i = 0; i < claims.approvers.size(); ++i) {
    if (i > 0) payload.push_back(',');
    AppendJsonString(claims.approvers[i], payload);
  }
  payload.push_back(']');
  number("decided_at", UnixSeconds(claims.decided_at));
  number("exp", UnixSeconds(claims.exp));
  number("iat", UnixSeconds(claims.decided_at));
  if (!claims.jti.empty()) text("jti", claims.jti);
  if (!claims.receipt_use.empty()) text("receipt_use", claims.receipt_use);
  if (claims.not_after) number("not_after", UnixSeconds(*claims.not_after));
  if (claims.max_uses > 0) number("max_uses", claims.max_uses);
  payload.push_back('}');
  return SignPayload(payload);
}

std::string Ed25519ReceiptSigner::SignJws(const boost::json::object& payload) const {
  return SignPayload(boost::json::serialize(payload));
}

std::string Ed25519ReceiptSigner::SignPayload(std::string_view payload) const {
  std::string token = header_b64_;
  token.push_back('.');
  token += Base64UrlEncode(payload);
  unsigned char signature[crypto_sign_BYTES];
  if (!SignMessage(token, signature)) return "";
  token.push_back('.');
  token +=
      Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(signature), sizeof signature));
  return token;
}

bool Ed25519ReceiptSigner::SignMessage(std::string_view message, unsigned char* signature) const {
  const auto* bytes = reinterpret_cast<const unsigned char*>(message.data());
  Ed25519NoncePool::Nonce nonce;
  if (pool_ == nullptr || !pool_->Take(&nonce)) {
    // Ed25519 hashes the message itself (PureEdDSA).
    unsigned long long length = 0;
    return crypto_sign_detached(signature, &length, bytes, message.size(), secret_.data()) == 0 &&
           length == crypto_sign_BYTES;
  }
  // RFC 8032 §5.1.6 from step 3, with the pool's r and R = r·B: k = SHA-512(R ‖ A ‖ M) mod L,
  // S = r + k·a mod L; the signature is R ‖ S.
  unsigned char digest[crypto_hash_sha512_BYTES];
  crypto_hash_sha512_state state;
  crypto_hash_sha512_init(&state);
  crypto_hash_sha512_update(&state, nonce.R.data(), nonce.R.size());
  crypto_hash_sha512_update(&state, secret_.data() + crypto_sign_SEEDBYTES,
                            crypto_sign_PUBLICKEYBYTES);
  crypto_hash_sha512_update(&state, bytes, message.size());
  crypto_hash_sha512_final(&state, digest);
  unsigned char k[crypto_core_ed25519_SCALARBYTES];
  crypto_core_ed25519_scalar_reduce(k, digest);
  unsigned char ka[crypto_core_ed25519_SCALARBYTES];
  crypto_core_ed25519_scalar_mul(ka, k, scalar_.data());
  std::memcpy(signature, nonce.R.data(), nonce.R.size());
  crypto_core_ed25519_scalar_add(signature + 32, nonce.r.data(), ka);
  sodium_memzero(&nonce, sizeof nonce);
  sodium_memzero(ka, sizeof ka);
  return true;
}

boost::json::object Ed25519ReceiptSigner::Jwks() const {
  boost::json::object key;
  key["kty"] = "OKP";
  key["crv"] = "Ed25519";
  key["x"] = x_;
  key["kid"] = kid_;
  key["alg"] = "EdDSA";
  key["use"] = "sig";
  boost::json::array keys;
  keys.emplace_back(std::move(key));
  return boost::json::object{{"keys", std::move(keys)}};
}

}  // namespace countersign

#include "auth/link_signer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "auth/base64url.hpp"

namespace countersign {
namespace {

constexpr uint8_t kVersion = 1;
// 9999-12-31T23:59:59Z: keeps every accepted expiry far from overflowing a TimePoint.
constexpr uint64_t kMaxExpirySeconds = 253402300799;
// A key file is 32 bytes; anything much larger is not one.
constexpr size_t kMaxKeyFileBytes = 4096;

std::string Errno(const std::string& what, const std::filesystem::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

void PutVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void PutString(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

// Reads the payload front to back; every read checks the bounds, so no input can overrun.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view bytes) : rest_(bytes) {}

  // Shortest-form LEB128 of at most 64 bits; nullopt otherwise.
  std::optional<uint64_t> Varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (rest_.empty()) return std::nullopt;
      const auto byte = static_cast<uint8_t>(rest_.front());
      rest_.remove_prefix(1);
      if (shift == 63 && byte > 1) return std::nullopt;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        // A zero final group after the first would be a second spelling of a smaller value.
        if (byte == 0 && shift > 0) return std::nullopt;
        return value;
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> String() {
    auto size = Varint();
    if (!size || *size == 0 || *size > rest_.size()) return std::nullopt;
    std::string out(rest_.substr(0, static_cast<size_t>(*size)));
    rest_.remove_prefix(static_cast<size_t>(*size));
    return out;
  }

  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

Error Malformed() { return Error::Unauthorized("the link token is malformed"); }

Result<std::string> ReadKeyFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::Unavailable(Errno("cannot read link key", path));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
    spdlog::warn("link key {} is readable by other users (mode {:o}); chmod 600 it", path.string(),
                 st.st_mode & 0777);
  }
  std::string bytes;
  char buffer[512];
  // Reserved up front so that growing never leaves a copy of the key in freed memory.
  bytes.reserve(kMaxKeyFileBytes + sizeof buffer);
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string message = Errno("cannot read link key", path);
      ::close(fd);
      OPENSSL_cleanse(buffer, sizeof buffer);
      OPENSSL_cleanse(bytes.data(), bytes.size());
      return Error::Unavailable(message);
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<size_t>(n));
    if (bytes.size() > kMaxKeyFileBytes) break;
  }
  ::close(fd);
  OPENSSL_cleanse(buffer, sizeof buffer);
  if (bytes.size() < LinkSigner::kKeyBytes || bytes.size() > kMaxKeyFileBytes) {
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return Error::Invalid("link key " + path.string() + " must hold 32 to 4096 bytes");
  }
  return bytes;
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

// Generates a key under a staging name and links it into place unless another process got
// there first (then theirs is kept). The staging name is fixed so that a crash mid-write
// leaves one stale file, removed by the next start.
Status CreateKeyFile(const std::filesystem::path& data_dir, const std::filesystem::path& path) {
  std::string key(LinkSigner::kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    return Error::Internal("OpenSSL could not generate random bytes for the link key");
  }
  const std::filesystem::path staged = data_dir / (std::string(LinkSigner::kKeyFileName) + ".new");
  ::unlink(staged.c_str());
  Status written = WriteNewFile(staged, key);
  OPENSSL_cleanse(key.data(), key.size());
  if (!written.ok()) {
    ::unlink(staged.c_str());
    return written;
  }
  const bool linked = ::link(staged.c_str(), path.c_str()) == 0;
  if (linked || errno == EEXIST) {
    ::unlink(staged.c_str());
    if (linked) spdlog::info("new link signing key written to {}", path.string());
  } else if (::rename(staged.c_str(), path.c_str()) != 0) {
    // No hard links on this file system; rename is atomic too.
    const std::string message = Errno("cannot create link key", path);
    ::unlink(staged.c_str());
    return Error::Unavailable(message);
  }
  const int dir_fd = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Ok();
}

}  // namespace

LinkSigner::LinkSigner(std::string key) : key_(std::move(key)) {}

LinkSigner::~LinkSigner() { OPENSSL_cleanse(key_.data(), key_.size()); }

Result<LinkSigner> LinkSigner::Load(const std::filesystem::path& data_dir) {
  const std::filesystem::path path = data_dir / kKeyFileName;
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (ec) return Error::Unavailable("cannot read link key " + path.string() + ": " + ec.message());
  if (!exists) {
    return Error::NotFound("no link key at " + path.string() +
                           " (the server creates it on its first start)");
  }
  auto bytes = ReadKeyFile(path);
  if (!bytes.ok()) return std::move(bytes).error();
  return LinkSigner(std::move(bytes).value());
}

Result<LinkSigner> LinkSigner::LoadOrCreate(const std::filesystem::path& data_dir) {
  const std::filesystem::path path = data_dir / kKeyFileName;
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (ec) return Error::Unavailable("cannot read link key " + path.string() + ": " + ec.message());
  if (!exists) CS_RETURN_IF_ERROR(CreateKeyFile(data_dir, path));
  return Load(data_dir);
}

std::string LinkSigner::Mac(std::string_view payload) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest,
           &length) == nullptr ||
      length < kMacBytes) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(digest), kMacBytes);
}

std::string LinkSigner::Sign(const LinkClaims& claims) const {
  const int64_t seconds =
      std::chrono::floor<std::chrono::seconds>(claims.expires_at).time_since_epoch().count();
  const uint64_t expiry =
      seconds < 0 ? 0 : std::min<uint64_t>(static_cast<uint64_t>(seconds), kMaxExpirySeconds);
  std::string payload;
  payload.push_back(static_cast<char>(kVersion));
  PutString(payload, claims.tenant);
  PutString(payload, claims.request_id);
  PutString(payload, claims.choice);
  PutString(payload, claims.recipient);
  PutVarint(payload, expiry);
  return Base64UrlEncode(payload) + "." + Base64UrlEncode(Mac(payload));
}

Result<LinkClaims> LinkSigner::Verify(std::string_view token) const {
  if (token.size() > kMaxTokenChars) return Malformed();
  const auto dot = token.find('.');
  if (dot == std::string_view::npos || token.find('.', dot + 1) != std::string_view::npos) {
    return Malformed();
  }
  auto payload = Base64UrlDecode(token.substr(0, dot));
  auto mac = Base64UrlDecode(token.substr(dot + 1));
  if (!payload || !mac || payload->empty() || mac->size() != kMacBytes) return Malformed();
  const std::string expected = Mac(*payload);
  if (expected.size() != kMacBytes || CRYPTO_memcmp(expected.data(), mac->data(), kMacBytes) != 0) {
    return Error::Unauthorized("the link token's signature does not match");
  }
  // Authentic from here on, but parsed as carefully as if it were not: a key shared with an
  // older or newer version must not be able to crash this one.
  PayloadReader reader(*payload);
  auto version = reader.Varint();
  if (!version || *version != kVersion) return Malformed();
  LinkClaims claims;
  for (std::string* field :
       {&claims.tenant, &claims.request_id, &claims.choice, &claims.recipient}) {
    auto value = reader.String();
    if (!value) return Malformed();
    *field = std::move(*value);
  }
  auto expiry = reader.Varint();
  if (!expiry || *expiry > kMaxExpirySeconds || !reader.done()) return Malformed();
  claims.expires_at = std::chrono::time_point_cast<Millis>(
      std::chrono::sys_seconds(std::chrono::seconds(static_cast<int64_t>(*expiry))));
  return claims;
}

}  // namespace countersign

#include "store/audit_head_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/sha256.hpp"

namespace countersign {

namespace {

// One line, padded with spaces to a size that one sector write covers.
constexpr size_t kRecordBytes = 160;
constexpr std::string_view kMagic = "countersign-audit-head-v1";

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string AuditHeadFile::Encode(int64_t seq, std::string_view hash) {
  std::string body = std::string(kMagic) + " " + std::to_string(seq) + " " + std::string(hash);
  std::string line = body + " " + Sha256Hex(body).substr(0, 16);
  line.resize(kRecordBytes - 1, ' ');
  line.push_back('\n');
  return line;
}

std::optional<AuditHeadFile::Head> AuditHeadFile::Decode(std::string_view bytes) {
  if (bytes.size() != kRecordBytes || bytes.back() != '\n') return std::nullopt;
  std::string_view line = bytes.substr(0, bytes.find_last_not_of(" \n") + 1);
  const size_t check_at = line.rfind(' ');
  if (check_at == std::string_view::npos) return std::nullopt;
  const std::string_view body = line.substr(0, check_at);
  if (line.substr(check_at + 1) != Sha256Hex(body).substr(0, 16)) return std::nullopt;
  if (body.substr(0, kMagic.size()) != kMagic || body.size() < kMagic.size() + 1) {
    return std::nullopt;
  }
  const std::string_view rest = body.substr(kMagic.size() + 1);
  const size_t space = rest.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view seq_text = rest.substr(0, space);
  const std::string_view hash = rest.substr(space + 1);
  if (seq_text.empty() || seq_text.size() > 18 || hash.size() != 64 || !IsLowerHex(hash)) {
    return std::nullopt;
  }
  Head head;
  for (char c : seq_text) {
    if (c < '0' || c > '9') return std::nullopt;
    head.seq = head.seq * 10 + (c - '0');
  }
  head.hash = std::string(hash);
  return head;
}

Result<std::unique_ptr<AuditHeadFile>> AuditHeadFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Error::Unavailable(Errno("cannot open the audit head file", path));
  std::unique_ptr<AuditHeadFile> file(new AuditHeadFile(path, fd));
  std::string bytes(kRecordBytes + 1, '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::Unavailable(Errno("cannot read the audit head file", path));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  bytes.resize(got);
  if (!bytes.empty()) {
    file->recorded_ = Decode(bytes);
    file->torn_ = !file->recorded_.has_value();
  }
  return file;
}

AuditHeadFile::~AuditHeadFile() { ::close(fd_); }

Status AuditHeadFile::Record(int64_t seq, std::string_view hash) {
  const std::string record = Encode(seq, hash);
  size_t done = 0;
  while (done < record.size()) {
    const ssize_t n =
        ::pwrite(fd_, record.data() + done, record.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::Unavailable(Errno("cannot write the audit head file", path_));
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) {
    return Error::Unavailable(Errno("cannot sync the audit head file", path_));
  }
  return Ok();
}

}  // namespace countersign

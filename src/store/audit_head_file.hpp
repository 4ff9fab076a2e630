// AuditHeadFile: the last committed audit event's seq and hash, kept in a small file beside the
// database, so that a store which lost writes it had acknowledged (a damaged or deleted -wal
// file, an older copy restored over it) is noticed when it opens instead of carrying on as if
// nothing had happened. SQLite cannot tell: a WAL frame whose checksum fails and every frame
// after it are dropped without an error.
//
// The file holds one fixed-size record, overwritten in place and fdatasync'd after every
// commit that appended events; it carries its own checksum, so a record torn by a crash reads
// as no record (and the next commit writes a whole one). Not thread-safe: the store's writer
// thread is its only user after Open().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace countersign {

class AuditHeadFile {
 public:
  struct Head {
    int64_t seq = 0;
    std::string hash;
  };

  // Opens `path`, creating it (mode 0600) when missing, and reads its record. kUnavailable
  // when it cannot be opened or read.
  static Result<std::unique_ptr<AuditHeadFile>> Open(const std::string& path);

  ~AuditHeadFile();
  AuditHeadFile(const AuditHeadFile&) = delete;
  AuditHeadFile& operator=(const AuditHeadFile&) = delete;

  // What the file held when opened: nullopt when it was new, empty or torn.
  const std::optional<Head>& recorded() const { return recorded_; }
  // Whether the file held bytes that are not a whole record (then recorded() is nullopt).
  bool torn() const { return torn_; }
  const std::string& path() const { return path_; }

  // Overwrites the record with `seq` and `hash` and waits until it is on disk.
  Status Record(int64_t seq, std::string_view hash);

  // The record's bytes and their parser, for the tests.
  static std::string Encode(int64_t seq, std::string_view hash);
  static std::optional<Head> Decode(std::string_view bytes);

 private:
  AuditHeadFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  const std::string path_;
  const int fd_;
  std::optional<Head> recorded_;
  bool torn_ = false;
};

}  // namespace countersign

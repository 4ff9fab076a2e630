#include "server/data_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <spdlog/spdlog.h>

#include "auth/token.hpp"

namespace countersign {

Status WriteSecretFile(const std::filesystem::path& path, const std::string& secret) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error::Unavailable("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  const std::string line = secret + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Error::Unavailable("cannot write " + path.string());
  return Ok();
}

Status WritePortFile(const std::string& path, uint16_t port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return Error::Unavailable("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error::Unavailable("cannot write " + path + ": " + ec.message());
  return Ok();
}

Result<std::string> LoadCallbackSecret(const std::string& configured,
                                       const std::filesystem::path& data_dir) {
  if (!configured.empty()) return configured;
  const auto path = data_dir / "callback.key";
  std::ifstream in(path);
  std::string secret;
  if (in && std::getline(in, secret) && secret.size() >= 32) return secret;
  secret = GenerateToken();
  const auto staged = std::filesystem::path(path.string() + ".new");
  std::error_code ec;
  std::filesystem::remove(staged, ec);
  CS_RETURN_IF_ERROR(WriteSecretFile(staged, secret));
  std::filesystem::rename(staged, path, ec);
  if (ec) return Error::Unavailable("cannot write " + path.string() + ": " + ec.message());
  spdlog::info("callback signing key written to {} (mode 0600)", path.string());
  return secret;
}

}  // namespace countersign

#include "cli/upstream_process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "core/mutex_lock.hpp"

extern char** environ;

namespace countersign {
namespace {

constexpr Millis kPollStep(10);

}  // namespace

Result<std::unique_ptr<UpstreamProcess>> UpstreamProcess::Start(
    const std::vector<std::string>& argv, const sigset_t& child_mask) {
  if (argv.empty()) return Error::Invalid("no command to start");
  int to_child[2];
  int from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) {
    return Error::Unavailable(std::string("pipe: ") + std::strerror(errno));
  }
  if (::pipe2(from_child, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(to_child[0]);
    ::close(to_child[1]);
    return Error::Unavailable(std::string("pipe: ") + std::strerror(error));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears close-on-exec on the copies; every other end closes at exec.
  posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setsigmask(&attributes, &child_mask);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args;
  for (const auto& word : argv) args.push_back(const_cast<char*>(word.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int failed = posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  ::close(to_child[0]);
  ::close(from_child[1]);
  if (failed != 0) {
    ::close(to_child[1]);
    ::close(from_child[0]);
    return Error::NotFound("cannot start " + argv[0] + ": " + std::strerror(failed));
  }
  return std::unique_ptr<UpstreamProcess>(new UpstreamProcess(pid, to_child[1], from_child[0]));
}

UpstreamProcess::UpstreamProcess(pid_t pid, int input_fd, int output_fd)
    : pid_(pid), output_fd_(output_fd), input_fd_(input_fd) {}

UpstreamProcess::~UpstreamProcess() {
  CloseInput();
  ::close(output_fd_);
}

bool UpstreamProcess::WriteLine(std::string_view line) {
  MutexLock lock(input_mu_);
  if (input_fd_ < 0) return false;
  std::string data(line);
  data += '\n';
  std::string_view rest = data;
  while (!rest.empty()) {
    const ssize_t wrote = ::write(input_fd_, rest.data(), rest.size());
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return false;
    rest.remove_prefix(static_cast<std::size_t>(wrote));
  }
  return true;
}

void UpstreamProcess::CloseInput() {
  MutexLock lock(input_mu_);
  if (input_fd_ >= 0) ::close(input_fd_);
  input_fd_ = -1;
}

std::optional<int> UpstreamProcess::Poll() {
  MutexLock lock(wait_mu_);
  if (status_) return status_;
  int status = 0;
  pid_t got = 0;
  do {
    got = ::waitpid(pid_, &status, WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got == 0) return std::nullopt;
  if (got < 0) {
    status_ = 1;  // someone else reaped it: nothing better to report
  } else if (WIFSIGNALED(status)) {
    status_ = 128 + WTERMSIG(status);
  } else {
    status_ = WEXITSTATUS(status);
  }
  return status_;
}

std::optional<int> UpstreamProcess::WaitFor(Millis timeout) {
  // Polling, not a clock: this waits for another process, never for time to pass in a test.
  for (Millis waited(0);; waited += kPollStep) {
    if (auto status = Poll()) return status;
    if (waited >= timeout) return std::nullopt;
    std::this_thread::sleep_for(kPollStep);
  }
}

int UpstreamProcess::Stop(Millis grace) {
  CloseInput();
  if (auto status = WaitFor(grace)) return *status;
  ::kill(pid_, SIGTERM);
  if (auto status = WaitFor(grace)) return *status;
  ::kill(pid_, SIGKILL);
  return WaitFor(Millis(60'000)).value_or(128 + SIGKILL);
}

}  // namespace countersign

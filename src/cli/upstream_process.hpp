// UpstreamProcess: the MCP server `countersign mcp proxy` starts and talks to over pipes.
//
// Start() runs argv[0] (found on PATH, no shell) with its stdin and stdout on pipes to us and
// its stderr on ours, and the signal mask given. WriteLine() sends one line to its stdin
// (false once the input is closed or the child stopped reading); output_fd() is the read end
// of its stdout, for one reading thread. Waiting polls waitpid() in short steps, under the
// mutex, so the client's thread and the upstream's reading thread can both wait and agree on
// the status. Status is the exit code, or 128+N when signal N ended it. The destructor closes
// the descriptors and neither kills nor waits. Thread-safe.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/mutex.hpp"
#include "core/result.hpp"

namespace countersign {

class UpstreamProcess {
 public:
  // A command that cannot be started (not found, not executable) is Error::NotFound.
  static Result<std::unique_ptr<UpstreamProcess>> Start(const std::vector<std::string>& argv,
                                                        const sigset_t& child_mask);
  ~UpstreamProcess();
  UpstreamProcess(const UpstreamProcess&) = delete;
  UpstreamProcess& operator=(const UpstreamProcess&) = delete;

  int output_fd() const { return output_fd_; }
  pid_t pid() const { return pid_; }

  bool WriteLine(std::string_view line);
  void CloseInput();

  // The status once the child has exited, waiting up to `timeout` for it.
  std::optional<int> WaitFor(Millis timeout);

  // Closes its stdin, waits `grace`, sends SIGTERM, waits `grace` again, then SIGKILL; the
  // status.
  int Stop(Millis grace);

 private:
  UpstreamProcess(pid_t pid, int input_fd, int output_fd);
  std::optional<int> Poll();

  const pid_t pid_;
  const int output_fd_;
  Mutex input_mu_;
  int input_fd_ CS_GUARDED_BY(input_mu_);
  Mutex wait_mu_;
  std::optional<int> status_ CS_GUARDED_BY(wait_mu_);
};

}  // namespace countersign

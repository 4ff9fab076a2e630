// Fuzzes what `countersign mcp` and /mcp do with a client's bytes before any gateway call:
// each line of the input is one message handed to McpSession::Handle, in order, so that
// initialize, later requests, notifications and garbage meet the session in every state. A
// reply must be one line (no raw newline) and every message must get an answer or none.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mcp/mcp_session.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  McpSession session(McpServerIdentity{"countersign", "fuzz"});
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const size_t end = input.find('\n');
    const std::string_view line = input.substr(0, end);
    const McpStep step = session.Handle(line);
    if (step.reply && step.reply->find('\n') != std::string::npos) __builtin_trap();
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  return 0;
}

// JSON-RPC 2.0 as MCP uses it: reading one message, and writing one message as one line.
//
// MCP (2025-06-18 and later) sends one JSON object per message, never a batch: a request
// {jsonrpc, id, method, params?}, a notification (no id), or a response {jsonrpc, id, result |
// error}. An id is a string or an integer, never null. Reading is two steps so the caller can
// answer each failure with its own code and with the id whenever one could be read:
// ParseJsonRpcText (not JSON, or a key repeated in one object: kParseError) and
// ReadJsonRpcMessage (JSON, but not a message: kInvalidRequest, including batches). Writers
// return one line without its "\n": boost::json::serialize escapes every control character,
// so the text never holds a raw newline. Pure functions and value types; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/result.hpp"

namespace countersign {

// The standard error codes (JSON-RPC 2.0 section 5.1), as MCP uses them.
inline constexpr std::int64_t kJsonRpcParseError = -32700;
inline constexpr std::int64_t kJsonRpcInvalidRequest = -32600;
inline constexpr std::int64_t kJsonRpcMethodNotFound = -32601;
inline constexpr std::int64_t kJsonRpcInvalidParams = -32602;
inline constexpr std::int64_t kJsonRpcInternalError = -32603;

enum class JsonRpcKind { kRequest, kNotification, kResponse };

struct JsonRpcMessage {
  JsonRpcKind kind = JsonRpcKind::kNotification;
  boost::json::value id;       // a string or an integer; null for a notification
  std::string method;          // empty for a response
  boost::json::object params;  // {} when absent
};

// `text` as one JSON value. Not JSON (including invalid UTF-8), or an object holding the same
// key twice, is Error::Malformed (→ kJsonRpcParseError).
Result<boost::json::value> ParseJsonRpcText(std::string_view text);

// `value` as one message. An array (a batch), or anything that is not a well-formed
// request, notification or response, is Error::Invalid (→ kJsonRpcInvalidRequest). `params`,
// when present, must be an object: MCP defines no positional params.
Result<JsonRpcMessage> ReadJsonRpcMessage(const boost::json::value& value);

// The id of `value` when it is an object whose `id` is a valid id (string or integer), else
// null: what an error response about `value` should carry.
boost::json::value ReadableJsonRpcId(const boost::json::value& value);

// True for a valid id: a string, or an integer that fits int64 or uint64.
bool IsJsonRpcId(const boost::json::value& id);

// {"jsonrpc":"2.0","id":ID,"result":RESULT}
std::string JsonRpcResultLine(const boost::json::value& id, boost::json::object result);

// {"jsonrpc":"2.0","id":ID,"error":{"code","message","data"?}}; `data` left out when null.
// A null `id` (it could not be read) leaves `id` out, as MCP 2025-11-25 says: its schema, and
// the TypeScript SDK, accept no null id.
std::string JsonRpcErrorLine(const boost::json::value& id, std::int64_t code,
                             std::string_view message, const boost::json::value& data = nullptr);

// {"jsonrpc":"2.0","method":METHOD,"params":PARAMS}
std::string JsonRpcNotificationLine(std::string_view method, boost::json::object params);

}  // namespace countersign

#include "mcp/json_rpc.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/json_duplicate_keys.hpp"

namespace countersign {
namespace {

constexpr std::string_view kVersion = "2.0";

}  // namespace

Result<boost::json::value> ParseJsonRpcText(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  if (ec) return Error::Malformed("not JSON: " + ec.message());
  // Two equal keys would let the gateway's viewers and this reader disagree on a value.
  if (auto twice = FindDuplicateKey(text)) {
    return Error::Malformed("the key \"" + Echo(*twice) + "\" appears twice in one object");
  }
  return value;
}

bool IsJsonRpcId(const boost::json::value& id) {
  return id.is_string() || id.is_int64() || id.is_uint64();
}

boost::json::value ReadableJsonRpcId(const boost::json::value& value) {
  const auto* object = value.if_object();
  if (object == nullptr) return nullptr;
  const auto* id = object->if_contains("id");
  if (id == nullptr || !IsJsonRpcId(*id)) return nullptr;
  return *id;
}

Result<JsonRpcMessage> ReadJsonRpcMessage(const boost::json::value& value) {
  if (value.is_array()) return Error::Invalid("batches (JSON arrays) are not supported");
  const auto* object = value.if_object();
  if (object == nullptr) return Error::Invalid("a message must be a JSON object");
  const auto* version = object->if_contains("jsonrpc");
  if (version == nullptr || !version->is_string() || version->get_string() != kVersion) {
    return Error::Invalid("\"jsonrpc\" must be \"2.0\"");
  }
  JsonRpcMessage message;
  const auto* id = object->if_contains("id");
  if (id != nullptr && !IsJsonRpcId(*id)) {
    return Error::Invalid("\"id\" must be a string or an integer");
  }
  const auto* method = object->if_contains("method");
  if (method == nullptr) {
    const bool has_result = object->contains("result");
    const auto* error = object->if_contains("error");
    if (id == nullptr || has_result == (error != nullptr)) {
      return Error::Invalid("a message needs \"method\", or an id and one of result and error");
    }
    if (error != nullptr && !error->is_object())
      return Error::Invalid("\"error\" must be an object");
    message.kind = JsonRpcKind::kResponse;
    message.id = *id;
    return message;
  }
  if (!method->is_string() || method->get_string().empty()) {
    return Error::Invalid("\"method\" must be a non-empty string");
  }
  message.method = std::string(method->get_string());
  if (const auto* params = object->if_contains("params")) {
    if (!params->is_object()) return Error::Invalid("\"params\" must be an object");
    message.params = params->get_object();
  }
  if (id != nullptr) {
    message.kind = JsonRpcKind::kRequest;
    message.id = *id;
  }
  return message;
}

std::string JsonRpcResultLine(const boost::json::value& id, boost::json::object result) {
  boost::json::object line{{"jsonrpc", kVersion}, {"id", id}};
  line["result"] = std::move(result);
  return boost::json::serialize(line);
}

std::string JsonRpcErrorLine(const boost::json::value& id, std::int64_t code,
                             std::string_view message, const boost::json::value& data) {
  boost::json::object error{{"code", code}, {"message", message}};
  if (!data.is_null()) error["data"] = data;
  boost::json::object line{{"jsonrpc", kVersion}};
  if (!id.is_null()) line["id"] = id;
  line["error"] = std::move(error);
  return boost::json::serialize(line);
}

std::string JsonRpcNotificationLine(std::string_view method, boost::json::object params) {
  boost::json::object line{{"jsonrpc", kVersion}, {"method", method}};
  line["params"] = std::move(params);
  return boost::json::serialize(line);
}

}  // namespace countersign

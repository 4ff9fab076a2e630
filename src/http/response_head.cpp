#include "http/response_head.hpp"

#include <string_view>

namespace countersign {

std::string ResponseHead(const HttpResponse& response) {
  const unsigned status = response.result_int();
  const std::string_view reason = response.reason();
  size_t size = 17 + reason.size();  // "HTTP/1.1 200 " and two CRLFs
  for (const auto& field : response) {
    size += field.name_string().size() + field.value().size() + 4;  // ": " and CRLF
  }
  std::string head;
  head.reserve(size);
  const unsigned version = response.version();
  head += "HTTP/";
  head += static_cast<char>('0' + version / 10 % 10);
  head += '.';
  head += static_cast<char>('0' + version % 10);
  head += ' ';
  // Beast writes the status as it is, three digits for every status it accepts.
  head += static_cast<char>('0' + status / 100 % 10);
  head += static_cast<char>('0' + status / 10 % 10);
  head += static_cast<char>('0' + status % 10);
  head += ' ';
  head += reason;
  head += "\r\n";
  for (const auto& field : response) {
    head += field.name_string();
    head += ": ";
    head += field.value();
    head += "\r\n";
  }
  head += "\r\n";
  return head;
}

}  // namespace countersign

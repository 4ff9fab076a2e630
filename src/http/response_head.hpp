// ResponseHead: a response's status line and header fields as one string, ending in the blank
// line, byte for byte what Beast's serializer writes before the body.
//
// A response with a string body is then written as these bytes and its body in one gather
// write, without Beast's serializer (whose buffer-sequence iterators were about a tenth of
// the server's CPU on a cached status read). Chunked responses still go through Beast.
#pragma once

#include <string>

#include "http/beast.hpp"

namespace countersign {

std::string ResponseHead(const HttpResponse& response);

}  // namespace countersign

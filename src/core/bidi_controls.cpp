#include "core/bidi_controls.hpp"

namespace countersign {

std::string ShowBidiControls(std::string_view text) {
  // The three-byte ones are E2 followed by these two bytes in UTF-8; ALM is D8 9C.
  static constexpr struct {
    unsigned char middle, last;
    const char* name;
  } kControls[] = {
      {0x80, 0x8E, "[LRM]"}, {0x80, 0x8F, "[RLM]"}, {0x80, 0xAA, "[LRE]"}, {0x80, 0xAB, "[RLE]"},
      {0x80, 0xAC, "[PDF]"}, {0x80, 0xAD, "[LRO]"}, {0x80, 0xAE, "[RLO]"}, {0x81, 0xA6, "[LRI]"},
      {0x81, 0xA7, "[RLI]"}, {0x81, 0xA8, "[FSI]"}, {0x81, 0xA9, "[PDI]"},
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
    if (i + 1 < text.size() && b(0) == 0xD8 && b(1) == 0x9C) {
      out += "[ALM]";
      i += 2;
      continue;
    }
    const char* name = nullptr;
    if (i + 2 < text.size() && b(0) == 0xE2) {
      for (const auto& control : kControls) {
        if (b(1) == control.middle && b(2) == control.last) name = control.name;
      }
    }
    if (name != nullptr) {
      out += name;
      i += 3;
    } else {
      out += text[i];
      ++i;
    }
  }
  return out;
}

}  // namespace countersign

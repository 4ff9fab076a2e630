// A text file compiled into the binary (see countersign_embed in CMakeLists.txt).
#pragma once

namespace countersign {

struct EmbeddedFile {
  const char* name;
  const char* content;
};

}  // namespace countersign

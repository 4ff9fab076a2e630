#include "engine/field_reader.hpp"

#include <cmath>

namespace countersign {

bool IsWholeInt64(double d) { return d >= -0x1p63 && d < 0x1p63 && d == std::trunc(d); }

}  // namespace countersign

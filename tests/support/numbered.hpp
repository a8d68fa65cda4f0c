// tests/support/numbered.hpp — names with a number: numbered("job@", 7) == "job@7".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sked::test {

// Written out because GCC 12 gives a false -Wrestrict for a literal + std::to_string at -O2.
inline std::string numbered(std::string_view stem, std::size_t n) {
    std::string text{stem};
    text += std::to_string(n);
    return text;
}

}  // namespace sked::test

// sked/detail/concat.hpp — join pieces of text into one std::string, for messages.
//
// Written out instead of `"literal" + std::string(...)`, which GCC 12 at -O2 flags
// with a false -Wrestrict (so a user's -Werror build would break on our header).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace sked::detail {

inline std::string concat(std::initializer_list<std::string_view> pieces) {
    std::size_t size = 0;
    for (auto piece : pieces)
        size += piece.size();
    std::string text;
    text.reserve(size);
    for (auto piece : pieces)
        text.append(piece);
    return text;
}

}  // namespace sked::detail

// sked/text_error.hpp — why a text did not parse, and where.
//
// What sked's small text parsers return on bad input (durations, RFC 3339 instants): the
// byte offset where reading stopped and a fixed sentence, so a caller can point at it:
//     --from 2026-13-01T00:00:00Z: at byte 5: the month is not 01-12
// Cron expressions have their own, richer sked::cron_error (field, column, token).
#pragma once

#include <cstddef>
#include <string_view>

namespace sked {

struct text_error {
    std::size_t offset = 0;  ///< bytes into the text
    std::string_view reason;  ///< static text, e.g. "expected a unit (d, h, m, s or ms)"

    friend constexpr bool operator==(const text_error&, const text_error&) noexcept = default;
};

}  // namespace sked

// sked/duration.hpp — durations as text: "90s", "5m", "1h30m", "250ms", "30d", and back.
//
//     auto d = sked::parse_duration("1h30m");     // 5'400'000 ms
//     if (!d) say(d.error().offset, d.error().reason);  // sked::text_error
//     sked::format_duration(90s);                 // "1m30s"
//
// One grammar wherever sked reads a duration (`@every` in a cron expression, the job files
// of `sked check`, the examples' options): one or more terms <digits><unit>, units d h m s
// ms, nothing else (no spaces, signs or fractions), and a total that fits in
// std::chrono::milliseconds. Callers add their own bounds (`@every` wants whole seconds
// and more than zero). parse_duration allocates nothing and works in constant expressions.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "result.hpp"
#include "text_error.hpp"

namespace sked {

/// Parses a sum of <digits><unit> terms: "30d", "9d15h", "1m30s", "250ms", "0s".
constexpr result<std::chrono::milliseconds, text_error> parse_duration(std::string_view text) noexcept;

/// The shortest form parse_duration reads back: "30d", "1h30m", "1s250ms", "0s"
/// (negative durations get a leading '-', which parse_duration does not read).
inline std::string format_duration(std::chrono::milliseconds d);

// =======================================================================================
// Implementation
// =======================================================================================

namespace detail {

/// Milliseconds per unit at text[at...], and the unit's length; 0 for no unit.
constexpr std::pair<std::int64_t, std::size_t> duration_unit(std::string_view text, std::size_t at) noexcept {
    if (at >= text.size()) return {0, 0};
    if (text.substr(at).starts_with("ms")) return {1, 2};
    switch (text[at]) {
        case 'd':
            return {86'400'000, 1};
        case 'h':
            return {3'600'000, 1};
        case 'm':
            return {60'000, 1};
        case 's':
            return {1'000, 1};
        default:
            return {0, 0};
    }
}

}  // namespace detail

constexpr result<std::chrono::milliseconds, text_error> parse_duration(std::string_view text) noexcept {
    constexpr auto most = std::numeric_limits<std::int64_t>::max();
    if (text.empty()) return text_error{0, "the duration is empty"};
    std::int64_t total = 0;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t term = at;
        std::int64_t number = 0;
        for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at) {
            const int digit = text[at] - '0';
            if (number > (most - digit) / 10) return text_error{term, "the duration is too long"};
            number = number * 10 + digit;
        }
        if (at == term) return text_error{at, "expected a number"};
        const auto [unit_ms, unit_length] = detail::duration_unit(text, at);
        if (unit_length == 0) return text_error{at, "expected a unit (d, h, m, s or ms)"};
        at += unit_length;
        if (number > (most - total) / unit_ms) return text_error{term, "the duration is too long"};
        total += number * unit_ms;
    }
    return std::chrono::milliseconds{total};
}

inline std::string format_duration(std::chrono::milliseconds d) {
    if (d.count() == 0) return "0s";
    std::string out = d.count() < 0 ? "-" : "";
    // In unsigned arithmetic, so that the most negative count has a magnitude too.
    const auto count = static_cast<std::uint64_t>(d.count());
    std::uint64_t left = d.count() < 0 ? 0 - count : count;
    constexpr std::pair<std::uint64_t, const char*> units[] = {
        {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1'000, "s"}, {1, "ms"}};
    for (const auto& [unit_ms, name] : units) {
        if (left < unit_ms) continue;
        out += std::to_string(left / unit_ms);
        out += name;
        left %= unit_ms;
    }
    return out;
}

}  // namespace sked

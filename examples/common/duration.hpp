// examples/common/duration.hpp — "30d", "1h30m", "500ms" on the command line, and back.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace example {

/// Parses a sum of <number><unit> terms, units d h m s ms: "30d", "9d15h", "1m30s", "250ms".
inline std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    using namespace std::chrono;
    if (text.empty()) return std::nullopt;
    milliseconds total{0};
    while (!text.empty()) {
        std::int64_t number = 0;
        std::size_t digits = 0;
        while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
            if (number > 1'000'000'000) return std::nullopt;
            number = number * 10 + (text[digits++] - '0');
        }
        if (digits == 0) return std::nullopt;
        text.remove_prefix(digits);
        std::size_t unit_length = 1;
        milliseconds unit{0};
        if (text.starts_with("ms")) {
            unit = milliseconds{1}, unit_length = 2;
        } else if (text.starts_with("d")) {
            unit = days{1};
        } else if (text.starts_with("h")) {
            unit = hours{1};
        } else if (text.starts_with("m")) {
            unit = minutes{1};
        } else if (text.starts_with("s")) {
            unit = seconds{1};
        } else {
            return std::nullopt;
        }
        text.remove_prefix(unit_length);
        total += number * unit;
    }
    return total;
}

/// "30d", "1h30m", "1s250ms": the form parse_duration reads.
inline std::string format_duration(std::chrono::milliseconds d) {
    using namespace std::chrono;
    if (d == milliseconds{0}) return "0s";
    std::string out;
    auto take = [&](milliseconds unit, const char* name) {
        if (d >= unit) {
            out += std::to_string(d / unit) + name;
            d %= unit;
        }
    };
    take(days{1}, "d");
    take(hours{1}, "h");
    take(minutes{1}, "m");
    take(seconds{1}, "s");
    take(milliseconds{1}, "ms");
    return out;
}

}  // namespace example

// examples/common/timestamp.hpp — UTC instants as text: "2026-11-01T16:00:00.250Z", and back.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include <sked/clock.hpp>
#include <sked/idempotency.hpp>

namespace example {

/// "2026-11-01T16:00:00.250Z"
inline std::string stamp(sked::instant t) {
    const auto whole = std::chrono::floor<std::chrono::seconds>(t);
    const auto ms = (t - whole).count();
    std::string text = sked::rfc3339(whole);
    char fraction[8];
    std::snprintf(fraction, sizeof fraction, ".%03d", static_cast<int>(ms));
    text.insert(text.size() - 1, fraction);
    return text;
}

/// "YYYY-MM-DDTHH:MM:SS[.mmm]Z", UTC only: what stamp() and sked::rfc3339 write.
inline std::optional<sked::instant> parse_stamp(const std::string& text) {
    int y = 0;
    unsigned mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
    char z = 0;
    const bool with_ms =
        std::sscanf(text.c_str(), "%4d-%2u-%2uT%2u:%2u:%2u.%3u%c", &y, &mo, &d, &h, &mi, &s, &ms, &z) == 8;
    if (!with_ms && std::sscanf(text.c_str(), "%4d-%2u-%2uT%2u:%2u:%2u%c", &y, &mo, &d, &h, &mi, &s, &z) != 7)
        return std::nullopt;
    const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{mo}, std::chrono::day{d}};
    if (z != 'Z' || !date.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
    using namespace std::chrono;
    return sked::instant{sys_days{date}} + hours{h} + minutes{mi} + seconds{s} + milliseconds{ms};
}

}  // namespace example

// tools/sked/rfc3339.hpp — reading and writing RFC 3339 instants for the sked tool.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include <sked/detail/calendar.hpp>

namespace sked::tool {

/// "2026-11-24T00:00:00+08:00" (or "...Z" when `utc_designator`), for UTC instant t
/// shown at `offset`.
inline std::string format_rfc3339(std::chrono::sys_seconds t, std::chrono::seconds offset, bool utc_designator) {
    const std::int64_t local = t.time_since_epoch().count() + offset.count();
    const std::int64_t days = detail::floor_div(local, detail::seconds_per_day);
    const std::int64_t second_of_day = local - days * detail::seconds_per_day;
    const auto date = detail::civil_from_days(days);
    char text[64];
    int n = std::snprintf(text, sizeof text, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(date.year),
                          date.month, date.day, static_cast<long long>(second_of_day / 3600),
                          static_cast<long long>(second_of_day / 60 % 60), static_cast<long long>(second_of_day % 60));
    if (utc_designator) return std::string(text, static_cast<std::size_t>(n)) + "Z";
    const std::int64_t minutes = (offset.count() < 0 ? -offset.count() : offset.count()) / 60;
    std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), "%c%02lld:%02lld",
                  offset.count() < 0 ? '-' : '+', static_cast<long long>(minutes / 60),
                  static_cast<long long>(minutes % 60));
    return text;
}

/// Parses "YYYY-MM-DDTHH:MM:SS" followed by "Z" or "+HH:MM"/"-HH:MM" (RFC 3339 without
/// fractional seconds; 't', 'z' and a space for 'T' are accepted as the RFC allows).
inline std::optional<std::chrono::sys_seconds> parse_rfc3339(std::string_view text) {
    std::size_t pos = 0;
    const auto number = [&](std::size_t digits, int& out) {
        out = 0;
        for (std::size_t i = 0; i < digits; ++i, ++pos) {
            if (pos >= text.size() || text[pos] < '0' || text[pos] > '9') return false;
            out = out * 10 + (text[pos] - '0');
        }
        return true;
    };
    const auto expect = [&](std::string_view any_of) {
        if (pos >= text.size() || any_of.find(text[pos]) == std::string_view::npos) return false;
        ++pos;
        return true;
    };
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!(number(4, year) && expect("-") && number(2, month) && expect("-") && number(2, day) && expect("Tt ") &&
          number(2, hour) && expect(":") && number(2, minute) && expect(":") && number(2, second)))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 ||
        day > static_cast<int>(detail::days_in_month(year, static_cast<unsigned>(month))) || hour > 23 || minute > 59 ||
        second > 59)
        return std::nullopt;
    int offset = 0;
    if (expect("Zz")) {
        offset = 0;
    } else {
        const bool negative = pos < text.size() && text[pos] == '-';
        int offset_hours = 0, offset_minutes = 0;
        if (!(expect("+-") && number(2, offset_hours) && expect(":") && number(2, offset_minutes)) ||
            offset_hours > 23 || offset_minutes > 59)
            return std::nullopt;
        offset = (offset_hours * 3600 + offset_minutes * 60) * (negative ? -1 : 1);
    }
    if (pos != text.size()) return std::nullopt;
    const std::int64_t days = detail::days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return std::chrono::sys_seconds{
        std::chrono::seconds{days * detail::seconds_per_day + hour * 3600 + minute * 60 + second - offset}};
}

}  // namespace sked::tool

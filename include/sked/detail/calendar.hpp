// sked/detail/calendar.hpp — proleptic Gregorian calendar arithmetic on day counts.
//
// The cron search works on integers (days since 1970-01-01, seconds of the day) rather
// than std::chrono calendar types, converting through std::chrono only where it must.
#pragma once

#include <chrono>
#include <cstdint>

namespace sked::detail {

struct civil_date {
    std::int64_t year;
    unsigned month;  // 1-12
    unsigned day;  // 1-31
};

inline constexpr std::int64_t seconds_per_day = 86'400;

/// Rounds toward negative infinity, unlike `/`, so times before 1970 decompose correctly.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    const std::int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

constexpr bool is_leap_year(std::int64_t y) noexcept { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
    constexpr unsigned char lengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29u : lengths[m - 1];
}

/// Days since 1970-01-01. Delegates to std::chrono, whose libstdc++ implementation
/// (Neri and Schneider's algorithms) is faster than a hand-written Hinnant-style one
/// (docs/benchmarks.md). Valid for years -32767 to 32767, the search's range.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    const std::chrono::year_month_day date{std::chrono::year{static_cast<int>(y)}, std::chrono::month{m},
                                           std::chrono::day{d}};
    return std::chrono::sys_days{date}.time_since_epoch().count();
}

/// The inverse of days_from_civil.
constexpr civil_date civil_from_days(std::int64_t days) noexcept {
    const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{days}}};
    return {static_cast<int>(date.year()), static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day())};
}

/// 0 = Sunday ... 6 = Saturday. 1970-01-01 was a Thursday.
constexpr unsigned weekday_from_days(std::int64_t days) noexcept {
    return static_cast<unsigned>(days - floor_div(days + 4, 7) * 7 + 4);
}

}  // namespace sked::detail

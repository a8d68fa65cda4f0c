// sked/detail/calendar.hpp — proleptic Gregorian calendar arithmetic on day counts.
//
// The cron search works on integers (days since 1970-01-01, seconds of the day) rather
// than std::chrono calendar types: the same algorithms, but without range checks
// the search never needs, so they stay a handful of multiplications each.
#pragma once

#include <cstdint>

namespace sked::detail {

struct civil_date {
    std::int64_t year;
    unsigned month;  // 1-12
    unsigned day;    // 1-31
};

inline constexpr std::int64_t seconds_per_day = 86'400;

/// Rounds toward negative infinity, unlike `/`, so times before 1970 decompose correctly.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    const std::int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

constexpr bool is_leap_year(std::int64_t y) noexcept {
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
    constexpr unsigned char lengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29u : lengths[m - 1];
}

/// Days since 1970-01-01. Counts in 400-year eras that start on March 1st, so the leap
/// day is the last day of the counting year and needs no special case.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const std::int64_t era = floor_div(y, 400);
    const auto year_of_era = static_cast<unsigned>(y - era * 400);
    const unsigned day_of_year = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146'097 + static_cast<std::int64_t>(day_of_era) - 719'468;
}

/// The inverse of days_from_civil.
constexpr civil_date civil_from_days(std::int64_t days) noexcept {
    days += 719'468;
    const std::int64_t era = floor_div(days, 146'097);
    const auto day_of_era = static_cast<unsigned>(days - era * 146'097);
    const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
    const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const unsigned mp = (5 * day_of_year + 2) / 153;
    const unsigned day = day_of_year - (153 * mp + 2) / 5 + 1;
    const unsigned month = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2), month, day};
}

/// 0 = Sunday ... 6 = Saturday. 1970-01-01 was a Thursday.
constexpr unsigned weekday_from_days(std::int64_t days) noexcept {
    return static_cast<unsigned>(days - floor_div(days + 4, 7) * 7 + 4);
}

}  // namespace sked::detail

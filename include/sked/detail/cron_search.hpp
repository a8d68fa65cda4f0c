// sked/detail/cron_search.hpp — next/previous matching instant of a cron_spec.
//
// Times here are plain seconds since 1970-01-01 on a calendar without zones (UTC, or a
// zone's local time). The search moves field by field from the most significant one:
// find the first allowed year, then month, then the day mask of that month (one
// count-trailing-zeros), then the time of day. Each step jumps straight to the next set
// bit, so a typical answer costs one calendar decomposition and a few bit scans, and a
// sparse one (Feb 29, Friday 13th) one day-mask per month visited.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>

#include "calendar.hpp"
#include "cron_spec.hpp"

namespace sked::detail {

inline constexpr int no_bit = -1;

/// Lowest set bit >= from, or no_bit.
constexpr int next_bit(std::uint64_t mask, int from) noexcept {
    if (from < 0) from = 0;
    if (from > 63) return no_bit;
    const std::uint64_t rest = mask >> from;
    return rest == 0 ? no_bit : from + std::countr_zero(rest);
}

/// Highest set bit <= from, or no_bit.
constexpr int prev_bit(std::uint64_t mask, int from) noexcept {
    if (from < 0) return no_bit;
    const std::uint64_t rest = from >= 63 ? mask : mask & ((std::uint64_t{2} << from) - 1);
    return rest == 0 ? no_bit : 63 - std::countl_zero(rest);
}

// ---------------------------------------------------------------------------------------
// Days of a month
// ---------------------------------------------------------------------------------------

/// Days (bits 1..31) of a month whose day 1 is weekday `first` that fall on a weekday
/// in `weekdays`: rotate the 7-bit set so bit 0 is day 1, then repeat it five times.
constexpr std::uint32_t days_on_weekdays(std::uint8_t weekdays, unsigned first) noexcept {
    const unsigned set = weekdays;
    const unsigned rotated = ((set >> first) | (set << (7 - first))) & 0x7fu;
    return static_cast<std::uint32_t>((std::uint64_t{rotated} * 0x10204081u) << 1);
}

/// Quartz's nW: the weekday nearest to day n, never leaving the month.
constexpr unsigned nearest_weekday(unsigned day, unsigned length, unsigned first) noexcept {
    const unsigned weekday = (first + day - 1) % 7;
    if (weekday == 6) return day > 1 ? day - 1 : day + 2;
    if (weekday == 0) return day < length ? day + 1 : day - 2;
    return day;
}

constexpr std::uint32_t day_of_month_rules(const cron_spec& s, unsigned length, unsigned first) noexcept {
    std::uint32_t days = s.days;
    for (std::uint32_t offsets = s.last_day_offsets; offsets != 0; offsets &= offsets - 1) {
        const unsigned back = static_cast<unsigned>(std::countr_zero(offsets));
        if (back < length) days |= std::uint32_t{1} << (length - back);
    }
    for (std::uint32_t wanted = s.nearest_weekdays; wanted != 0; wanted &= wanted - 1) {
        const unsigned day = static_cast<unsigned>(std::countr_zero(wanted));
        if (day <= length) days |= std::uint32_t{1} << nearest_weekday(day, length, first);
    }
    if (s.last_weekday_of_month) days |= std::uint32_t{1} << nearest_weekday(length, length, first);
    return days;
}

constexpr std::uint32_t day_of_week_rules(const cron_spec& s, unsigned length, unsigned first) noexcept {
    std::uint32_t days = days_on_weekdays(s.weekdays, first);
    for (std::uint64_t nth = s.nth_weekdays; nth != 0; nth &= nth - 1) {
        const unsigned bit = static_cast<unsigned>(std::countr_zero(nth));
        const unsigned weekday = bit % 7, week = bit / 7;
        const unsigned day = 1 + (weekday + 7 - first) % 7 + 7 * week;
        if (day <= length) days |= std::uint32_t{1} << day;
    }
    const unsigned last_weekday = (first + length - 1) % 7;
    for (unsigned lasts = s.last_weekdays; lasts != 0; lasts &= lasts - 1) {
        const unsigned weekday = static_cast<unsigned>(std::countr_zero(lasts));
        days |= std::uint32_t{1} << (length - (last_weekday + 7 - weekday) % 7);
    }
    return days;
}

/// The days (bits 1..31) of month m of year y that match, applying Vixie's rule: when
/// both day fields are restricted (neither starts with '*' or '?') a day matches if
/// either does, otherwise both must.
constexpr std::uint32_t matching_days(const cron_spec& s, std::int64_t y, unsigned m, unsigned first) noexcept {
    const unsigned length = days_in_month(y, m);
    const std::uint32_t in_month = ((std::uint32_t{1} << length) - 1) << 1;
    const bool simple = !s.has_day_rules();
    const std::uint32_t by_day = simple ? s.days : day_of_month_rules(s, length, first);
    const std::uint32_t by_weekday =
        simple && s.weekdays == every_weekday ? in_month : day_of_week_rules(s, length, first);
    return (s.days_either() ? by_day | by_weekday : by_day & by_weekday) & in_month;
}

// ---------------------------------------------------------------------------------------
// Years
// ---------------------------------------------------------------------------------------

constexpr bool year_allowed(const cron_spec& s, std::int64_t y) noexcept {
    if (s.any_year) return true;
    if (y < first_year || y > last_year) return false;
    const auto bit = static_cast<unsigned>(y - first_year);
    return (s.years[bit / 64] >> (bit % 64)) & 1u;
}

/// First allowed year >= y (any_year: y itself); nullopt when none is left.
constexpr std::optional<std::int64_t> next_year(const cron_spec& s, std::int64_t y) noexcept {
    if (s.any_year) return y;
    int bit = static_cast<int>(y < first_year ? 0 : y > last_year ? 192 : y - first_year);
    for (int word = bit / 64; word < 3; ++word, bit = word * 64) {
        const int found = next_bit(s.years[static_cast<unsigned>(word)], bit % 64);
        if (found != no_bit) return first_year + word * 64 + found;
    }
    return std::nullopt;
}

/// Last allowed year <= y; nullopt when none is left.
constexpr std::optional<std::int64_t> prev_year(const cron_spec& s, std::int64_t y) noexcept {
    if (s.any_year) return y;
    if (y < first_year) return std::nullopt;
    int bit = static_cast<int>(y > last_year ? 191 : y - first_year);
    for (int word = bit / 64; word >= 0; --word, bit = word * 64 + 63) {
        const int found = prev_bit(s.years[static_cast<unsigned>(word)], bit % 64);
        if (found != no_bit) return first_year + word * 64 + found;
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Time of day
// ---------------------------------------------------------------------------------------

/// First matching second of the day at or after second `from` of the day, or -1.
constexpr std::int64_t next_time_of_day(const cron_spec& s, int from) noexcept {
    const int h = from / 3600;
    int m = from / 60 % 60, sec = from % 60;
    int hour = next_bit(s.hours, h);
    if (hour == no_bit) return -1;
    if (hour != h) m = sec = 0;
    int minute = next_bit(s.minutes, m);
    if (minute != m) sec = 0;
    if (minute == no_bit) {
        hour = next_bit(s.hours, hour + 1);
        minute = next_bit(s.minutes, 0);
    }
    int second = next_bit(s.seconds, sec);
    if (second == no_bit) {
        const int later_minute = next_bit(s.minutes, minute + 1);
        if (later_minute == no_bit) {
            hour = next_bit(s.hours, hour + 1);
            minute = next_bit(s.minutes, 0);
        } else {
            minute = later_minute;
        }
        second = next_bit(s.seconds, 0);
    }
    return hour < 0 ? -1 : hour * 3600 + minute * 60 + second;
}

/// Last matching second of the day at or before second `from` of the day, or -1.
constexpr std::int64_t prev_time_of_day(const cron_spec& s, int from) noexcept {
    const int h = from / 3600;
    int m = from / 60 % 60, sec = from % 60;
    int hour = prev_bit(s.hours, h);
    if (hour == no_bit) return -1;
    if (hour != h) m = sec = 59;
    int minute = prev_bit(s.minutes, m);
    if (minute != m) sec = 59;
    if (minute == no_bit) {
        hour = prev_bit(s.hours, hour - 1);
        minute = prev_bit(s.minutes, 59);
    }
    int second = prev_bit(s.seconds, sec);
    if (second == no_bit) {
        const int earlier_minute = prev_bit(s.minutes, minute - 1);
        if (earlier_minute == no_bit) {
            hour = prev_bit(s.hours, hour - 1);
            minute = prev_bit(s.minutes, 59);
        } else {
            minute = earlier_minute;
        }
        second = prev_bit(s.seconds, 59);
    }
    return hour < 0 ? -1 : hour * 3600 + minute * 60 + second;
}

// ---------------------------------------------------------------------------------------
// The search
// ---------------------------------------------------------------------------------------

// The Gregorian calendar repeats every 400 years, so a satisfiable day rule matches
// within 400 years of any start; the bound only stops searches past the year field.
inline constexpr int max_months_searched = 401 * 12;
inline constexpr std::int64_t min_year_searched = -32'767;  // std::chrono::year's range
inline constexpr std::int64_t max_year_searched = 32'767;

// The first and last second (since 1970) the search covers: std::chrono::year's range.
inline constexpr std::int64_t first_second_searched = days_from_civil(min_year_searched, 1, 1) * seconds_per_day;
inline constexpr std::int64_t last_second_searched =
    days_from_civil(max_year_searched, 12, 31) * seconds_per_day + 86'399;
static_assert(first_second_searched == -1'096'193'779'200 && last_second_searched == 971'890'963'199);

/// When only the weekday decides whether a day matches (no month, year, day-of-month
/// or special-day restriction: most schedules), the 7-bit set of matching weekdays;
/// otherwise -1. Such schedules need no calendar conversion at all.
constexpr int weekday_only(const cron_spec& s) noexcept {
    if (!s.any_year || s.months != every_month || s.days != every_day || s.has_day_rules()) return -1;
    return s.days_either() ? every_weekday : s.weekdays;  // "either" with every day of the month is every day
}

/// Days from `day` (weekday `weekday`) to the next day, 1-7 days later, on a weekday in `weekdays`.
constexpr int days_to_weekday(unsigned weekdays, unsigned weekday) noexcept {
    const unsigned after = (weekday + 1) % 7;
    const unsigned rotated = ((weekdays >> after) | (weekdays << (7 - after))) & 0x7fu;
    return 1 + std::countr_zero(rotated);
}

/// Days back from a day with weekday `weekday` to the previous one, 1-7 days earlier, in `weekdays`.
constexpr int days_since_weekday(unsigned weekdays, unsigned weekday) noexcept {
    const unsigned before = (weekday + 6) % 7;
    const unsigned rotated = ((weekdays << (6 - before)) | (weekdays >> (before + 1))) & 0x7fu;
    return 1 + std::countl_zero(rotated << 25);
}

/// First matching instant strictly after t.
constexpr std::optional<std::int64_t> next_match(const cron_spec& s, std::int64_t t) noexcept {
    if (t < first_second_searched || t >= last_second_searched) return std::nullopt;
    if (s.every_seconds != 0) return (floor_div(t, s.every_seconds) + 1) * s.every_seconds;
    ++t;
    const std::int64_t start_day = floor_div(t, seconds_per_day);
    const auto start_second = static_cast<int>(t - start_day * seconds_per_day);
    if (const int weekdays = weekday_only(s); weekdays >= 0) {
        const unsigned weekday = weekday_from_days(start_day);
        if ((weekdays >> weekday) & 1) {
            const std::int64_t today = next_time_of_day(s, start_second);
            if (today >= 0) return start_day * seconds_per_day + today;
        }
        const std::int64_t day = start_day + days_to_weekday(static_cast<unsigned>(weekdays), weekday);
        return day * seconds_per_day + next_time_of_day(s, 0);
    }
    auto [y, m, d] = civil_from_days(start_day);
    const std::int64_t start_month = start_day - (d - 1);  // saves a conversion in the common case
    bool start_of_day = false;  // whether the time of day is still bounded by t
    for (int months = 0; months < max_months_searched && y <= max_year_searched; ++months) {
        if (!year_allowed(s, y)) {
            const auto allowed = next_year(s, y);
            if (!allowed) return std::nullopt;
            y = *allowed, m = 1, d = 1, start_of_day = true;
        }
        const int month = next_bit(s.months, static_cast<int>(m));
        if (month == no_bit) {
            ++y, m = 1, d = 1, start_of_day = true;
            continue;
        }
        if (static_cast<unsigned>(month) != m) m = static_cast<unsigned>(month), d = 1, start_of_day = true;
        const std::int64_t month_start = months == 0 && !start_of_day ? start_month : days_from_civil(y, m, 1);
        const std::uint32_t days = matching_days(s, y, m, weekday_from_days(month_start));
        for (int day = next_bit(days, static_cast<int>(d)); day != no_bit; day = next_bit(days, day + 1)) {
            const bool bounded = !start_of_day && static_cast<unsigned>(day) == d;
            const std::int64_t time = bounded ? next_time_of_day(s, start_second) : next_time_of_day(s, 0);
            if (time >= 0) return (month_start + day - 1) * seconds_per_day + time;
        }
        if (++m > 12) ++y, m = 1;
        d = 1, start_of_day = true;
    }
    return std::nullopt;
}

/// Last matching instant strictly before t.
constexpr std::optional<std::int64_t> prev_match(const cron_spec& s, std::int64_t t) noexcept {
    if (t <= first_second_searched || t > last_second_searched) return std::nullopt;
    if (s.every_seconds != 0) return (floor_div(t - 1, s.every_seconds)) * s.every_seconds;
    --t;
    const std::int64_t start_day = floor_div(t, seconds_per_day);
    const auto start_second = static_cast<int>(t - start_day * seconds_per_day);
    if (const int weekdays = weekday_only(s); weekdays >= 0) {
        const unsigned weekday = weekday_from_days(start_day);
        if ((weekdays >> weekday) & 1) {
            const std::int64_t today = prev_time_of_day(s, start_second);
            if (today >= 0) return start_day * seconds_per_day + today;
        }
        const std::int64_t day = start_day - days_since_weekday(static_cast<unsigned>(weekdays), weekday);
        return day * seconds_per_day + prev_time_of_day(s, 86'399);
    }
    auto [y, m, d] = civil_from_days(start_day);
    const std::int64_t start_month = start_day - (d - 1);
    bool end_of_day = false;  // whether the time of day is still bounded by t
    for (int months = 0; months < max_months_searched && y >= min_year_searched; ++months) {
        if (!year_allowed(s, y)) {
            const auto allowed = prev_year(s, y);
            if (!allowed) return std::nullopt;
            y = *allowed, m = 12, d = 31, end_of_day = true;
        }
        const int month = prev_bit(s.months, static_cast<int>(m));
        if (month == no_bit) {
            --y, m = 12, d = 31, end_of_day = true;
            continue;
        }
        if (static_cast<unsigned>(month) != m) m = static_cast<unsigned>(month), d = 31, end_of_day = true;
        const std::int64_t month_start = months == 0 && !end_of_day ? start_month : days_from_civil(y, m, 1);
        const std::uint32_t days = matching_days(s, y, m, weekday_from_days(month_start));
        for (int day = prev_bit(days, static_cast<int>(d)); day != no_bit; day = prev_bit(days, day - 1)) {
            const bool bounded = !end_of_day && static_cast<unsigned>(day) == d;
            const std::int64_t time = bounded ? prev_time_of_day(s, start_second) : prev_time_of_day(s, 86'399);
            if (time >= 0) return (month_start + day - 1) * seconds_per_day + time;
        }
        if (--m < 1) --y, m = 12;
        d = 31, end_of_day = true;
    }
    return std::nullopt;
}

/// Whether any day can ever match (checked once at parse time, so that next() and
/// prev() never search in vain): scans one 400-year cycle, or the year field.
constexpr bool can_fire(const cron_spec& s) noexcept {
    if (s.seconds == 0 || s.minutes == 0 || s.hours == 0 || s.months == 0) return false;
    const std::int64_t from = s.any_year ? 2000 : first_year;
    const std::int64_t to = s.any_year ? 2399 : last_year;
    for (std::int64_t y = from; y <= to; ++y) {
        if (!year_allowed(s, y)) continue;
        for (int m = next_bit(s.months, 1); m != no_bit; m = next_bit(s.months, m + 1)) {
            const auto month = static_cast<unsigned>(m);
            if (matching_days(s, y, month, weekday_from_days(days_from_civil(y, month, 1))) != 0) return true;
        }
    }
    return false;
}

}  // namespace sked::detail

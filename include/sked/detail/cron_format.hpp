// sked/detail/cron_format.hpp — the canonical text of a cron_spec.
//
// Canonical means: the same value always prints the same way, and the text parses back
// (with the same parse_options) to an equal value. A field whose first item was '*'
// keeps its leading '*' or '*/s', because that prefix changes meaning (DST wildness,
// Vixie's day OR); the rest prints as ascending ranges, or as a single a-b/s series.
#pragma once

#include <bit>
#include <chrono>
#include <cstdint>
#include <string>

#include "../duration.hpp"
#include "cron_search.hpp"
#include "cron_spec.hpp"

namespace sked::detail {

inline void append_number(std::string& out, std::int64_t n) { out += std::to_string(n); }

/// The set bits of `mask` as "a,b-c" runs, or as one "a-b/s" series when they form one.
inline void append_values(std::string& out, std::uint64_t mask) {
    const int count = std::popcount(mask);
    if (count >= 3) {
        const int first = std::countr_zero(mask), second = next_bit(mask, first + 1);
        const int step = second - first, last = 63 - std::countl_zero(mask);
        std::uint64_t series = 0;
        for (int v = first; v <= last; v += step)
            series |= std::uint64_t{1} << v;
        if (step > 1 && series == mask) {
            append_number(out, first), out += '-', append_number(out, last);
            out += '/', append_number(out, step);
            return;
        }
    }
    for (int v = next_bit(mask, 0); v != no_bit;) {
        int end = v;
        while (end < 63 && ((mask >> (end + 1)) & 1u))
            ++end;
        if (v != std::countr_zero(mask)) out += ',';
        append_number(out, v);
        if (end > v) out += '-', append_number(out, end);
        v = next_bit(mask, end + 1);
    }
}

inline void append_separator(std::string& out, std::size_t field_start) {
    if (out.size() > field_start) out += ',';
}

inline void append_field(std::string& out, const cron_spec& s, cron_field field, std::uint64_t mask, int low,
                         int star_high) {
    const std::size_t start = out.size();
    if (s.is_star(field)) {
        const int step = s.star_steps[static_cast<unsigned>(field)];
        out += '*';
        if (step != 1) out += '/', append_number(out, step);
        for (int v = low; v <= star_high; v += step)
            mask &= ~(std::uint64_t{1} << v);
    }
    if (mask != 0) append_separator(out, start), append_values(out, mask);
}

inline void append_day_of_month(std::string& out, const cron_spec& s) {
    const std::size_t start = out.size();
    append_field(out, s, cron_field::day_of_month, s.days, 1, 31);
    for (int back = next_bit(s.last_day_offsets, 0); back != no_bit; back = next_bit(s.last_day_offsets, back + 1)) {
        append_separator(out, start), out += 'L';
        if (back != 0) out += '-', append_number(out, back);
    }
    for (int day = next_bit(s.nearest_weekdays, 0); day != no_bit; day = next_bit(s.nearest_weekdays, day + 1))
        append_separator(out, start), append_number(out, day), out += 'W';
    if (s.last_weekday_of_month) append_separator(out, start), out += "LW";
}

inline void append_day_of_week(std::string& out, const cron_spec& s) {
    const std::size_t start = out.size();
    append_field(out, s, cron_field::day_of_week, s.weekdays, 0, 6);
    for (int d = next_bit(s.last_weekdays, 0); d != no_bit; d = next_bit(s.last_weekdays, d + 1))
        append_separator(out, start), append_number(out, d), out += 'L';
    for (int bit = next_bit(s.nth_weekdays, 0); bit != no_bit; bit = next_bit(s.nth_weekdays, bit + 1))
        append_separator(out, start), append_number(out, bit % 7), out += '#', append_number(out, bit / 7 + 1);
}

inline void append_years(std::string& out, const cron_spec& s) {
    if (s.any_year) {
        out += '*';
        return;
    }
    const std::size_t start = out.size();
    if (s.is_star(cron_field::year)) {
        auto rest = s.years;  // the years beyond the '*/s' series
        const int step = s.star_steps[static_cast<unsigned>(cron_field::year)];
        out += "*/", append_number(out, step);
        for (int y = first_year; y <= last_year; y += step) {
            const auto bit = static_cast<unsigned>(y - first_year);
            rest[bit / 64] &= ~(std::uint64_t{1} << (bit % 64));
        }
        for (unsigned w = 0; w < 3; ++w)
            for (int b = next_bit(rest[w], 0); b != no_bit; b = next_bit(rest[w], b + 1))
                append_separator(out, start), append_number(out, first_year + static_cast<int>(w) * 64 + b);
        return;
    }
    // Years span 130 bits; print runs with a simple scan instead of the 64-bit helpers.
    for (int y = first_year; y <= last_year; ++y) {
        if (!year_allowed(s, y)) continue;
        int end = y;
        while (end < last_year && year_allowed(s, end + 1))
            ++end;
        append_separator(out, start), append_number(out, y);
        if (end > y) out += '-', append_number(out, end);
        y = end;
    }
}

inline std::string format(const cron_spec& s) {
    std::string out;
    if (!s.zone.empty()) out += "CRON_TZ=", out += s.zone.view(), out += ' ';
    if (s.every_seconds != 0) return out + "@every " + format_duration(std::chrono::seconds{s.every_seconds});
    if (s.field_count != 5) append_field(out, s, cron_field::second, s.seconds, 0, 59), out += ' ';
    append_field(out, s, cron_field::minute, s.minutes, 0, 59), out += ' ';
    append_field(out, s, cron_field::hour, s.hours, 0, 23), out += ' ';
    append_day_of_month(out, s), out += ' ';
    append_field(out, s, cron_field::month, s.months, 1, 12), out += ' ';
    append_day_of_week(out, s);
    if (s.field_count == 7) out += ' ', append_years(out, s);
    return out;
}

}  // namespace sked::detail

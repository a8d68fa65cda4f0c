// sked/cron_explain.hpp — a cron expression in plain English, for logs, status pages
// and `sked explain`:
//     "30 9 * * 5L"      -> "At 09:30 on the last Friday of every month"
//     "*/15 * * * * *"   -> "Every 15 seconds"
// Opt-in (it allocates std::string); cron.hpp does not include it.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cron.hpp"

namespace sked {

/// A short English description of `expr`, in its own (local) time.
std::string explain(const cron& expr);

// ---------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------

namespace detail {

inline constexpr std::string_view weekday_names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                     "Thursday", "Friday", "Saturday"};
inline constexpr std::string_view month_names[] = {"",        "January",  "February", "March",  "April",
                                                   "May",     "June",     "July",     "August", "September",
                                                   "October", "November", "December"};
inline constexpr std::string_view ordinals[] = {"first", "second", "third", "fourth", "fifth"};

/// n in 0-99 as two digits ("07").
inline std::string two_digits(int n) { return {static_cast<char>('0' + n / 10), static_cast<char>('0' + n % 10)}; }

/// "a, b-c and d" over the set bits; `name` turns a value into text.
template <class Name>
std::string list_text(std::uint64_t mask, Name name, std::string_view through = "-") {
    struct run {
        int first, last;
    };
    std::vector<run> runs;
    for (int v = next_bit(mask, 0); v != no_bit; v = next_bit(mask, v + 1)) {
        int end = v;
        while (end < 63 && ((mask >> (end + 1)) & 1u))
            ++end;
        runs.push_back({v, end});
        v = end;
    }
    std::string out;
    const std::size_t total = runs.size();
    for (std::size_t i = 0; i < total; ++i) {
        const auto [v, end] = runs[i];
        if (i != 0) out += i + 1 == total ? " and " : ", ";
        out += name(v);
        if (end > v + 1)
            out += std::string(through) + name(end);
        else if (end == v + 1)
            out += (total == 1 ? " and " : ", ") + name(end);
    }
    return out;
}

inline std::string number(int v) { return std::to_string(v); }

inline bool single(std::uint64_t mask) { return std::popcount(mask) == 1; }

/// "every 15 minutes", "every minute", "at minutes 0 and 30".
inline std::string unit_text(const cron_spec& s, cron_field field, std::uint64_t mask, std::uint64_t full,
                             std::string_view unit) {
    const int step = s.star_steps[static_cast<unsigned>(field)];
    const std::string units = std::string(unit) + "s";
    if (s.is_star(field) && mask == full) return "every " + std::string(unit);
    if (s.is_star(field) && step > 1) {
        std::uint64_t series = 0;
        for (int v = std::countr_zero(full); v < 64 - std::countl_zero(full); v += step)
            series |= std::uint64_t{1} << v;
        if (series == mask) return "every " + std::to_string(step) + " " + units;
    }
    return "at " + std::string(single(mask) ? unit : units) + " " + list_text(mask, number);
}

inline std::string time_text(const cron_spec& s) {
    const bool seconds_shown = s.field_count != 5;
    if (single(s.seconds) && single(s.minutes) && single(s.hours)) {
        const int sec = std::countr_zero(s.seconds);
        std::string out = "At " + two_digits(std::countr_zero(s.hours)) + ":" + two_digits(std::countr_zero(s.minutes));
        return sec != 0 ? out + ":" + two_digits(sec) : out;
    }
    std::string out;
    const auto add = [&out](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
    const std::uint64_t sixty = (std::uint64_t{1} << 60) - 1;
    if (seconds_shown && !(single(s.seconds) && s.seconds == 1))
        add(unit_text(s, cron_field::second, s.seconds, sixty, "second"));
    const bool sub_minute = seconds_shown && !single(s.seconds);
    if (!(sub_minute && s.minutes == sixty)) add(unit_text(s, cron_field::minute, s.minutes, sixty, "minute"));
    if (s.hours != every_hour) {
        const int step = s.star_steps[static_cast<unsigned>(cron_field::hour)];
        if (s.is_star(cron_field::hour) && step > 1)
            add(unit_text(s, cron_field::hour, s.hours, every_hour, "hour"));
        else
            add(std::string(single(s.hours) ? "during hour " : "during hours ") +
                list_text(s.hours, [](int h) { return two_digits(h) + ":00"; }));
    }
    out[0] = static_cast<char>(out[0] - 'a' + 'A');
    return out;
}

inline std::string months_text(const cron_spec& s) {
    if (s.months == every_month) return "every month";
    return list_text(
        s.months, [](int m) { return std::string(month_names[m]); }, " through ");
}

/// The day-of-month part ("day 1", "the last day"), each "of <months>" added by caller.
inline std::string month_days_text(const cron_spec& s) {
    std::string out;
    const auto add = [&out](const std::string& part) { out += (out.empty() ? "" : " and ") + part; };
    const bool all_days = s.days == every_day;
    if (s.days != 0 && !all_days) add(std::string(single(s.days) ? "day " : "days ") + list_text(s.days, number));
    for (int back = next_bit(s.last_day_offsets, 0); back != no_bit; back = next_bit(s.last_day_offsets, back + 1))
        add(back == 0 ? std::string("the last day") : std::to_string(back) + " days before the last day");
    for (int d = next_bit(s.nearest_weekdays, 0); d != no_bit; d = next_bit(s.nearest_weekdays, d + 1))
        add("the weekday nearest day " + std::to_string(d));
    if (s.last_weekday_of_month) add("the last weekday");
    return out;
}

inline std::string weekdays_text(const cron_spec& s, std::string_view of_months) {
    std::string out;
    const auto add = [&out](const std::string& part) { out += (out.empty() ? "" : " and ") + part; };
    if (s.weekdays != 0 && s.weekdays != every_weekday)
        add(list_text(
            s.weekdays, [](int d) { return std::string(weekday_names[d]); }, " through "));
    for (int b = next_bit(s.nth_weekdays, 0); b != no_bit; b = next_bit(s.nth_weekdays, b + 1))
        add("the " + std::string(ordinals[b / 7]) + " " + std::string(weekday_names[b % 7]) + " of " +
            std::string(of_months));
    for (int d = next_bit(s.last_weekdays, 0); d != no_bit; d = next_bit(s.last_weekdays, d + 1))
        add("the last " + std::string(weekday_names[d]) + " of " + std::string(of_months));
    return out;
}

inline std::string years_text(const cron_spec& s) {
    std::string out;
    for (int y = first_year; y <= last_year; ++y) {
        if (!year_allowed(s, y)) continue;
        int end = y;
        while (end < last_year && year_allowed(s, end + 1))
            ++end;
        out += (out.empty() ? "in " : ", ") + std::to_string(y);
        if (end > y) out += " through " + std::to_string(end);
        y = end;
    }
    return out;
}

}  // namespace detail

inline std::string explain(const cron& expr) {
    const detail::cron_spec& spec = expr.spec_;
    if (spec.every_seconds != 0)
        return "Every " + format_duration(std::chrono::seconds{spec.every_seconds}) + " since the Unix epoch";
    std::string out = detail::time_text(spec);
    const std::string months = detail::months_text(spec);
    const std::string by_day = detail::month_days_text(spec);
    const std::string by_weekday = detail::weekdays_text(spec, months);
    const bool both = !by_day.empty() && !by_weekday.empty();
    if (!by_day.empty()) out += " on " + by_day + " of " + months;
    if (both) out += spec.days_either() ? " or" : " if it is";
    if (!by_weekday.empty()) out += " on " + by_weekday;
    if (by_day.empty() && spec.months != detail::every_month && by_weekday.find(" of ") == std::string::npos)
        out += " in " + months;
    if (by_day.empty() && by_weekday.empty() && spec.months == detail::every_month && detail::single(spec.hours))
        out += " every day";
    if (!spec.any_year) out += " " + detail::years_text(spec);
    if (!spec.zone.empty()) out += " (" + std::string(spec.zone.view()) + ")";
    return out;
}

}  // namespace sked

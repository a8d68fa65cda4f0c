// sked/calendar.hpp — when a job may run: hours of the day and days of the week in a
// zone, minus listed dates.
//
//     auto office = sked::calendar::business_hours(manila);          // Mon-Fri 09:00-17:00
//     office.skip_dates = {2026y / 12 / 25d, 2026y / 12 / 30d};
//
// A recurring slot outside the calendar is skipped (reported as outside_calendar); a
// one-off job outside it is moved to the next instant the calendar allows.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "any_zone.hpp"

namespace sked {

struct calendar {
    any_zone zone{};  ///< the zone the hours and dates are in
    std::chrono::minutes opens{0};  ///< local time of day the window opens (inclusive)
    std::chrono::minutes closes{24 * 60};  ///< local time of day it closes (exclusive)
    std::uint8_t weekdays = 0x7f;  ///< bit d set: weekday d allowed (0 = Sunday)
    std::vector<std::chrono::year_month_day> skip_dates{};  ///< local dates never allowed

    /// Monday to Friday, `opens` to `closes` local time.
    static calendar business_hours(any_zone zone, std::chrono::minutes opens = std::chrono::hours{9},
                                   std::chrono::minutes closes = std::chrono::hours{17}) {
        return calendar{std::move(zone), opens, closes, 0b0111110, {}};
    }

    /// Why the calendar can never allow anything, or empty when it can.
    [[nodiscard]] std::string problem() const {
        if (opens < std::chrono::minutes{0} || closes > std::chrono::hours{24} || opens >= closes) {
            return "calendar hours " + std::to_string(opens.count()) + "-" + std::to_string(closes.count()) +
                   " min are not a window within one day";
        }
        if ((weekdays & 0x7f) == 0) return "calendar allows no weekday";
        return {};
    }

    /// Whether `t` lies inside the calendar.
    [[nodiscard]] bool allows(std::chrono::sys_seconds t) const {
        const auto local = t + zone.segment(t).offset;
        const auto day = std::chrono::floor<std::chrono::days>(local);
        return day_allowed(day) && in_hours(local - day);
    }

    /// The first instant at or after `t` inside the calendar; nullopt if none within
    /// about eight years (a calendar whose every allowed date is skipped).
    [[nodiscard]] std::optional<std::chrono::sys_seconds> next_allowed(std::chrono::sys_seconds t) const {
        using namespace std::chrono;
        if (allows(t)) return t;
        const auto first_day = floor<days>(t + zone.segment(t).offset);
        for (int d = 0; d < max_days_searched; ++d) {
            const sys_days day = first_day + days{d};
            if (!day_allowed(day)) continue;
            // The window's opening on that local day, mapped to UTC; a DST change at the
            // opening hour can shift it, so the candidate is checked (and, in a gap, the
            // first allowed minute after it taken).
            const auto local_open = sys_seconds{day} + opens;
            auto candidate = local_open - zone.segment(local_open - zone.segment(local_open).offset).offset;
            if (candidate < t) candidate = t;
            for (int step = 0; step < 180 && floor<days>(candidate + zone.segment(candidate).offset) <= day; ++step) {
                if (allows(candidate)) return candidate;
                candidate += minutes{1};
            }
        }
        return std::nullopt;
    }

    friend bool operator==(const calendar& a, const calendar& b) {
        return (a.zone.same_as(b.zone) || a.zone.name() == b.zone.name()) && a.opens == b.opens &&
               a.closes == b.closes && a.weekdays == b.weekdays && a.skip_dates == b.skip_dates;
    }

private:
    static constexpr int max_days_searched = 3000;

    bool day_allowed(std::chrono::sys_days day) const {
        const unsigned weekday = std::chrono::weekday{day}.c_encoding();
        if (((weekdays >> weekday) & 1u) == 0) return false;
        return std::find(skip_dates.begin(), skip_dates.end(), std::chrono::year_month_day{day}) == skip_dates.end();
    }
    bool in_hours(std::chrono::seconds time_of_day) const { return time_of_day >= opens && time_of_day < closes; }
};

}  // namespace sked

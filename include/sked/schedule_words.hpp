// sked/schedule_words.hpp — a job's schedule in words, from the text status reports.
//
// The status (sked::job_status::schedule, "schedule" in /scheduler/status) carries
// schedule::describe()'s text; the dashboard and `sked status` show it to a person:
//     schedule_in_words("cron 0 9 * * MON-FRI (Europe/Berlin)")
//         == "At 09:00, Monday through Friday (Europe/Berlin)"
#pragma once

#include <charconv>
#include <chrono>
#include <string>
#include <string_view>

#include "cron.hpp"
#include "cron_explain.hpp"
#include "duration.hpp"

namespace sked {

/// A schedule in words, from schedule::describe()'s text ("cron 0 0 * * * (Asia/Manila)",
/// "every 60s", "once 2026-...Z"); anything else as it is (it may come from another
/// version of sked over HTTP).
inline std::string schedule_in_words(std::string_view described) {
    constexpr std::string_view cron_prefix = "cron ";
    if (described.starts_with(cron_prefix)) {
        const auto zone_at = described.rfind(" (");
        const auto text = described.substr(cron_prefix.size(), zone_at - cron_prefix.size());
        if (const auto expr = cron::parse(text)) {
            auto words = explain(*expr);
            if (zone_at != std::string_view::npos) words.append(described.substr(zone_at));
            return words;
        }
    }
    constexpr std::string_view every_prefix = "every ";
    if (described.starts_with(every_prefix) && described.ends_with("s")) {
        const auto digits = described.substr(every_prefix.size(), described.size() - every_prefix.size() - 1);
        long long seconds = 0;
        const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), seconds);
        // Up to 68 years: a period sked makes; a larger count would overflow as milliseconds.
        constexpr long long most = 2'147'483'647;
        if (error == std::errc{} && end == digits.data() + digits.size() && seconds > 0 && seconds <= most)
            return "Every " + format_duration(std::chrono::seconds{seconds});
    }
    constexpr std::string_view once_prefix = "once ";
    if (described.starts_with(once_prefix)) return "Once, at " + std::string{described.substr(once_prefix.size())};
    return std::string{described};
}

/// The zone a schedule's text names ("Europe/Berlin" of "cron 0 9 * * * (Europe/Berlin)");
/// empty for a schedule of instants (every, once), which are in UTC.
inline std::string_view schedule_zone(std::string_view described) {
    if (!described.starts_with("cron ") || !described.ends_with(")")) return {};
    const auto open = described.rfind(" (");
    if (open == std::string_view::npos) return {};
    return described.substr(open + 2, described.size() - open - 3);
}

}  // namespace sked

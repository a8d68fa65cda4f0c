// sked/stagger_cron.hpp — cron schedules in a stagger table.
//
// A cron job fires at instants that need not repeat with one period, so it enters a
// table as one pinned row per fire instant within a week, each with a period of one
// week. The week is fixed (UTC, from Monday 2026-11-23 00:00) so every replica builds
// the same rows; schedules that repeat weekly or more often (nearly all) are described
// exactly, while "0 0 1 * *" and other monthly or yearly ones are checked for the
// week that window happens to contain.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "cron.hpp"
#include "stagger.hpp"

namespace sked {

inline constexpr std::uint32_t cron_rows_window = 7 * 24 * 3600;
/// More rows than one a minute would make tables slow to check; use a period instead.
inline constexpr std::size_t max_cron_rows = 7 * 24 * 60;

/// The rows of `schedule` (UTC) for a table, or nothing when it fires more than once a
/// minute on average or never within the week.
inline std::optional<std::vector<stagger_job>> cron_rows(std::string_view name, const cron& schedule,
                                                         std::uint32_t duration = 1) {
    const auto window_start = std::chrono::sys_seconds{std::chrono::seconds{1'795'392'000}};  // a Monday
    const auto window_end = window_start + std::chrono::seconds{cron_rows_window};
    std::vector<stagger_job> rows;
    for (auto t = schedule.next(window_start - std::chrono::seconds{1}); t && *t < window_end; t = schedule.next(*t)) {
        if (rows.size() == max_cron_rows) return std::nullopt;
        rows.push_back({.name = name,
                        .period = cron_rows_window,
                        .offset = static_cast<std::uint32_t>((*t - window_start).count()),
                        .duration = duration,
                        .pinned = true});
    }
    if (rows.empty()) return std::nullopt;
    return rows;
}

}  // namespace sked

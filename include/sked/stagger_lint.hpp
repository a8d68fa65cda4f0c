// sked/stagger_lint.hpp — warnings about a job table, in words an operator acts on:
//     6 jobs start at second 0 of every 60 s; run `sked plan`
//     offset 75 s of 'live_stats' exceeds its 60 s period
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "detail/concat.hpp"
#include "stagger.hpp"

namespace sked {

struct stagger_warning {
    enum class kind : std::uint8_t {
        invalid_job,  ///< a period, duration or offset outside what the table allows
        start_together,  ///< several jobs start in the same second of one period
        collision_peak,  ///< jobs collide; the message gives the peak
    };
    kind what = kind::invalid_job;
    std::string message;
    friend bool operator==(const stagger_warning&, const stagger_warning&) = default;
};

/// Warnings in a fixed order: per job (period, duration, offset), then groups of jobs
/// starting together, then the peak.
inline std::vector<stagger_warning> lint(std::span<const stagger_job> jobs) {
    using detail::concat;
    std::vector<stagger_warning> warnings;
    bool usable = true;
    for (const auto& job : jobs) {
        if (job.period == 0) {
            warnings.push_back(
                {stagger_warning::kind::invalid_job, concat({"job '", job.name, "' has a period of 0 s"})});
            usable = false;
            continue;
        }
        const auto period = std::to_string(job.period);
        if (job.duration == 0 || job.duration > job.period) {
            warnings.push_back({stagger_warning::kind::invalid_job,
                                concat({"duration ", std::to_string(job.duration), " s of '", job.name,
                                        "' is outside 1 s to its ", period, " s period"})});
            usable = false;
        }
        if (job.offset >= job.period) {
            warnings.push_back(
                {stagger_warning::kind::invalid_job, concat({"offset ", std::to_string(job.offset), " s of '", job.name,
                                                             "' exceeds its ", period, " s period"})});
        }
    }
    if (!usable) return warnings;
    // Jobs of one period that start in the same second of it.
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::size_t> starting;
    for (const auto& job : jobs)
        ++starting[{job.period, job.offset % job.period}];
    for (const auto& [when, count] : starting) {
        if (count < 2) continue;
        warnings.push_back({stagger_warning::kind::start_together,
                            concat({std::to_string(count), " jobs start at second ", std::to_string(when.second),
                                    " of every ", std::to_string(when.first), " s; run `sked plan`"})});
    }
    const auto report = check(jobs);
    if (report.collisions > 0 && report.hyperperiod != 0) {
        warnings.push_back({stagger_warning::kind::collision_peak,
                            concat({std::to_string(report.peak), " jobs run at once at second ",
                                    std::to_string(report.peak_at), " of the ", std::to_string(report.hyperperiod),
                                    " s cycle (", std::to_string(report.collisions), " colliding pairs)"})});
    }
    return warnings;
}

}  // namespace sked

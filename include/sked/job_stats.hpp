// sked/job_stats.hpp — counters, a duration histogram and a status snapshot per job.
//
// scheduler::status() returns a scheduler_status; sked/status_format.hpp renders it as
// Prometheus text or JSON for /metrics and /scheduler/status endpoints.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "event.hpp"
#include "one_off.hpp"

namespace sked {

/// Run durations in fixed buckets (seconds, Prometheus style: each counts runs <= le).
struct duration_histogram {
    static constexpr std::array<double, 11> bounds{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300};
    std::array<std::uint64_t, bounds.size() + 1> buckets{};  ///< last: above every bound
    std::uint64_t count = 0;
    double sum = 0;  ///< seconds

    void add(std::chrono::milliseconds d) {
        const double s = static_cast<double>(d.count()) / 1000.0;
        std::size_t i = 0;
        while (i < bounds.size() && s > bounds[i])
            ++i;
        ++buckets[i];
        ++count;
        sum += s;
    }

    /// The mean run time, or zero before the first run.
    std::chrono::duration<double, std::milli> mean() const {
        return std::chrono::duration<double, std::milli>{count == 0 ? 0.0 : sum * 1000.0 / static_cast<double>(count)};
    }
};

struct job_counters {
    std::uint64_t started = 0, succeeded = 0, failed = 0, retried = 0, timed_out = 0, lease_lost = 0,
                  backend_errors = 0;
    std::array<std::uint64_t, skip_reason_count> skips{};  ///< by skip_reason; read with skipped()

    /// Slots skipped for `why`.
    [[nodiscard]] std::uint64_t skipped(skip_reason why) const noexcept { return skips[static_cast<std::size_t>(why)]; }
};

/// A job's history on this replica.
struct job_stats {
    job_counters counts;
    duration_histogram durations;
    std::optional<instant> last_start, last_end;
    std::optional<std::chrono::sys_seconds> last_slot;
    std::optional<event_kind> last_result;  ///< succeeded, failed or timed_out
    std::chrono::milliseconds last_lateness{0}, max_lateness{0};

    /// Counts `e`, an event of this job, in the counters, the histogram and the last values.
    void record(const event& e);
};

struct job_status {
    std::string name;
    std::string schedule;  ///< schedule::describe()
    bool paused = false;
    /// The job's own stagger switch: its starts are staggered while this and the
    /// scheduler's (scheduler_status::stagger) are on.
    bool stagger = true;
    std::uint32_t running = 0;
    std::optional<std::chrono::sys_seconds> next_slot;
    std::optional<instant> next_run;  ///< when the next slot is planned to start (offset, jitter)
    std::chrono::milliseconds grace{0};  ///< job_options::grace: a start later than this is a misfire
    job_stats stats;
};

/// The backend as this replica sees it.
struct backend_status {
    bool reachable = true;  ///< false during an outage (from its first failed claim to the next answer)
    std::optional<std::chrono::milliseconds> clock_offset{};  ///< this replica's clock minus the backend's
    std::uint64_t restarts = 0;  ///< times the backend's identity changed (a restart or failover)
};

struct scheduler_status {
    bool running = false;  ///< a runner drives it, or the engine accepts run_due
    instant now{};
    std::string replica;
    bool stagger = true;  ///< the stagger switch for every job (scheduler::set_stagger)
    std::vector<job_status> jobs;
    backend_status backend{};
    std::vector<one_off_kind_status> one_offs;  ///< the one-off kinds this replica handles
};

// =======================================================================================
// Implementation
// =======================================================================================

inline void job_stats::record(const event& e) {
    switch (e.kind) {
        case event_kind::started:
            ++counts.started;
            last_start = e.at;
            last_slot = e.nominal;
            last_lateness = e.lateness;
            max_lateness = std::max(max_lateness, e.lateness);
            return;
        case event_kind::succeeded:
        case event_kind::failed:
            ++(e.kind == event_kind::succeeded ? counts.succeeded : counts.failed);
            last_end = e.at;
            durations.add(e.duration);
            // A timeout is the more telling result of a failed run: it stays.
            if (last_result != event_kind::timed_out || e.kind == event_kind::succeeded) last_result = e.kind;
            return;
        case event_kind::retrying:
            ++counts.retried;
            return;
        case event_kind::timed_out:
            ++counts.timed_out;
            last_result = event_kind::timed_out;
            return;
        case event_kind::skipped:
            ++counts.skips[static_cast<std::size_t>(e.reason)];
            return;
        case event_kind::lease_lost:
            ++counts.lease_lost;
            return;
        case event_kind::backend_error:
            ++counts.backend_errors;
            return;
        case event_kind::backend_recovered:  // the scheduler's status says whether the backend answers
        case event_kind::switched:  // and whether the job is paused or staggered
            return;
    }
}

}  // namespace sked

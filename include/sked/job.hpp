// sked/job.hpp — what a job is told when it runs, and the policies that decide when and
// where it runs. Every policy has a default meant to surprise nobody; docs/scheduling.md
// explains each, with the failure it prevents.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "calendar.hpp"
#include "clock.hpp"
#include "hash.hpp"
#include "idempotency.hpp"
#include "lock.hpp"
#include "schedule.hpp"

namespace sked {

namespace detail {
/// What a run tells the scheduler besides returning or throwing (job_context::abandon).
struct run_signals {
    std::atomic<bool> abandoned{false};
};
}  // namespace detail

/// What a running job is told.
struct job_context {
    std::string_view job;  ///< the job's name
    std::chrono::sys_seconds nominal;  ///< the slot: when the schedule said to fire
    instant started;  ///< when this attempt actually started
    std::uint32_t attempt = 1;  ///< 1 for the first try of the slot, 2 for its first retry, ...
    fence_token fence = 0;  ///< pass with every write; 0 when the job runs locally
    std::stop_token stop;  ///< stopped on timeout, lease loss, cancel or shutdown
    detail::run_signals* signals = nullptr;  ///< the scheduler's, for abandon(); null outside a scheduler

    /// "<job>@<nominal RFC 3339>": the same on every replica and every retry of the slot.
    [[nodiscard]] std::string run_key() const { return sked::run_key(job, nominal); }
    [[nodiscard]] bool stop_requested() const noexcept { return stop.stop_requested(); }

    /// Ends this run, when the job returns or throws, as if its replica had died: its run
    /// key is neither completed nor released, so once the key's lease runs out the slot
    /// runs again, here or on another replica, with a higher fencing token. For a run
    /// that cannot know whether its effects happened, because the connection they went
    /// through was lost (sked::postgres's run transaction calls it then). Reported as a
    /// failure, never retried as one (the slot's next run is attempt 1 again). A run
    /// without a run key (distribution::local, single_runner, a retry stored as a
    /// one-off) ends as it returned or threw.
    void abandon() const noexcept {
        if (signals != nullptr) signals->abandoned.store(true, std::memory_order_relaxed);
    }
    [[nodiscard]] bool abandoned() const noexcept {
        return signals != nullptr && signals->abandoned.load(std::memory_order_relaxed);
    }
};

/// The job's code. Returning is success; throwing is failure (the exception's what()
/// is reported). It runs on the scheduler's executor, never under a scheduler lock.
using job_function = std::function<void(const job_context&)>;

/// Where a job runs when several replicas register it (needs a backend; without one
/// every mode runs the job in this process, once per slot).
enum class distribution : std::uint8_t {
    local,  ///< every replica runs every slot (per-process housekeeping)
    single_runner,  ///< a lease on the job: one replica at a time runs it, each slot once (its slot record)
    exactly_once,  ///< a run key per slot: one replica runs each slot, once
    exactly_once_serial,  ///< exactly_once and, across replicas, never two slots at once
};

/// What a slot that comes due while the job still runs does (on this replica).
enum class overlap : std::uint8_t {
    skip,  ///< skipped, reported as overlap
    queue_one,  ///< waits for the run to end; later slots meanwhile are handled as misfires
    allow,  ///< runs concurrently
    cancel_running,  ///< the running one is asked to stop; the new one starts
};

/// What to do with slots whose start is later than the grace window allows (the
/// scheduler, or every replica, was down or stalled).
enum class misfire : std::uint8_t {
    skip,  ///< skip them all; resume with the next slot on time
    run_once,  ///< run the latest missed slot once; skip the ones before it
    run_each,  ///< run each missed slot in order, up to max_catch_up of the latest
};

struct retry_policy {
    std::uint32_t max_attempts = 1;  ///< 1 means no retry
    std::chrono::milliseconds initial_delay{1'000};
    double multiplier = 2.0;  ///< delay of attempt n+1 = initial * multiplier^(n-1)
    std::chrono::milliseconds max_delay{300'000};
    double jitter = 0.2;  ///< up to this fraction is added, derived from job and slot

    friend bool operator==(const retry_policy&, const retry_policy&) = default;
};

struct job_options {
    distribution mode = distribution::exactly_once;
    overlap on_overlap = overlap::skip;
    misfire on_misfire = misfire::run_once;
    /// A start up to this late is normal; later is a misfire (Quartz uses 60 s too;
    /// APScheduler's 1 s drops runs on any hiccup).
    std::chrono::seconds grace{60};
    std::uint32_t max_catch_up = 100;  ///< misfire::run_each runs at most this many missed slots
    std::chrono::seconds offset{0};  ///< fixed stagger: start this long after each slot
    /// Stagger by name: when non-zero, the offset is sked::hash_offset(name, this), the
    /// same on every replica (use the period, or 60 s for jobs on whole minutes); see
    /// start_offset().
    std::chrono::seconds hashed_offset_within{0};
    /// Deterministic extra delay in [0, max_jitter] from job name and slot, always
    /// less than the gap to the next slot.
    std::chrono::milliseconds max_jitter{0};
    retry_policy retry{};
    std::chrono::milliseconds timeout{0};  ///< 0: none; else stop is requested, then reported
    std::optional<sked::calendar> calendar{};
    std::chrono::milliseconds lease_ttl{30'000};  ///< claim and lock leases, renewed at a third
    std::chrono::hours keep_done{24 * 7};  ///< how long a completed run key is remembered

    friend bool operator==(const job_options&, const job_options&) = default;
};

/// How long after each slot the job starts: `offset`, or, when `hashed_offset_within`
/// is set, sked::hash_offset of the name within it (the same on every replica).
[[nodiscard]] inline std::chrono::seconds start_offset(std::string_view name, const job_options& options) noexcept {
    const auto within = options.hashed_offset_within.count();
    if (within <= 0) return options.offset;
    // hash_offset takes 32 bits of period: 136 years, longer than any stagger window.
    const auto period = static_cast<std::uint32_t>(std::min<std::int64_t>(within, 0xffff'ffff));
    return std::chrono::seconds{hash_offset(name, period)};
}

/// A job as registered. add() with a name already registered replaces it (an upsert:
/// every replica registers the same jobs at boot).
struct job_spec {
    std::string name;
    sked::schedule schedule;
    job_function run;
    job_options options{};
};

}  // namespace sked

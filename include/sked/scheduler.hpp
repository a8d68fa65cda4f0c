// sked/scheduler.hpp — the due-time engine: jobs, slots, policies, and who runs what.
//
//     sked::scheduler s{{.backend = sked::backend_ref{keys}, .hooks = {sked::log_lines(print)}}};
//     s.add({.name = "daily_reward", .schedule = sked::schedule::cron("0 0 * * *"_cron, manila),
//            .run = [](const sked::job_context& c) { grant_rewards(c.run_key(), c.fence); }});
//     while (true) {                                   // or let sked::runner do this
//         s.run_due(sked::system_now());
//         sleep_until(s.next_wakeup());
//     }
//
// The engine owns no thread. run_due(now) starts everything due at `now` on the
// executor (inline by default, so a test with a virtual clock is deterministic), and
// next_wakeup() says when to call it again. Every public member is thread-safe: jobs may
// be added, paused or removed from any thread, also from inside a running job.
// The policies are described in sked/job.hpp and docs/scheduling.md.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backend_ref.hpp"
#include "clock.hpp"
#include "detail/due_queue.hpp"
#include "detail/name_index.hpp"
#include "detail/slot_table.hpp"
#include "event.hpp"
#include "hash.hpp"
#include "idempotency.hpp"
#include "job.hpp"
#include "job_stats.hpp"
#include "lock.hpp"
#include "result.hpp"
#include "schedule.hpp"

namespace sked {

/// Runs a task somewhere (a thread pool's submit). Empty: inline, inside run_due.
using executor_function = std::function<void(std::function<void()>)>;

struct scheduler_options {
    clock_source clock{};  ///< empty: sked::system_now
    backend_ref backend{};  ///< empty: every job runs in this process only
    std::string replica{};  ///< this replica's name in events and status
    executor_function executor{};
    std::vector<event_hook> hooks{};
};

enum class registration : std::uint8_t { added, updated };

/// Why add() refused a job; nothing was changed.
struct job_error {
    std::string job;
    std::string message;  ///< names the job and the field, e.g. "job 'x': retry.max_attempts is 0"
};

/// A run that had not finished when wait_idle() gave up.
struct unfinished_run {
    std::string job;
    std::chrono::sys_seconds slot;
    std::uint32_t attempt;
    instant started;
};

class scheduler {
public:
    explicit scheduler(scheduler_options options = {});
    scheduler(const scheduler&) = delete;
    scheduler& operator=(const scheduler&) = delete;
    /// Waits for runs in flight on the executor (stop them first: see sked::runner).
    ~scheduler();

    /// Registers `spec`, or replaces the job of that name (an upsert). A replaced job
    /// keeps its next slot when its schedule and timing are unchanged.
    result<registration, job_error> add(job_spec spec);
    /// false when no job has that name.
    bool remove(std::string_view name);
    bool pause(std::string_view name);
    bool resume(std::string_view name);
    /// Runs the job now, as slot floor(now) (its own run key), outside its schedule.
    bool run_now(std::string_view name);
    [[nodiscard]] bool contains(std::string_view name) const;
    [[nodiscard]] std::size_t size() const;

    /// When run_due next has something to do; nullopt when nothing is scheduled.
    [[nodiscard]] std::optional<instant> next_wakeup() const;
    /// Starts everything due at or before `now`; returns how many runs it started.
    std::size_t run_due(instant now);
    std::size_t run_due() { return run_due(clock_()); }
    [[nodiscard]] instant now() const { return clock_(); }

    [[nodiscard]] scheduler_status status() const;

    // ---- shutdown (sked::runner uses these) --------------------------------------------
    /// From now on run_due starts nothing.
    void stop_dispatching();
    /// Requests stop on every running job; returns how many were running.
    std::size_t request_stop_all();
    /// Waits until no run is in flight or `deadline` passes; returns the runs left.
    std::vector<unfinished_run> wait_idle(std::chrono::steady_clock::time_point deadline);
    /// Called (without the lock) whenever next_wakeup() may have moved earlier.
    void on_wakeup_change(std::function<void()> notify);

private:
    using seconds = std::chrono::seconds;
    using milliseconds = std::chrono::milliseconds;
    using sys_seconds = std::chrono::sys_seconds;
    static constexpr std::int64_t no_slot = std::numeric_limits<std::int64_t>::min();

    enum flag : std::uint8_t { live = 1, paused = 2, waiting = 4, one_off = 8 };

    struct job_record {
        std::string name{};
        job_function run{};
        std::unique_ptr<job_stats> stats{};  // allocated at the first event
        std::int64_t next_slot = no_slot;  // slot of the job's fire entry
        std::int64_t mark = no_slot;  // latest slot handled (run, skipped) here or recorded
        // One-off jobs (flag one_off): the instant; others: the index in schedules_.
        // One field for both keeps a million registered jobs under 150 bytes each.
        std::int64_t timing = 0;
        std::uint32_t options = 0;
        std::int32_t offset_s = 0;
        std::uint16_t generation = 0;
        std::uint16_t running = 0;
        std::uint8_t flags = 0;
    };

    // recheck: another replica held the slot's run key; if it died, its lease has run
    // out by now and the slot must still run (quietly ignored when it completed).
    enum class ticket_kind : std::uint8_t { retry, claim_retry, manual, recheck };
    struct ticket {
        std::uint32_t job;
        std::uint16_t generation;
        ticket_kind kind;
        std::int64_t slot;
        std::uint32_t attempt;
    };

    struct run_state {
        std::uint32_t job;
        std::uint16_t generation;
        sys_seconds slot;
        std::uint32_t attempt;
        instant planned, started;
        std::stop_source stop;
        std::optional<lease> key_lease, lock_lease;
        bool timed_out = false, lease_lost = false;
    };

    // A run to start once the lock is released.
    struct launch {
        std::uint32_t run;
        std::string name;
        job_function fn;
        const job_options* options;  // options_ keeps every entry for the scheduler's life
        sys_seconds slot;
        std::uint32_t attempt;
        std::stop_token stop;
        bool recheck = false;  // a recheck ticket's run: "held" and "done" are not news
        std::optional<instant> started{};  // set when start_run already reported the start
    };

    // Events are raised under the lock and delivered after it (hooks may call us).
    struct pending_event {
        event e;
        std::string job, message;
    };
    struct batch {
        std::vector<launch> launches;
        std::vector<pending_event> events;
        std::vector<std::uint32_t> renewals;
        bool wake = false;
    };

    // ---- registration ------------------------------------------------------------------
    std::optional<std::string> check(const job_spec& spec) const;
    std::uint32_t intern(const schedule& s);
    std::uint32_t intern(const job_options& o);
    std::int32_t offset_for(std::string_view name, const job_options& o) const;
    void start_schedule(std::uint32_t j, instant now, std::int64_t after);

    // ---- the due loop (all under mutex_) -----------------------------------------------
    std::uint32_t find(std::string_view name) const {
        return index_.find(name, [this](std::uint32_t i) -> std::string_view { return jobs_[i].name; });
    }
    static bool is_once(const job_record& job) noexcept { return (job.flags & one_off) != 0; }
    static sys_seconds once_at(const job_record& job) noexcept { return sys_seconds{seconds{job.timing}}; }
    const schedule& schedule_of(const job_record& job) const {
        return *schedules_[static_cast<std::size_t>(job.timing)];
    }
    const job_options& options_of(const job_record& job) const { return *options_[job.options]; }
    std::optional<sys_seconds> next_slot_after(const job_record& job, sys_seconds s) const;
    std::optional<sys_seconds> latest_slot(const job_record& job, sys_seconds t) const;
    instant planned_start(const job_record& job, sys_seconds slot) const;
    void push_due(instant due, std::uint32_t target, std::uint16_t generation, detail::due_kind kind, batch& out);
    void push_fire(std::uint32_t j, sys_seconds slot, instant due, batch& out);
    void schedule_after(std::uint32_t j, sys_seconds slot, batch& out);
    void handle(const detail::due_entry& entry, instant now, batch& out);
    void handle_fire(std::uint32_t j, instant due, instant now, batch& out);
    void handle_ticket(std::uint32_t id, instant now, batch& out);
    void handle_timeout(std::uint32_t run, instant now, batch& out);
    /// overlap policy; true when the slot may start now.
    bool may_start(std::uint32_t j, sys_seconds slot, bool catching_up, instant now, batch& out);
    void start_run(std::uint32_t j, sys_seconds slot, std::uint32_t attempt, instant planned, instant now, batch& out);
    void skip(std::uint32_t j, sys_seconds slot, skip_reason why, instant now, batch& out, std::string detail = {});
    void note(job_record& job, const event& e, batch& out, std::string message = {});
    std::uint32_t new_ticket(const ticket& t, instant due, batch& out);

    // ---- a run, off the lock ----------------------------------------------------------
    // The token a run passes to its writes: the run key's, else the job lease's, else 0.
    static fence_token fence_of(const std::optional<lease>& key, const std::optional<lease>& lock) noexcept {
        return key ? key->fence : lock ? lock->fence : 0;
    }
    void execute(launch l);
    bool run(launch& l);
    void finished_in_flight();
    enum class claim_outcome : std::uint8_t { go, skipped };
    claim_outcome claim(launch& l, std::optional<lease>& key, std::optional<lease>& lock);
    bool finish(const launch& l, bool succeeded, std::string failure);
    void renew(std::uint32_t run);
    milliseconds retry_delay(const launch& l) const;

    void deliver(batch& b);
    void emit_now(pending_event p);

    clock_source clock_;
    backend_ref backend_;
    std::string replica_;
    executor_function executor_;
    std::vector<event_hook> hooks_;

    mutable std::mutex mutex_;
    std::condition_variable idle_;
    std::vector<job_record> jobs_;
    std::vector<std::uint32_t> free_jobs_;
    std::size_t live_jobs_ = 0;
    detail::name_index index_;
    detail::due_queue queue_;
    std::vector<std::shared_ptr<const schedule>> schedules_;
    std::unordered_map<std::string, std::uint32_t> schedule_ids_;
    std::vector<std::shared_ptr<const job_options>> options_;
    std::unordered_map<std::uint32_t, ticket> tickets_;
    detail::slot_table<run_state> runs_;
    std::unordered_map<std::uint32_t, std::int64_t> pending_slots_;  // jobs with flag waiting
    std::uint32_t next_ticket_ = 0;
    std::size_t in_flight_ = 0;  // launches whose execute() has not returned
    bool dispatching_ = true;
    std::function<void()> wakeup_;
};

// =======================================================================================
// Implementation
// =======================================================================================

inline scheduler::scheduler(scheduler_options options)
    : clock_(options.clock ? std::move(options.clock) : clock_source{system_now}),
      backend_(std::move(options.backend)),
      replica_(std::move(options.replica)),
      executor_(std::move(options.executor)),
      hooks_(std::move(options.hooks)) {}

inline scheduler::~scheduler() {
    std::unique_lock hold{mutex_};
    dispatching_ = false;
    idle_.wait(hold, [this] { return in_flight_ == 0; });
}

// ---- registration ----------------------------------------------------------------------

inline std::optional<std::string> scheduler::check(const job_spec& spec) const {
    if (auto bad = detail::check_name("job name", spec.name)) return bad->detail;
    // A run key is name + 21 bytes and must itself be a valid name.
    if (spec.name.size() + 21 > detail::max_name_bytes) return "job name is longer than 1003 bytes";
    const auto& o = spec.options;
    if (!spec.run) return "run is empty";
    if (spec.schedule.type() == schedule::kind::every && spec.schedule.period() <= seconds{0})
        return "every() period must be positive";
    if (const auto* expr = spec.schedule.expression();
        expr && !expr->zone_name().empty() && expr->zone_name() != spec.schedule.zone().name()) {
        return "the cron expression names zone '" + std::string(expr->zone_name()) + "' but the schedule's zone is '" +
               std::string(spec.schedule.zone().name()) + "' (pass that zone to schedule::cron)";
    }
    if (o.grace < seconds{0}) return "grace is negative";
    if (o.offset < seconds{0}) return "offset is negative";
    if (o.hashed_offset_within < seconds{0}) return "hashed_offset_within is negative";
    if (o.offset != seconds{0} && o.hashed_offset_within != seconds{0})
        return "offset and hashed_offset_within are both set; choose one";
    if (spec.schedule.type() == schedule::kind::every && o.offset >= spec.schedule.period())
        return "offset " + std::to_string(o.offset.count()) + " s is not less than the period " +
               std::to_string(spec.schedule.period().count()) + " s";
    if (o.max_jitter < milliseconds{0}) return "max_jitter is negative";
    if (o.retry.max_attempts == 0) return "retry.max_attempts is 0 (1 means no retry)";
    if (o.retry.initial_delay <= milliseconds{0}) return "retry.initial_delay must be positive";
    if (!(o.retry.multiplier >= 1.0) || !std::isfinite(o.retry.multiplier)) return "retry.multiplier must be >= 1";
    if (o.retry.max_delay < o.retry.initial_delay) return "retry.max_delay is less than retry.initial_delay";
    if (!(o.retry.jitter >= 0.0 && o.retry.jitter <= 1.0)) return "retry.jitter must be within 0-1";
    if (o.timeout < milliseconds{0}) return "timeout is negative";
    if (o.on_misfire == misfire::run_each && o.max_catch_up == 0) return "max_catch_up is 0 with misfire::run_each";
    if (auto bad = detail::check_ttl("lease_ttl", o.lease_ttl)) return bad->detail;
    if (o.keep_done < std::chrono::hours{1}) return "keep_done is less than an hour";
    if (o.calendar) {
        if (auto problem = o.calendar->problem(); !problem.empty()) return problem;
    }
    return std::nullopt;
}

inline std::uint32_t scheduler::intern(const schedule& s) {
    if (!schedules_.empty() && *schedules_.back() == s) return static_cast<std::uint32_t>(schedules_.size() - 1);
    auto [at, inserted] = schedule_ids_.try_emplace(s.describe(), static_cast<std::uint32_t>(schedules_.size()));
    if (inserted) schedules_.push_back(std::make_shared<const schedule>(s));
    return at->second;
}

inline std::uint32_t scheduler::intern(const job_options& o) {
    // Services register many jobs with one set of options; look back a few entries.
    const std::size_t n = options_.size();
    for (std::size_t back = 1; back <= std::min<std::size_t>(n, 8); ++back) {
        if (*options_[n - back] == o) return static_cast<std::uint32_t>(n - back);
    }
    options_.push_back(std::make_shared<const job_options>(o));
    return static_cast<std::uint32_t>(n);
}

inline std::int32_t scheduler::offset_for(std::string_view name, const job_options& o) const {
    return static_cast<std::int32_t>(start_offset(name, o).count());
}
inline result<registration, job_error> scheduler::add(job_spec spec) {
    if (auto problem = check(spec)) return job_error{spec.name, "job '" + spec.name + "': " + *problem};
    // The last recorded slot comes from the backend before the lock is taken.
    std::int64_t recorded = no_slot;
    const bool distributed = backend_ && spec.options.mode != distribution::local;
    std::optional<pending_event> lookup_failed;
    if (distributed && backend_.records_progress() && spec.options.on_misfire != misfire::skip) {
        auto last = backend_.last_slot(spec.name);
        if (last && *last) recorded = (*last)->time_since_epoch().count();
        if (!last) {
            lookup_failed = pending_event{{.kind = event_kind::backend_error, .at = clock_()},
                                          spec.name,
                                          "reading the last slot: " + last.error().message()};
        }
    }
    batch out;
    registration outcome = registration::updated;
    {
        std::lock_guard hold{mutex_};
        const instant now = clock_();
        auto j = find(spec.name);
        const bool once = spec.schedule.type() == schedule::kind::once;
        const std::int64_t timing = once ? spec.schedule.at().time_since_epoch().count() : intern(spec.schedule);
        const auto options_id = intern(spec.options);
        const auto offset = offset_for(spec.name, spec.options);
        bool same_timing = false;
        if (j == detail::name_index::none) {
            outcome = registration::added;
            if (free_jobs_.empty()) {
                j = static_cast<std::uint32_t>(jobs_.size());
                jobs_.emplace_back();
            } else {
                j = free_jobs_.back();
                free_jobs_.pop_back();
            }
            auto& job = jobs_[j];
            job.name = std::move(spec.name);
            job.flags = live;
            job.mark = recorded;
            index_.insert(job.name, j, [this](std::uint32_t i) -> std::string_view { return jobs_[i].name; });
            ++live_jobs_;
        } else {
            const auto& job = jobs_[j];
            same_timing = is_once(job) == once && job.timing == timing && job.offset_s == offset &&
                          options_of(job).max_jitter == spec.options.max_jitter &&
                          options_of(job).calendar == spec.options.calendar;
            if (recorded != no_slot) jobs_[j].mark = std::max(jobs_[j].mark, recorded);
        }
        auto& job = jobs_[j];
        job.run = std::move(spec.run);
        job.timing = timing;
        job.flags = static_cast<std::uint8_t>(once ? job.flags | one_off : job.flags & ~one_off);
        job.options = options_id;
        job.offset_s = offset;
        if (!same_timing) {
            ++job.generation;  // the old fire entry, if any, is now stale
            job.flags &= static_cast<std::uint8_t>(~waiting);
            pending_slots_.erase(j);
            start_schedule(j, now, job.mark);
            out.wake = true;
        }
    }
    if (lookup_failed) out.events.push_back(std::move(*lookup_failed));
    deliver(out);
    return outcome;
}

// The first slot: the one after the last handled slot (so missed ones come due and
// meet the misfire policy), else the first at or after now (to the second). A one-off
// job runs unless its instant was handled; one already past comes due at once.
inline void scheduler::start_schedule(std::uint32_t j, instant now, std::int64_t after) {
    auto& job = jobs_[j];
    batch unused;
    job.next_slot = no_slot;
    if (is_once(job)) {
        const sys_seconds at = once_at(job);
        if (after == no_slot || job.timing > after) push_fire(j, at, planned_start(job, at), unused);
        return;
    }
    const sys_seconds from =
        after != no_slot ? sys_seconds{seconds{after}} : std::chrono::floor<seconds>(now) - seconds{1};
    schedule_after(j, from, unused);
}

inline bool scheduler::remove(std::string_view name) {
    std::lock_guard hold{mutex_};
    const auto j = find(name);
    if (j == detail::name_index::none) return false;
    auto& job = jobs_[j];
    index_.erase(job.name, [this](std::uint32_t i) -> std::string_view { return jobs_[i].name; });
    ++job.generation;
    job.flags = 0;
    job.next_slot = no_slot;
    pending_slots_.erase(j);
    if (job.running == 0) {
        job = job_record{.generation = job.generation};
        free_jobs_.push_back(j);
    }  // else the last run to finish frees the record
    --live_jobs_;
    return true;
}

inline bool scheduler::pause(std::string_view name) {
    std::lock_guard hold{mutex_};
    const auto j = find(name);
    if (j == detail::name_index::none) return false;
    jobs_[j].flags |= paused;
    return true;
}

inline bool scheduler::resume(std::string_view name) {
    std::lock_guard hold{mutex_};
    const auto j = find(name);
    if (j == detail::name_index::none) return false;
    jobs_[j].flags &= static_cast<std::uint8_t>(~paused);
    return true;
}

inline bool scheduler::run_now(std::string_view name) {
    batch out;
    {
        std::lock_guard hold{mutex_};
        const auto j = find(name);
        if (j == detail::name_index::none) return false;
        const instant now = clock_();
        new_ticket({j, jobs_[j].generation, ticket_kind::manual,
                    std::chrono::floor<seconds>(now).time_since_epoch().count(), 1},
                   now, out);
    }
    deliver(out);
    return true;
}

inline bool scheduler::contains(std::string_view name) const {
    std::lock_guard hold{mutex_};
    return find(name) != detail::name_index::none;
}

inline std::size_t scheduler::size() const {
    std::lock_guard hold{mutex_};
    return live_jobs_;
}

inline std::optional<instant> scheduler::next_wakeup() const {
    std::lock_guard hold{mutex_};
    if (queue_.empty() || !dispatching_) return std::nullopt;
    return instant{milliseconds{queue_.top().due_ms}};
}

inline void scheduler::on_wakeup_change(std::function<void()> notify) {
    std::lock_guard hold{mutex_};
    wakeup_ = std::move(notify);
}

// ---- the due loop ----------------------------------------------------------------------

inline std::optional<std::chrono::sys_seconds> scheduler::next_slot_after(const job_record& job, sys_seconds s) const {
    if (is_once(job)) return std::nullopt;
    return schedule_of(job).next(s);
}

inline std::optional<std::chrono::sys_seconds> scheduler::latest_slot(const job_record& job, sys_seconds t) const {
    if (is_once(job)) {
        return job.timing <= t.time_since_epoch().count() ? std::optional{once_at(job)} : std::nullopt;
    }
    return schedule_of(job).latest(t);
}

// slot + offset + jitter; jitter is derived from name and slot, and stays below the gap
// to the next slot so a jittered run never passes the next one.
inline instant scheduler::planned_start(const job_record& job, sys_seconds slot) const {
    instant planned = instant{slot} + seconds{job.offset_s};
    const auto max_jitter = options_of(job).max_jitter;
    if (max_jitter <= milliseconds{0}) return planned;
    auto cap = max_jitter;
    if (auto next = next_slot_after(job, slot)) {
        cap = std::min(cap, std::chrono::duration_cast<milliseconds>(*next - slot) - milliseconds{1});
    }
    if (cap <= milliseconds{0}) return planned;
    const auto salt = static_cast<std::uint64_t>(slot.time_since_epoch().count());
    return planned +
           milliseconds{static_cast<std::int64_t>(spread(job.name, salt, static_cast<std::uint64_t>(cap.count()) + 1))};
}

// Every entry goes through here: one that becomes the earliest wakes the runner.
inline void scheduler::push_due(instant due, std::uint32_t target, std::uint16_t generation, detail::due_kind kind,
                                batch& out) {
    const auto due_ms = due.time_since_epoch().count();
    if (queue_.empty() || due_ms < queue_.top().due_ms) out.wake = true;
    queue_.push({due_ms, target, generation, kind});
}

inline void scheduler::push_fire(std::uint32_t j, sys_seconds slot, instant due, batch& out) {
    auto& job = jobs_[j];
    job.next_slot = slot.time_since_epoch().count();
    push_due(due, j, job.generation, detail::due_kind::fire, out);
}

inline void scheduler::schedule_after(std::uint32_t j, sys_seconds slot, batch& out) {
    auto& job = jobs_[j];
    job.next_slot = no_slot;
    if (auto next = next_slot_after(job, slot)) push_fire(j, *next, planned_start(job, *next), out);
}

inline std::size_t scheduler::run_due(instant now) {
    const auto now_ms = now.time_since_epoch().count();
    std::size_t started = 0;
    batch out;  // reused: its vectors keep their capacity across rounds
    while (true) {
        {
            std::lock_guard hold{mutex_};
            if (!dispatching_) return started;
            // Bounded rounds release the lock regularly. Inline, a round ends at each
            // start, so the run finishes (and frees its job) before later entries are seen.
            for (int n = 0; n < 256 && !queue_.empty() && queue_.top().due_ms <= now_ms; ++n) {
                handle(queue_.pop(), now, out);
                if (!executor_ && !out.launches.empty()) break;
            }
        }
        for (auto run : out.renewals)
            renew(run);
        const bool idle = out.launches.empty() && out.renewals.empty();
        out.renewals.clear();
        started += out.launches.size();
        deliver(out);
        for (auto& l : out.launches) {
            if (executor_) {
                executor_([this, l = std::move(l)]() mutable { execute(std::move(l)); });
            } else {
                execute(std::move(l));
            }
        }
        out.launches.clear();
        if (idle) {
            std::lock_guard hold{mutex_};
            if (queue_.empty() || queue_.top().due_ms > now_ms) return started;
        }
    }
}

inline void scheduler::handle(const detail::due_entry& entry, instant now, batch& out) {
    switch (entry.kind) {
        case detail::due_kind::fire: {
            auto& job = jobs_[entry.target];
            if ((job.flags & live) == 0 || job.generation != entry.generation) return;  // stale
            handle_fire(entry.target, instant{milliseconds{entry.due_ms}}, now, out);
            return;
        }
        case detail::due_kind::ticket:
            return handle_ticket(entry.target, now, out);
        case detail::due_kind::timeout:
            return handle_timeout(entry.target, now, out);
        case detail::due_kind::renew:
            if (runs_.find(entry.target) != nullptr) out.renewals.push_back(entry.target);
            return;
    }
}

inline void scheduler::handle_fire(std::uint32_t j, instant due, instant now, batch& out) {
    auto& job = jobs_[j];
    const auto& opt = options_of(job);
    sys_seconds slot{seconds{job.next_slot}};
    job.next_slot = no_slot;
    if (job.flags & paused) {
        skip(j, slot, skip_reason::paused, now, out);
        return schedule_after(j, slot, out);
    }
    bool catching_up = false;
    if (now - due > opt.grace) {
        // Later than the grace window: the slots from `slot` to the latest one due are
        // all missed. Decide which of them run, in one step however many there are.
        const auto latest = latest_slot(job, std::chrono::floor<seconds>(now)).value_or(slot);
        sys_seconds chosen = latest;
        if (opt.on_misfire == misfire::run_each) {
            for (std::uint32_t kept = 1; kept < opt.max_catch_up && chosen > slot; ++kept) {
                chosen = latest_slot(job, chosen - seconds{1}).value_or(slot);
            }
            chosen = std::max(chosen, slot);
            catching_up = true;
        }
        if (chosen > slot) {
            skip(j, slot, skip_reason::misfire, now, out,
                 "slots " + rfc3339(slot) + " to before " + rfc3339(chosen) + " missed the " +
                     std::to_string(opt.grace.count()) + " s grace window");
        }
        slot = chosen;
        due = planned_start(job, slot);
        if (opt.on_misfire == misfire::skip && now - due > opt.grace) {
            skip(j, slot, skip_reason::misfire, now, out,
                 "started " + std::to_string((now - due).count()) + " ms late, grace " +
                     std::to_string(opt.grace.count()) + " s");
            return schedule_after(j, slot, out);
        }
    }
    if (opt.calendar && !opt.calendar->allows(std::chrono::floor<seconds>(due))) {
        if (is_once(job)) {
            if (auto moved = opt.calendar->next_allowed(std::chrono::ceil<seconds>(due))) {
                push_fire(j, slot, instant{*moved}, out);  // same slot, later start
                return;
            }
        }
        skip(j, slot, skip_reason::outside_calendar, now, out);
        return schedule_after(j, slot, out);
    }
    if (may_start(j, slot, catching_up, now, out)) start_run(j, slot, 1, due, now, out);
    if ((job.flags & waiting) == 0) schedule_after(j, slot, out);
}

// The overlap policy, for a slot of a job already running here.
inline bool scheduler::may_start(std::uint32_t j, sys_seconds slot, bool catching_up, instant now, batch& out) {
    auto& job = jobs_[j];
    if (job.running == 0) return true;
    const auto policy = catching_up ? overlap::queue_one : options_of(job).on_overlap;
    switch (policy) {
        case overlap::allow:
            return true;
        case overlap::cancel_running:
            runs_.for_each([j](run_state& run) {
                if (run.job == j) run.stop.request_stop();
            });
            return true;
        case overlap::queue_one:
            if ((job.flags & waiting) == 0) {
                job.flags |= waiting;  // no further slot is scheduled until the run ends
                pending_slots_[j] = slot.time_since_epoch().count();
                return false;
            }
            [[fallthrough]];
        case overlap::skip:
            skip(j, slot, skip_reason::overlap, now, out);
            return false;
    }
    return false;
}

inline void scheduler::start_run(std::uint32_t j, sys_seconds slot, std::uint32_t attempt, instant planned, instant now,
                                 batch& out) {
    auto& job = jobs_[j];
    auto [id, run] = runs_.emplace();
    run.job = j;
    run.generation = job.generation;
    run.slot = slot;
    run.attempt = attempt;
    run.planned = planned;
    run.started = now;
    ++job.running;
    ++in_flight_;
    const job_options* options = options_[job.options].get();
    if (options->timeout > milliseconds{0}) {
        push_due(now + options->timeout, id, 0, detail::due_kind::timeout, out);
    }
    out.launches.push_back({id, job.name, job.run, options, slot, attempt, run.stop.get_token()});
    if (!executor_ && (!backend_ || options->mode == distribution::local)) {
        // Inline with nothing to claim, the run starts now: report it in this round
        // rather than take the lock again for it.
        out.launches.back().started = now;
        note(job,
             {.kind = event_kind::started,
              .nominal = slot,
              .at = now,
              .attempt = attempt,
              .lateness = std::chrono::duration_cast<milliseconds>(now - planned)},
             out);
    }
}

inline void scheduler::handle_ticket(std::uint32_t id, instant now, batch& out) {
    const auto found = tickets_.find(id);
    if (found == tickets_.end()) return;
    const ticket t = found->second;
    tickets_.erase(found);
    auto& job = jobs_[t.job];
    if ((job.flags & live) == 0 || job.generation != t.generation) return;
    const sys_seconds slot{seconds{t.slot}};
    if (t.kind == ticket_kind::claim_retry) {
        // The backend was down at the slot: keep trying until the job's next slot comes
        // due, which then supersedes this one.
        if (job.next_slot != no_slot && job.next_slot <= std::chrono::floor<seconds>(now).time_since_epoch().count() &&
            job.next_slot > t.slot) {
            skip(t.job, slot, skip_reason::misfire, now, out, "the backend stayed unavailable until the next slot");
            return;
        }
    }
    if (may_start(t.job, slot, false, now, out)) {
        start_run(t.job, slot, t.attempt, now, now, out);
        out.launches.back().recheck = t.kind == ticket_kind::recheck;
    }
}

inline void scheduler::handle_timeout(std::uint32_t id, instant now, batch& out) {
    auto* found = runs_.find(id);
    if (found == nullptr || found->timed_out) return;
    auto& run = *found;
    run.timed_out = true;
    run.stop.request_stop();
    note(jobs_[run.job],
         {.kind = event_kind::timed_out,
          .nominal = run.slot,
          .at = now,
          .attempt = run.attempt,
          .duration = std::chrono::duration_cast<milliseconds>(now - run.started)},
         out);
}

inline std::uint32_t scheduler::new_ticket(const ticket& t, instant due, batch& out) {
    const auto id = next_ticket_++;
    tickets_[id] = t;
    push_due(due, id, 0, detail::due_kind::ticket, out);
    return id;
}

inline void scheduler::skip(std::uint32_t j, sys_seconds slot, skip_reason why, instant now, batch& out,
                            std::string detail) {
    auto& job = jobs_[j];
    if (why != skip_reason::backend_unavailable && why != skip_reason::held_elsewhere)
        job.mark = std::max(job.mark, slot.time_since_epoch().count());
    note(job, {.kind = event_kind::skipped, .reason = why, .nominal = slot, .at = now}, out, std::move(detail));
}

// Counts the event in the job's stats and queues it for the hooks.
inline void scheduler::note(job_record& job, const event& e, batch& out, std::string message) {
    if (!job.stats) job.stats = std::make_unique<job_stats>();
    job.stats->record(e);
    if (hooks_.empty()) return;
    out.events.push_back({e, job.name, std::move(message)});
}

// ---- a run -----------------------------------------------------------------------------

// Whatever happens in the run, the scheduler may be destroyed only after this returns.
inline void scheduler::execute(launch l) {
    if (run(l)) return;
    std::lock_guard hold{mutex_};
    finished_in_flight();
}

// Under the lock: a waiter cannot miss the notification.
inline void scheduler::finished_in_flight() {
    if (--in_flight_ == 0) idle_.notify_all();
}

// True when it already counted the launch out of in_flight_ (then it must not touch
// the scheduler again: it may be destroyed at once).
inline bool scheduler::run(launch& l) {
    std::optional<lease> key, lock;
    if (claim(l, key, lock) == claim_outcome::skipped) return false;
    const fence_token fence = fence_of(key, lock);
    const instant started = l.started ? *l.started : clock_();
    if (!l.started) {
        batch out;
        {
            std::lock_guard hold{mutex_};
            auto& run = *runs_.find(l.run);
            run.key_lease = key;
            run.lock_lease = lock;
            run.started = started;
            if (key || lock) push_due(started + l.options->lease_ttl / 3, l.run, 0, detail::due_kind::renew, out);
            note(jobs_[run.job],
                 {.kind = event_kind::started,
                  .nominal = l.slot,
                  .at = started,
                  .attempt = l.attempt,
                  .fence = fence,
                  .lateness = std::chrono::duration_cast<milliseconds>(started - run.planned)},
                 out);
        }
        deliver(out);
    }
    const job_context context{l.name, l.slot, started, l.attempt, fence, l.stop};
    bool succeeded = true;
    std::string failure;
    try {
        l.fn(context);
    } catch (const std::exception& e) {
        succeeded = false;
        failure = e.what();
    } catch (...) {
        succeeded = false;
        failure = "an exception not derived from std::exception";
    }
    return finish(l, succeeded, std::move(failure));
}

// Claims what the job's distribution mode needs. On skipped the run is already ended.
inline scheduler::claim_outcome scheduler::claim(launch& l, std::optional<lease>& key, std::optional<lease>& lock) {
    const auto mode = l.options->mode;
    if (!backend_ || mode == distribution::local) return claim_outcome::go;
    skip_reason why = skip_reason::none;
    std::string detail;
    bool key_held = false;
    const auto take = [&](std::string_view name, std::optional<lease>& into, bool is_key) {
        auto answer = backend_.claim(name, l.options->lease_ttl);
        if (!answer) {
            why = skip_reason::backend_unavailable;
            detail = answer.error().message();
        } else if (answer->acquired()) {
            into = std::move(answer->lease);
        } else {
            why =
                answer->status == grant_status::already_done ? skip_reason::already_done : skip_reason::held_elsewhere;
            key_held = is_key && why == skip_reason::held_elsewhere;
        }
        return why == skip_reason::none;
    };
    const bool needs_lock = mode == distribution::single_runner || mode == distribution::exactly_once_serial;
    const bool needs_key = mode == distribution::exactly_once || mode == distribution::exactly_once_serial;
    if ((!needs_lock || take(l.name, lock, false)) && (!needs_key || take(run_key(l.name, l.slot), key, true)))
        return claim_outcome::go;
    if (lock) (void)backend_.release(*lock);
    batch out;
    {
        std::lock_guard hold{mutex_};
        const instant now = clock_();
        const auto j = runs_.find(l.run)->job;
        runs_.erase(l.run);
        auto& job = jobs_[j];
        --job.running;
        const bool news = !l.recheck || why == skip_reason::backend_unavailable;
        if (news) skip(j, l.slot, why, now, out, std::move(detail));
        if (key_held) {
            // Look again once the holder's lease has run out, in case it died.
            new_ticket(
                {j, job.generation, ticket_kind::recheck, l.slot.time_since_epoch().count(), l.attempt},
                now + l.options->lease_ttl + std::min<milliseconds>(l.options->lease_ttl / 10, milliseconds{1'000}),
                out);
        }
        if (why == skip_reason::backend_unavailable) {
            // Try again soon: the slot must not be lost to a blip of the backend.
            const auto delay = std::min<milliseconds>(l.options->lease_ttl / 3, milliseconds{1'000});
            new_ticket({j, job.generation, ticket_kind::claim_retry, l.slot.time_since_epoch().count(), l.attempt},
                       now + delay, out);
        }
    }
    deliver(out);
    return claim_outcome::skipped;
}

inline std::chrono::milliseconds scheduler::retry_delay(const launch& l) const {
    const auto& r = l.options->retry;
    const double base = static_cast<double>(r.initial_delay.count()) * std::pow(r.multiplier, l.attempt - 1);
    const double capped = std::min(base, static_cast<double>(r.max_delay.count()));
    const auto salt = static_cast<std::uint64_t>(l.slot.time_since_epoch().count()) * 31 + l.attempt;
    const double u = static_cast<double>(spread(l.name, salt, 1000)) / 1000.0;
    return milliseconds{static_cast<std::int64_t>(capped * (1.0 + r.jitter * u))};
}

inline bool scheduler::finish(const launch& l, bool succeeded, std::string failure) {
    const instant ended = clock_();
    std::optional<lease> key, lock;
    bool timed_out = false, lease_lost = false, note_late_timeout = false;
    instant started;
    {
        std::lock_guard hold{mutex_};
        auto& run = *runs_.find(l.run);
        key = run.key_lease;
        lock = run.lock_lease;
        started = run.started;
        lease_lost = run.lease_lost;
        timed_out = run.timed_out || (l.options->timeout > milliseconds{0} && ended - started > l.options->timeout);
        if (timed_out && !run.timed_out) {
            // Noticed only now (inline on a virtual clock that the run moved past it).
            run.timed_out = true;
            note_late_timeout = true;
        }
    }
    if (note_late_timeout) {
        batch out;
        {
            std::lock_guard hold{mutex_};
            const auto& run = *runs_.find(l.run);
            note(jobs_[run.job],
                 {.kind = event_kind::timed_out,
                  .nominal = l.slot,
                  .at = ended,
                  .attempt = l.attempt,
                  .duration = std::chrono::duration_cast<milliseconds>(ended - started)},
                 out);
        }
        deliver(out);
    }
    // A run whose lease was lost may have overlapped the next holder: not a success.
    const bool ok = succeeded && !timed_out && !lease_lost;
    if (failure.empty()) failure = timed_out ? "timed out" : lease_lost ? "lease lost" : "";
    const bool final_attempt = ok || l.attempt >= l.options->retry.max_attempts;
    std::vector<pending_event> backend_events;
    const auto backend_failed = [&](std::string what) {
        backend_events.push_back(
            {{.kind = event_kind::backend_error, .nominal = l.slot, .at = ended, .attempt = l.attempt},
             l.name,
             std::move(what)});
    };
    if (key) {
        if (ok) {
            auto done = backend_.complete(*key, l.options->keep_done);
            if (!done)
                backend_failed("completing " + key->name + ": " + done.error().message());
            else if (!*done)
                backend_failed("completing " + key->name + ": another holder claimed it meanwhile");
        } else if (auto freed = backend_.release(*key); !freed) {
            backend_failed("releasing " + key->name + ": " + freed.error().message());
        }
    }
    if (lock) {
        if (auto freed = backend_.release(*lock); !freed)
            backend_failed("releasing " + lock->name + ": " + freed.error().message());
    }
    if (final_attempt && backend_ && l.options->mode != distribution::local && backend_.records_progress()) {
        if (auto recorded = backend_.record_slot(l.name, l.slot); !recorded)
            backend_failed("recording slot of " + l.name + ": " + recorded.error().message());
    }
    batch out;
    {
        std::lock_guard hold{mutex_};
        const auto* run = runs_.find(l.run);
        const auto j = run->job;
        const auto generation = run->generation;
        const fence_token fence = fence_of(key, lock);
        runs_.erase(l.run);
        auto& job = jobs_[j];
        --job.running;
        const auto duration = std::chrono::duration_cast<milliseconds>(ended - started);
        note(job,
             {.kind = ok ? event_kind::succeeded : event_kind::failed,
              .nominal = l.slot,
              .at = ended,
              .attempt = l.attempt,
              .fence = fence,
              .duration = duration},
             out,
             ok                             ? std::string{}
             : timed_out && failure.empty() ? std::string{"timed out"}
                                            : std::move(failure));
        for (auto& e : backend_events) {
            note(job, e.e, out, std::move(e.message));
        }
        const bool current = (job.flags & live) != 0 && job.generation == generation;
        if (final_attempt) {
            job.mark = std::max(job.mark, l.slot.time_since_epoch().count());
        } else if (current) {
            const auto delay = retry_delay(l);
            note(
                job,
                {.kind = event_kind::retrying, .nominal = l.slot, .at = ended, .attempt = l.attempt, .duration = delay},
                out);
            new_ticket({j, job.generation, ticket_kind::retry, l.slot.time_since_epoch().count(), l.attempt + 1},
                       ended + delay, out);
        }
        if (current && job.running == 0 && (job.flags & waiting)) {
            // A slot waited for this run (overlap::queue_one, or a catch-up): it goes now.
            job.flags &= static_cast<std::uint8_t>(~waiting);
            const auto slot = sys_seconds{seconds{pending_slots_[j]}};
            pending_slots_.erase(j);
            push_fire(j, slot, ended, out);
        }
        if ((job.flags & live) == 0 && job.running == 0) {  // removed while running
            job = job_record{.generation = job.generation};
            free_jobs_.push_back(j);
        }
        if (out.events.empty() && !out.wake) {  // nothing left to do after the lock
            finished_in_flight();
            return true;
        }
    }
    deliver(out);
    return false;
}

// Keeps a long run's leases alive; a lease that cannot be renewed stops the run.
inline void scheduler::renew(std::uint32_t id) {
    std::optional<lease> key, lock;
    const job_options* options = nullptr;
    {
        std::lock_guard hold{mutex_};
        const auto* found = runs_.find(id);
        if (found == nullptr) return;
        key = found->key_lease;
        lock = found->lock_lease;
        options = options_[jobs_[found->job].options].get();
    }
    bool lost = false;
    std::string why;
    for (auto* held : {&key, &lock}) {
        if (!*held) continue;
        auto renewed = backend_.renew(**held, options->lease_ttl);
        if (renewed && !*renewed) {
            lost = true;
            why = "lease on " + (*held)->name + " was taken";
        } else if (!renewed && lease_clock::now() >= (*held)->valid_until) {
            lost = true;
            why = "lease on " + (*held)->name + " could not be confirmed: " + renewed.error().message();
        }
    }
    batch out;
    {
        std::lock_guard hold{mutex_};
        auto* found = runs_.find(id);
        if (found == nullptr) return;
        auto& run = *found;
        run.key_lease = key;
        run.lock_lease = lock;
        const instant now = clock_();
        if (lost) {
            if (!run.lease_lost) {
                run.lease_lost = true;
                run.stop.request_stop();
                note(jobs_[run.job],
                     {.kind = event_kind::lease_lost, .nominal = run.slot, .at = now, .attempt = run.attempt}, out,
                     why);
            }
        } else {
            push_due(now + options->lease_ttl / 3, id, 0, detail::due_kind::renew, out);
        }
    }
    deliver(out);
}

// ---- events and status -----------------------------------------------------------------

inline void scheduler::emit_now(pending_event p) {
    p.e.job = p.job;
    p.e.message = p.message;
    p.e.replica = replica_;
    for (const auto& hook : hooks_)
        hook(p.e);
}

inline void scheduler::deliver(batch& b) {
    for (auto& p : b.events)
        emit_now(std::move(p));
    b.events.clear();
    if (std::exchange(b.wake, false)) {
        std::function<void()> notify;
        {
            std::lock_guard hold{mutex_};
            notify = wakeup_;
        }
        if (notify) notify();
    }
}

inline scheduler_status scheduler::status() const {
    std::lock_guard hold{mutex_};
    scheduler_status s;
    s.running = dispatching_;
    s.now = clock_();
    s.replica = replica_;
    s.jobs.reserve(live_jobs_);
    for (const auto& job : jobs_) {
        if ((job.flags & live) == 0) continue;
        job_status js;
        js.name = job.name;
        js.schedule = is_once(job) ? "once " + rfc3339(once_at(job)) : schedule_of(job).describe();
        js.paused = (job.flags & paused) != 0;
        js.running = job.running;
        if (job.next_slot != no_slot) {
            js.next_slot = sys_seconds{seconds{job.next_slot}};
            js.next_run = planned_start(job, *js.next_slot);
        }
        if (job.stats) js.stats = *job.stats;
        s.jobs.push_back(std::move(js));
    }
    return s;
}

// ---- shutdown --------------------------------------------------------------------------

inline void scheduler::stop_dispatching() {
    std::lock_guard hold{mutex_};
    dispatching_ = false;
}

inline std::size_t scheduler::request_stop_all() {
    std::lock_guard hold{mutex_};
    runs_.for_each([](run_state& run) { run.stop.request_stop(); });
    return runs_.size();
}

inline std::vector<unfinished_run> scheduler::wait_idle(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock hold{mutex_};
    idle_.wait_until(hold, deadline, [this] { return in_flight_ == 0; });
    std::vector<unfinished_run> left;
    runs_.for_each([&](const run_state& run) {
        left.push_back({jobs_[run.job].name, run.slot, run.attempt, run.started});
    });
    return left;
}

}  // namespace sked

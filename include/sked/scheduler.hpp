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
//
// This class is the facade: the lock, the loop, and a run's steps in order (the backend
// and the job off the lock, each step recorded under it). The rooms it holds each keep
// one idea and take no lock (docs/architecture.md): detail::job_table (the jobs),
// detail::due_queue (what comes due), detail::dispatcher (every change to the tables,
// when something comes due and at each step of a run), detail::slot_policy (the
// policies, pure), detail::run_table (runs in flight, deferred attempts),
// detail::claim_protocol (the backend), detail::event_batch (events, delivered after the
// lock). The policies are described in sked/job.hpp and docs/scheduling.md.
#pragma once

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "backend_ref.hpp"
#include "clock.hpp"
#include "detail/backend_health.hpp"
#include "detail/claim_protocol.hpp"
#include "detail/dispatcher.hpp"
#include "detail/due_queue.hpp"
#include "detail/failure_text.hpp"
#include "detail/job_table.hpp"
#include "detail/job_validation.hpp"
#include "detail/one_off_table.hpp"
#include "detail/run_table.hpp"
#include "detail/slot_policy.hpp"
#include "event.hpp"
#include "executor.hpp"
#include "hash.hpp"
#include "job.hpp"
#include "job_stats.hpp"
#include "one_off.hpp"
#include "result.hpp"
#include "schedule.hpp"

namespace sked {

struct scheduler_options {
    /// When: slots, starts, the time of events. Empty: sked::system_now.
    clock_source clock{};
    /// How long: leases, renewals, timeouts, retries, rechecks, durations. Empty:
    /// std::chrono::steady_clock. Inject both or neither (sked::virtual_clock has both).
    steady_source steady{};
    backend_ref backend{};  ///< empty: every job runs in this process only
    std::string replica{};  ///< this replica's name in events and status
    executor_function executor{};  ///< empty: runs happen inline, inside run_due
    /// How many runs the executor runs at once (a sked::thread_pool's size()); 0: not
    /// said. When said, a replica claims in one batch only the slots due together that
    /// it would start within `claim_ahead`: as many as it has free threads, and more
    /// while, judging by each job's mean run time here, its threads would reach them in
    /// time. The rest go to the executor unclaimed, in groups of executor_threads: the
    /// first of a group a thread takes claims the group's keys in one round trip, so a
    /// replica with free threads takes them first. Not said, a replica claims every slot
    /// of a round it can win, and long runs queue where they were won.
    std::size_t executor_threads = 0;
    /// See executor_threads. Lower starts long runs sooner on another replica; slots left
    /// out of a batch cost every replica a round trip per group of executor_threads.
    /// 0 (or less): only as many as there are free threads.
    std::chrono::milliseconds claim_ahead{250};
    std::vector<event_hook> hooks{};
    /// How often run_due asks a backend that reports its facts (sked::reports_facts, e.g.
    /// Redis) for its clock and identity, and how far the clocks may disagree before it
    /// is reported (status().backend, a backend_error event).
    std::chrono::milliseconds backend_check_every{60'000};
    std::chrono::milliseconds max_clock_offset{5'000};
    /// How often a one-off kind this replica handles is looked at in the backend when
    /// nothing is known to be due sooner (a take also says when the next job is due).
    /// With a listener that tells the scheduler of jobs other replicas store
    /// (sked::postgres::one_off_listener), polling is only the fallback: a minute will do.
    std::chrono::milliseconds one_off_poll_every{1'000};
};

enum class registration : std::uint8_t { added, updated };

/// How much scheduler::status() gathers: everything, or the scheduler's own fields only
/// (running, now, replica, backend), without the per-job and per-kind lists, for a
/// health check that runs often.
enum class status_detail : std::uint8_t { full, summary };

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

/// What a graceful stop (sked::runner::stop, sked::asio::driver::async_stop) found.
struct shutdown_report {
    std::size_t stop_requested = 0;  ///< runs that were asked to stop
    std::vector<unfinished_run> unfinished;  ///< still running when the deadline passed
    [[nodiscard]] bool clean() const noexcept { return unfinished.empty(); }
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
    /// A paused job's slots are skipped (skip_reason::paused) until it is resumed; each
    /// change raises event_kind::switched. false when no job has that name.
    bool pause(std::string_view name);
    bool resume(std::string_view name);
    /// Stagger on or off for every job, at run time: off, each job starts at its slot,
    /// without its offset and jitter (a rollback of stagger needs no restart). A pending
    /// slot moves at once; one whose new start has passed starts now. Each job's own
    /// switch (below) stays as it is. Each change raises event_kind::switched.
    void set_stagger(bool on);
    /// Stagger on or off for one job (its start is staggered while both switches are
    /// on); false when no job has that name. The switch stays when the job is added again.
    bool set_stagger(std::string_view name, bool on);
    // ---- durable one-off jobs (sked/one_off.hpp, docs/one-offs.md) ---------------------
    /// Handles one-off jobs of `kind` on this replica (every replica registers its kinds
    /// at boot; registering a kind again replaces its handler). Needs a backend that keeps
    /// jobs (sked::durable_jobs).
    result<registration, job_error> on(std::string kind, one_off_function handler, one_off_options options = {});
    /// Stores a one-off job in the backend; any replica that handles its kind runs it
    /// once when due. Nothing is stored when the answer is an error or not `created`.
    result<create_status, backend_error> create(const one_off_request& request);
    /// Removes a pending job (or a running one, which is not stopped); false when none.
    result<bool, backend_error> cancel(std::string_view kind, std::string_view key);
    /// Another replica stored a one-off of `kind` due at `run_at` (a backend's notice,
    /// e.g. sked::postgres::one_off_listener): this replica takes the kind then, not a
    /// poll later. A kind not handled here is ignored.
    void one_off_noticed(std::string_view kind, instant run_at);
    /// Notices may have been missed (a listener connected again): every kind handled
    /// here is taken now, as at a poll.
    void one_off_notices_missed();

    /// Runs the job now, as slot floor(now) (its own run key), outside its schedule.
    bool run_now(std::string_view name);
    [[nodiscard]] bool contains(std::string_view name) const;
    [[nodiscard]] std::size_t size() const;
    [[nodiscard]] scheduler_status status(status_detail detail = status_detail::full) const;
    [[nodiscard]] instant now() const { return clock_(); }
    /// Where runs execute (empty: inline); a driver sends its blocking calls there too.
    [[nodiscard]] const executor_function& executor() const noexcept { return executor_; }

    // ---- the driving interface: sked::runner, or a loop of your own -------------------
    // Slots are due on the wall clock, everything else (renewals, timeouts, retries) on
    // the steady clock. A driver sleeps until next_wakeup(), but never longer than about
    // a second at a time (sked::runner's max_wait), so that a step of the wall clock is
    // acted on within that cap: a relative wait is steady, and an absolute wall deadline
    // computed before a step is wrong after it.
    /// When run_due next has something to do, on the wall clock (a steady deadline is
    /// translated at the time of the call); nullopt when nothing is scheduled.
    [[nodiscard]] std::optional<instant> next_wakeup() const;
    /// Starts everything due at or before `now`; returns how many runs it started.
    std::size_t run_due(instant now);
    std::size_t run_due() { return run_due(clock_()); }
    /// Called (without the lock) whenever next_wakeup() may have moved earlier.
    void on_wakeup_change(std::function<void()> notify);
    /// From now on run_due starts nothing.
    void stop_dispatching();
    /// Requests stop on every running job; returns how many were running.
    std::size_t request_stop_all();
    /// Waits until no run is in flight or `deadline` passes; returns the runs left.
    std::vector<unfinished_run> wait_idle(std::chrono::steady_clock::time_point deadline);
    /// How long ago (steady) run_due last began; nullopt before the first. A driver that
    /// is alive keeps this under its cap on a wait (a health check reads it: /health).
    [[nodiscard]] std::optional<std::chrono::milliseconds> since_last_pass() const;

private:
    using milliseconds = std::chrono::milliseconds;
    using job_record = detail::job_record;
    using after_unlock = detail::after_unlock;
    using moment = detail::moment;

    // Once a run is counted out of the runs in flight, the scheduler may be destroyed
    // at any moment: nothing may touch it after that.
    enum class run_exit : std::uint8_t { still_counted, counted_out };
    // A run leaves the runs in flight; the last one out wakes the destructor's wait.
    // count_out_held() is for a caller that holds the lock (so no waiter misses it).
    void count_out_held() {
        if (runs_.count_return()) idle_.notify_all();
    }
    void count_out() {
        std::lock_guard hold{mutex_};
        count_out_held();
    }

    /// A job's switch (paused, or its stagger off: job_record::unstaggered) to `value`;
    /// a change moves its pending slot when its start times change, and is raised as `said`.
    bool set_job_switch(std::string_view name, job_record::flag flag, bool value, std::string_view said);
    void deliver(after_unlock& out);

    // ---- a run: the backend and the job off the lock, each step recorded under it ------
    void execute(detail::launch l);
    run_exit run(detail::launch& l);
    bool claim(detail::launch& l, detail::run_leases& leases);
    void claim_together(std::vector<detail::launch>& launches);
    void end_refused(std::vector<detail::launch>& launches);
    void limit_claims_ahead(std::vector<detail::launch>& launches);
    void group_later_claims(std::vector<detail::launch>& launches);
    void take_group_answer(detail::launch& l);
    bool joins_batches(const detail::launch& l) const {
        return claims_.claims_run_keys(l.options->mode) && l.stored_retry == 0 && !l.confirm && !l.key_claimed;
    }
    std::optional<result<grant, backend_error>> claimed_key(detail::launch& l);
    run_exit finish(detail::launch& l, bool succeeded, std::string failure, bool abandoned);
    run_exit abandon(const detail::launch& l, const moment& ended, const detail::run_end& end, std::string failure);
    static void settled_as(detail::run_outcome& outcome, bool handed_over, bool record,
                           detail::claim_protocol::settled&& settled);
    run_exit conclude(const detail::launch& l, const moment& ended, const detail::run_end& end,
                      detail::run_outcome&& outcome);
    void renew(std::uint32_t run);
    void resettle(detail::unsettled_run&& end);
    template <class Step>
    void record(Step&& step);
    [[nodiscard]] moment read_clocks() const { return {clock_(), steady_()}; }
    void watch_backend(const moment& now);
    // One-off jobs: their leases renewed, their takes, and a run of one.
    std::size_t serve_one_offs(const moment& now);
    std::size_t take_one_offs(std::uint32_t kind, const moment& now);
    void renew_one_off(std::uint32_t run);
    void execute_one_off(std::uint32_t run);
    void settle_one_off(std::uint32_t run, std::string failure);
    void one_off_settled(std::uint32_t run, const taken_job& job, event e, std::string failure, bool lost,
                         result<bool, backend_error> settled);
    void put_back_one_off(std::uint32_t run, const taken_job& job, const moment& now,
                          std::optional<std::chrono::sys_seconds> next);
    void one_off_ended(after_unlock& out);
    // Retries of scheduled slots kept in the backend, as one-offs of an internal kind.
    bool store_retry(const detail::launch& l, const moment& ended);
    void run_stored_retry(const one_off_context& c);
    void handle_stored_retries();
    // Under the lock: whether an entry is due, and the first of them (timers first).
    [[nodiscard]] bool something_due(std::int64_t wall_ms, std::int64_t steady_ms) const;
    detail::due_entry pop_due(std::int64_t steady_ms);
    [[nodiscard]] std::uint32_t tie_salt() const;

    clock_source clock_;
    steady_source steady_;
    detail::claim_protocol claims_;
    std::string replica_;
    executor_function executor_;
    std::vector<event_hook> hooks_;
    std::chrono::milliseconds backend_check_every_, max_clock_offset_, one_off_poll_every_;
    std::size_t executor_threads_;
    std::chrono::milliseconds claim_ahead_;

    mutable std::mutex mutex_;
    std::condition_variable idle_;
    detail::job_table jobs_;
    detail::due_queue fires_;  // slots, on the wall clock
    detail::due_queue timers_;  // deferred attempts, renewals, timeouts, on the steady clock
    detail::run_table runs_;
    detail::backend_health health_;
    detail::one_off_table one_offs_;
    // Steady ms of the next look at the backend's facts: read on every run_due, so an
    // atomic rather than one more turn of the mutex.
    std::atomic<std::int64_t> next_backend_check_ms_{std::numeric_limits<std::int64_t>::min()};
    std::atomic<std::int64_t> last_pass_ms_{detail::never_ms};  // steady ms; never_ms: none yet
    detail::dispatcher dispatch_;
    bool dispatching_ = true;
    std::function<void()> wakeup_;
};

// =======================================================================================
// Implementation
// =======================================================================================

inline scheduler::scheduler(scheduler_options options)
    : clock_(options.clock ? std::move(options.clock) : clock_source{system_now}),
      steady_(options.steady ? std::move(options.steady) : steady_source{std::chrono::steady_clock::now}),
      claims_(std::move(options.backend)),
      replica_(std::move(options.replica)),
      executor_(std::move(options.executor)),
      hooks_(std::move(options.hooks)),
      backend_check_every_(options.backend_check_every),
      max_clock_offset_(options.max_clock_offset),
      one_off_poll_every_(options.one_off_poll_every),
      executor_threads_(options.executor_threads),
      claim_ahead_(options.claim_ahead),
      fires_(tie_salt()),
      dispatch_(jobs_, fires_, timers_, runs_, claims_, health_, !executor_, !hooks_.empty()) {}

// Replicas that claim in batches race for the run keys of jobs due together. Were they
// all to take ties in registration order, the first batch to reach the backend would win
// nearly every key, and its replica would run them all while the others idle. So each
// takes ties in an order of its own, from its name (at random when it has none): their
// batches meet different keys first, and the runs spread across the replicas.
inline std::uint32_t scheduler::tie_salt() const {
    if (!executor_ || !claims_.claims_in_batches()) return 0;
    const auto unnamed = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                         reinterpret_cast<std::uintptr_t>(this);
    const auto salt = static_cast<std::uint32_t>(replica_.empty() ? splitmix64(unnamed) : fnv1a_64(replica_));
    return salt == 0 ? 1 : salt;
}

inline scheduler::~scheduler() {
    std::unique_lock hold{mutex_};
    dispatching_ = false;
    idle_.wait(hold, [this] { return runs_.idle(); });
}

// ---- registration ----------------------------------------------------------------------

inline result<registration, job_error> scheduler::add(job_spec spec) {
    if (auto problem = detail::problem_with(spec)) return job_error{spec.name, "job '" + spec.name + "': " + *problem};
    after_unlock out;
    // The last recorded slot comes from the backend before the lock is taken.
    std::int64_t recorded = detail::no_slot;
    if (const auto last = claims_.last_recorded(spec.name, spec.options); !last)
        out.events.add({.kind = event_kind::backend_error, .at = clock_()}, spec.name,
                       "reading the last slot: " + last.error().message());
    else if (*last)
        recorded = detail::slot_value(**last);
    // So are the recent slots a dead holder abandoned, which no live replica may have seen.
    std::vector<std::chrono::sys_seconds> abandoned;
    if (claims_.claims_run_keys(spec.options.mode)) {
        const auto look_back =
            detail::recovery_candidates(spec.schedule, spec.options, detail::slot_or_none(recorded), clock_());
        if (auto found = claims_.abandoned_slots(spec.name, look_back); !found)
            out.events.add({.kind = event_kind::backend_error, .at = clock_()}, spec.name,
                           "looking for abandoned slots: " + found.error().message());
        else
            abandoned = *std::move(found);
    }
    if (spec.options.retry.max_attempts > 1 && claims_.stores_retries(spec.options.mode)) handle_stored_retries();
    registration outcome = registration::added;
    {
        std::lock_guard hold{mutex_};
        const auto done = jobs_.upsert(std::move(spec), recorded);
        if (!done.added) outcome = registration::updated;
        if (done.timing_changed) {
            dispatch_.start_schedule(done.job, clock_(), out);
            out.wake = true;
        }
        dispatch_.recover(done.job, abandoned, steady_(), out);
    }
    deliver(out);
    return outcome;
}

inline bool scheduler::remove(std::string_view name) {
    std::lock_guard hold{mutex_};
    const auto j = jobs_.find(name);
    if (j == detail::job_table::none) return false;
    jobs_.remove(j);  // its record is freed by the last run to finish, if one is running
    return true;
}

inline bool scheduler::pause(std::string_view name) {
    return set_job_switch(name, job_record::paused, true, "job paused");
}
inline bool scheduler::resume(std::string_view name) {
    return set_job_switch(name, job_record::paused, false, "job resumed");
}
inline bool scheduler::set_stagger(std::string_view name, bool on) {
    return set_job_switch(name, job_record::unstaggered, !on, on ? "stagger on" : "stagger off");
}

inline bool scheduler::set_job_switch(std::string_view name, job_record::flag flag, bool value, std::string_view said) {
    after_unlock out;
    {
        std::lock_guard hold{mutex_};
        const auto j = jobs_.find(name);
        if (j == detail::job_table::none) return false;
        if (jobs_[j].has(flag) == value) return true;
        const bool was_staggered = jobs_.staggered(jobs_[j]);
        jobs_[j].set(flag, value);
        const instant now = clock_();
        if (jobs_.staggered(jobs_[j]) != was_staggered && jobs_.has_stagger(jobs_[j])) dispatch_.replan({j}, now, out);
        dispatch_.switched(name, said, now, out);
    }
    deliver(out);
    return true;
}

inline void scheduler::set_stagger(bool on) {
    after_unlock out;
    {
        std::lock_guard hold{mutex_};
        if (jobs_.stagger() == on) return;
        jobs_.set_stagger(on);
        std::vector<detail::job_table::id> moved;  // jobs whose own switch is on and that stagger
        jobs_.for_each_live_id([&](detail::job_table::id j) {
            if (!jobs_[j].has(job_record::unstaggered) && jobs_.has_stagger(jobs_[j])) moved.push_back(j);
        });
        const instant now = clock_();
        dispatch_.replan(std::move(moved), now, out);
        dispatch_.switched({}, on ? "stagger on" : "stagger off", now, out);
    }
    deliver(out);
}

inline bool scheduler::run_now(std::string_view name) {
    after_unlock out;
    {
        std::lock_guard hold{mutex_};
        const auto j = jobs_.find(name);
        if (j == detail::job_table::none) return false;
        const instant now = clock_();
        const auto slot = detail::slot_value(std::chrono::floor<std::chrono::seconds>(now));
        dispatch_.defer({j, jobs_[j].generation, detail::deferred_attempt::kind::manual, slot, 1, 0}, steady_(), out);
    }
    deliver(out);
    return true;
}

inline bool scheduler::contains(std::string_view name) const {
    std::lock_guard hold{mutex_};
    return jobs_.find(name) != detail::job_table::none;
}

inline std::size_t scheduler::size() const {
    std::lock_guard hold{mutex_};
    return jobs_.size();
}

inline std::optional<instant> scheduler::next_wakeup() const {
    std::lock_guard hold{mutex_};
    if (!dispatching_) return std::nullopt;
    std::optional<instant> next;
    if (!fires_.empty()) next = instant{milliseconds{fires_.top().due_ms}};
    const auto take = one_offs_.next_take_ms();
    if (take != detail::never_ms) {
        const instant at = std::max(instant{milliseconds{take}}, clock_());  // "at once" is now
        if (!next || at < *next) next = at;
    }
    const auto steady_due =
        std::min(timers_.empty() ? detail::never_ms : timers_.top().due_ms, one_offs_.next_renewal_ms());
    if (steady_due != detail::never_ms) {
        const auto now = read_clocks();
        const auto in =
            milliseconds{steady_due} - std::chrono::duration_cast<milliseconds>(now.steady.time_since_epoch());
        const instant at = now.wall + std::max(in, milliseconds{0});
        if (!next || at < *next) next = at;
    }
    return next;
}

inline void scheduler::on_wakeup_change(std::function<void()> notify) {
    std::lock_guard hold{mutex_};
    wakeup_ = std::move(notify);
}

// ---- the due loop ----------------------------------------------------------------------

inline bool scheduler::something_due(std::int64_t wall_ms, std::int64_t steady_ms) const {
    return (!timers_.empty() && timers_.top().due_ms <= steady_ms) ||
           (!fires_.empty() && fires_.top().due_ms <= wall_ms);
}

inline detail::due_entry scheduler::pop_due(std::int64_t steady_ms) {
    return !timers_.empty() && timers_.top().due_ms <= steady_ms ? timers_.pop() : fires_.pop();
}

inline std::size_t scheduler::run_due(instant now) {
    const moment at{now, steady_()};
    const auto wall_ms = now.time_since_epoch().count();
    const auto steady_ms = std::chrono::duration_cast<milliseconds>(at.steady.time_since_epoch()).count();
    last_pass_ms_.store(steady_ms, std::memory_order_relaxed);
    watch_backend(at);
    std::size_t started = serve_one_offs(at);
    after_unlock out;  // reused: its vectors keep their capacity across rounds
    // Bounded rounds release the lock regularly. Each round's launches claim their keys
    // in one round trip before the next round is dispatched, so rounds grow (256, 512,
    // ... up to 2048 entries): the first runs of a busy second start after a small batch,
    // and 3,000 slots due together cost 4 claim round trips rather than 12.
    int round = 256;
    while (true) {
        {
            std::lock_guard hold{mutex_};
            if (!dispatching_) return started;
            // Inline, a round ends at each start, so the run finishes (and frees its job)
            // before later entries are seen.
            for (int n = 0; n < round && something_due(wall_ms, steady_ms); ++n) {
                dispatch_.handle(pop_due(steady_ms), at, out);
                if (!executor_ && !out.launches.empty()) break;
            }
            limit_claims_ahead(out.launches);
        }
        for (auto run : out.renewals)
            renew(run);
        for (auto& end : out.settles)
            resettle(std::move(end));
        const bool idle = out.launches.empty() && out.renewals.empty() && out.settles.empty();
        out.renewals.clear();
        out.settles.clear();
        started += out.launches.size();
        deliver(out);
        claim_together(out.launches);
        group_later_claims(out.launches);
        end_refused(out.launches);
        for (auto& l : out.launches) {
            if (executor_) {
                executor_([this, l = std::move(l)]() mutable { execute(std::move(l)); });
            } else {
                execute(std::move(l));
            }
        }
        out.launches.clear();
        round = std::min(round * 2, 2048);
        if (idle) {
            std::lock_guard hold{mutex_};
            if (!something_due(wall_ms, steady_ms)) return started;
        }
    }
}

// Now and then: does the backend's clock agree with ours, is it the same instance?
inline void scheduler::watch_backend(const moment& now) {
    if (!claims_.reports_facts()) return;
    const auto now_ms = std::chrono::duration_cast<milliseconds>(now.steady.time_since_epoch()).count();
    auto due = next_backend_check_ms_.load(std::memory_order_relaxed);
    // One caller at a time wins the look; the others go on.
    if (now_ms < due || !next_backend_check_ms_.compare_exchange_strong(due, now_ms + backend_check_every_.count()))
        return;
    const instant sent = clock_();
    auto facts = claims_.facts();
    const instant received = clock_();
    if (!facts) return;  // an outage is reported by the claims that fail
    after_unlock out;
    {
        std::lock_guard hold{mutex_};
        const auto news = health_.observe(*facts, sent, received, max_clock_offset_);
        if (news.clock)
            out.events.add(
                {.kind = news.clock_bad ? event_kind::backend_error : event_kind::backend_recovered, .at = received},
                {}, std::string(*news.clock));
        if (news.restarted)
            out.events.add({.kind = event_kind::backend_error, .at = received}, {}, std::string(*news.restarted));
    }
    deliver(out);
}

inline void scheduler::deliver(after_unlock& out) {
    out.events.deliver(hooks_, replica_);
    if (!std::exchange(out.wake, false)) return;
    std::function<void()> notify;
    {
        std::lock_guard hold{mutex_};
        notify = wakeup_;
    }
    if (notify) notify();
}

// ---- a run -----------------------------------------------------------------------------

// Whatever happens in the run, the scheduler may be destroyed only after this returns.
inline void scheduler::execute(detail::launch l) {
    if (run(l) == run_exit::counted_out) return;
    count_out();
}

inline scheduler::run_exit scheduler::run(detail::launch& l) {
    detail::run_leases leases;
    take_group_answer(l);
    if (!claim(l, leases)) return run_exit::still_counted;
    const moment started = read_clocks();
    if (!l.started) record([&](after_unlock& out) { dispatch_.run_started(l, leases, started, out); });
    detail::run_signals signals;
    const job_context context{l.name, l.slot,  l.started.value_or(started.wall), l.attempt, leases.fence(),
                              l.stop, &signals};
    bool succeeded = true;
    std::string failure;
    try {
        l.fn(context);
    } catch (...) {
        succeeded = false;
        failure = detail::failure_text(std::current_exception());
    }
    return finish(l, succeeded, std::move(failure), context.abandoned());
}

// Slots that came due together claim their run keys in one round trip, a batch per lease
// ttl: a hundred jobs at :00 cost a replica one round trip, not a hundred. Each run learns
// its key's answer in claim(), as if it had asked alone. Inline (no executor) a run ends
// before the next is found due, so there is nothing to batch.
inline void scheduler::claim_together(std::vector<detail::launch>& launches) {
    if (!executor_ || launches.size() < 2 || !claims_.claims_in_batches()) return;
    const auto batched = [this](const detail::launch& l) { return joins_batches(l) && !l.claims_later; };
    std::vector<detail::launch*> batch;
    std::vector<std::string> keys;
    for (auto& lead : launches) {
        if (!batched(lead)) continue;
        const auto ttl = lead.options->lease_ttl;
        batch.clear();
        keys.clear();
        for (auto* l = &lead; l != launches.data() + launches.size(); ++l) {
            if (!batched(*l) || l->options->lease_ttl != ttl) continue;
            batch.push_back(l);
            keys.push_back(run_key(l->name, l->slot));
        }
        if (batch.size() < 2) continue;  // alone with its ttl: it claims in its run
        const auto sent = steady_();
        auto grants = claims_.claim_keys(keys, ttl);
        for (std::size_t i = 0; i < batch.size(); ++i)
            batch[i]->take_answer(grants, i, sent);
    }
}

// Under the lock: with executor_threads said, the launches this replica cannot start
// soon claim later, when a thread takes them (scheduler_options::executor_threads).
// A launch starts at once while threads are free; after that, at about the thread-time
// of the runs queued before it (each its job's mean run time here) over the threads.
inline void scheduler::limit_claims_ahead(std::vector<detail::launch>& launches) {
    if (executor_threads_ == 0 || launches.empty()) return;
    const auto busy = runs_.in_flight() - std::min(runs_.in_flight(), launches.size());
    std::size_t free = executor_threads_ > busy ? executor_threads_ - busy : 0;
    double queued_ms = 0;  // thread-ms of the runs queued once the threads are taken
    const double limit_ms = static_cast<double>(claim_ahead_.count()) * static_cast<double>(executor_threads_);
    for (auto& l : launches) {
        if (free > 0) {
            --free;
            continue;
        }
        const auto* run = runs_.find(l.run);
        const auto* stats = run ? jobs_[run->job].stats.get() : nullptr;
        if (stats) queued_ms += stats->durations.mean().count();
        l.claims_later = queued_ms > limit_ms;
    }
}

// The launches left out of the round's batch, in groups of as many as the executor runs
// at once: a group's keys are claimed when a thread takes its first launch, in one round
// trip, so each left-out slot costs a replica a share of a round trip rather than one.
inline void scheduler::group_later_claims(std::vector<detail::launch>& launches) {
    if (!claims_.claims_in_batches()) return;
    std::shared_ptr<detail::claim_group> group;
    for (auto& l : launches) {
        if (!l.claims_later || !joins_batches(l)) continue;
        if (!group || group->keys.size() == executor_threads_ || group->ttl != l.options->lease_ttl) {
            group = std::make_shared<detail::claim_group>();
            group->ttl = l.options->lease_ttl;
        }
        l.in_group = static_cast<std::uint32_t>(group->keys.size());
        group->keys.push_back(run_key(l.name, l.slot));
        l.group = group;
    }
}

// A launch of a group: its answer, claimed by the first of the group a thread took
// (this one, perhaps); then it goes on as one claimed in its round's batch.
inline void scheduler::take_group_answer(detail::launch& l) {
    const auto group = std::exchange(l.group, nullptr);
    if (!group) return;
    std::lock_guard hold{group->mutex};
    if (!group->answers) {
        group->claimed_at = steady_();
        group->answers = claims_.claim_keys(group->keys, group->ttl);
    }
    l.take_answer(*group->answers, l.in_group, group->claimed_at);
}

// Launches whose run key the batch did not grant (held elsewhere, done, or the backend
// failed) end here, together under one lock: they call no backend and run no job, so
// they need no thread. On a replica that loses most keys of a busy second they would
// otherwise be most of the executor's tasks, queued among the runs that won.
inline void scheduler::end_refused(std::vector<detail::launch>& launches) {
    const auto granted_or_own = [](const detail::launch& l) {
        return !l.key_claimed || (*l.key_claimed && (*l.key_claimed)->acquired());
    };
    const auto refused = std::stable_partition(launches.begin(), launches.end(), granted_or_own);
    if (refused == launches.end()) return;
    std::vector<detail::claim_answer> answers;
    answers.reserve(static_cast<std::size_t>(launches.end() - refused));
    for (auto l = refused; l != launches.end(); ++l)  // the batch's answer: no backend call
        answers.push_back(claims_.claim(l->name, l->slot, *l->options, 0, std::exchange(l->key_claimed, std::nullopt)));
    const moment now = read_clocks();
    after_unlock out;
    {
        std::lock_guard hold{mutex_};
        for (std::size_t i = 0; i < answers.size(); ++i) {
            dispatch_.claim_refused(refused[static_cast<std::ptrdiff_t>(i)], std::move(answers[i]), now, out);
            count_out_held();
        }
    }
    launches.erase(refused, launches.end());
    if (!out.empty()) deliver(out);
}

// The run key claimed in a batch. One that waited for a thread past the point where its
// run would have renewed it is renewed first; lost, or unconfirmed, the run claims again.
inline std::optional<result<grant, backend_error>> scheduler::claimed_key(detail::launch& l) {
    auto made = std::exchange(l.key_claimed, std::nullopt);
    if (!made || !*made || !(*made)->acquired()) return made;
    const auto ttl = l.options->lease_ttl;
    const auto now = steady_();
    if (now - l.claimed_at < detail::claim_protocol::renew_interval(ttl)) return made;
    detail::run_leases held;
    held.key = std::move((*made)->lease);
    if (claims_.renew(held, ttl, now)) return std::nullopt;
    (*made)->lease = *std::move(held.key);
    return made;
}

// Claims what the job's mode needs; when it may not run, the run ends here.
inline bool scheduler::claim(detail::launch& l, detail::run_leases& leases) {
    if (!claims_.claims(l.options->mode)) return true;
    auto answer = claims_.claim(l.name, l.slot, *l.options, l.stored_retry, claimed_key(l));
    if (answer.go && l.confirm) answer = claims_.give_back(std::move(answer.leases));
    if (answer.go) {
        leases = std::move(answer.leases);
        return true;
    }
    record([&](after_unlock& out) { dispatch_.claim_refused(l, std::move(answer), read_clocks(), out); });
    return false;
}

inline scheduler::run_exit scheduler::finish(detail::launch& l, bool succeeded, std::string failure, bool abandoned) {
    const moment ended = read_clocks();
    after_unlock out;
    auto end = [&] {
        std::lock_guard hold{mutex_};
        return dispatch_.run_returned(l, ended, out);
    }();
    if (!out.empty()) deliver(out);
    if (abandoned && end.leases.key) return abandon(l, ended, end, std::move(failure));
    detail::run_outcome outcome;
    // A run whose lease was lost may have overlapped the next holder: not a success.
    outcome.ok = succeeded && !end.timed_out && !end.lease_lost;
    outcome.final_attempt = outcome.ok || l.attempt >= l.options->retry.max_attempts;
    if (failure.empty()) failure = end.timed_out ? "timed out" : end.lease_lost ? "lease lost" : "";
    if (!outcome.ok) outcome.failure = std::move(failure);
    if (!outcome.final_attempt && claims_.stores_retries(l.options->mode)) outcome.retry_stored = store_retry(l, ended);
    if (!claims_.claims(l.options->mode)) return conclude(l, ended, end, std::move(outcome));
    // With its retry stored, the slot is handed over: its run key is completed, so no
    // replica claims the slot as a first attempt again; the stored retry runs it.
    const bool handed_over = outcome.ok || outcome.retry_stored;
    const bool record = outcome.final_attempt || outcome.retry_stored;
    if (!claims_.settles_in_batch(end.leases)) {
        settled_as(outcome, handed_over, record,
                   claims_.settle(end.leases, l.name, l.slot, *l.options, handed_over, record, ended.steady));
        return conclude(l, ended, end, std::move(outcome));
    }
    // In a batch with other runs' ends: this thread goes back to its executor, and the
    // answer ends the run on whichever thread sent the batch (detail::settle_queue).
    struct ending {
        detail::launch l;
        moment ended;
        detail::run_end end;
        detail::run_outcome outcome;
        key_settlement item{};
    };
    auto e = std::make_shared<ending>(ending{std::move(l), ended, std::move(end), std::move(outcome)});
    e->item = claims_.settlement(e->end.leases, e->l.name, e->l.slot, *e->l.options, handed_over, record);
    claims_.settle_in_batch(e->end.leases, e->item, ended.steady, [this, e, handed_over, record](auto answer) {
        settled_as(e->outcome, handed_over, record, std::move(answer));
        if (conclude(e->l, e->ended, e->end, std::move(e->outcome)) == run_exit::still_counted) count_out();
    });
    return run_exit::counted_out;  // by the answer, perhaps already: the scheduler may be gone
}

// An abandoned run (job_context::abandon) leaves its run key to the lease, as a dead
// replica's run would: nothing is completed, released or recorded, and this replica looks
// at the slot again once the lease has run out (dispatcher::run_ended), so the slot runs
// again even with no other replica. Only the job's lease, if any, is let go.
inline scheduler::run_exit scheduler::abandon(const detail::launch& l, const moment& ended, const detail::run_end& end,
                                              std::string failure) {
    detail::run_outcome outcome;
    outcome.final_attempt = true;
    outcome.abandoned = true;
    outcome.failure = (failure.empty() ? std::string{"returned"} : std::move(failure)) +
                      " (abandoned: its run key is left to its lease; the slot runs again once that runs out)";
    if (end.leases.lock) {
        detail::run_leases lock_only;
        lock_only.lock = end.leases.lock;
        settled_as(outcome, false, false,
                   claims_.settle(lock_only, l.name, l.slot, *l.options, false, false, ended.steady));
    }
    return conclude(l, ended, end, std::move(outcome));
}

// What settling the run at the backend came to, in its outcome.
inline void scheduler::settled_as(detail::run_outcome& outcome, bool handed_over, bool record,
                                  detail::claim_protocol::settled&& settled) {
    outcome.backend_failures = std::move(settled.failures);
    if (settled.settle_again) outcome.settle_again = detail::settle_retry{.completed = handed_over, .record = record};
    if (settled.lost) {
        // Another holder has the slot: this run is not a success, and not retried here.
        outcome.ok = false;
        outcome.final_attempt = true;
        outcome.failure = "lease lost: " + *settled.lost;
        outcome.lost = std::move(settled.lost);
    }
}

// The run is over: its outcome recorded, and it leaves the runs in flight unless the
// hooks still have to hear of it.
inline scheduler::run_exit scheduler::conclude(const detail::launch& l, const moment& ended, const detail::run_end& end,
                                               detail::run_outcome&& outcome) {
    after_unlock out;
    {
        std::lock_guard hold{mutex_};
        dispatch_.run_ended(l, ended, end, std::move(outcome), out);
        if (out.empty()) {  // nothing left to do after the lock
            count_out_held();
            return run_exit::counted_out;
        }
    }
    deliver(out);
    return run_exit::still_counted;
}

// Keeps a long run's leases alive; a lease that cannot be renewed stops the run.
inline void scheduler::renew(std::uint32_t id) {
    detail::run_leases leases;
    milliseconds ttl{0};
    {
        std::lock_guard hold{mutex_};
        const auto* run = runs_.find(id);
        if (run == nullptr) return;
        leases = run->leases;
        ttl = jobs_.options_of(jobs_[run->job]).lease_ttl;
    }
    auto lost = claims_.renew(leases, ttl, steady_());
    record([&](after_unlock& out) { dispatch_.renewed(id, leases, std::move(lost), read_clocks(), out); });
}

// A run's end the backend did not take, sent again (only its run key and slot record:
// the job's lease, if any, was released or runs out).
inline void scheduler::resettle(detail::unsettled_run&& end) {
    detail::run_leases held;
    held.key = end.key;
    auto answer = claims_.settle(held, end.name, end.slot, *end.options, end.succeeded, end.record, steady_());
    record([&](after_unlock& out) { dispatch_.resettled(std::move(end), std::move(answer), read_clocks(), out); });
}

// One step of a run under the lock, and what it leaves, after it.
template <class Step>
void scheduler::record(Step&& step) {
    after_unlock out;
    {
        std::lock_guard hold{mutex_};
        step(out);
    }
    if (!out.empty()) deliver(out);
}

// ---- status and shutdown ---------------------------------------------------------------

inline scheduler_status scheduler::status(status_detail detail) const {
    std::lock_guard hold{mutex_};
    scheduler_status s;
    s.running = dispatching_;
    s.now = clock_();
    s.replica = replica_;
    s.stagger = jobs_.stagger();
    s.backend = health_.status();
    if (detail == status_detail::summary) return s;
    s.jobs.reserve(jobs_.size());
    jobs_.for_each_live([&](const job_record& job) { s.jobs.push_back(jobs_.status_of(job)); });
    for (const auto& k : one_offs_.kinds())
        s.one_offs.push_back(k.status);
    return s;
}

inline void scheduler::stop_dispatching() {
    std::lock_guard hold{mutex_};
    dispatching_ = false;
}

inline std::size_t scheduler::request_stop_all() {
    std::lock_guard hold{mutex_};
    return runs_.stop_all() + one_offs_.stop_all();
}

inline std::vector<unfinished_run> scheduler::wait_idle(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock hold{mutex_};
    idle_.wait_until(hold, deadline, [this] { return runs_.idle(); });
    std::vector<unfinished_run> left;
    runs_.for_each([&](const detail::run_state& run) {
        left.push_back({jobs_[run.job].name, run.slot, run.attempt, run.started});
    });
    one_offs_.for_each_run([&](const detail::one_off_run& run) {
        left.push_back({run.job.kind + "/" + run.job.key, run.job.slot, run.job.attempt, run.started});
    });
    return left;
}

inline std::optional<std::chrono::milliseconds> scheduler::since_last_pass() const {
    const auto last = last_pass_ms_.load(std::memory_order_relaxed);
    if (last == detail::never_ms) return std::nullopt;
    return std::chrono::duration_cast<milliseconds>(steady_().time_since_epoch()) - milliseconds{last};
}

// ---- durable one-off jobs ----------------------------------------------------------------

inline result<registration, job_error> scheduler::on(std::string kind, one_off_function handler,
                                                     one_off_options options) {
    const auto refuse = [&](std::string why) { return job_error{kind, "one-off kind '" + kind + "': " + why}; };
    if (!claims_.keeps_jobs()) return refuse("the backend keeps no one-off jobs (it needs a sked::durable_jobs)");
    if (auto bad = detail::problem_with_kind(kind)) return refuse(bad->message());
    if (!handler) return refuse("the handler is empty");
    if (auto bad = detail::check_ttl("lease_ttl", options.lease_ttl)) return refuse(bad->message());
    if (options.batch == 0 || options.max_running == 0) return refuse("batch and max_running must be at least 1");
    if (options.retry.max_attempts == 0) return refuse("retry.max_attempts is 0");
    if (options.keep_done < std::chrono::hours{0} || options.keep_done > std::chrono::hours{24 * 30})
        return refuse("keep_done is outside 0 to 30 days");
    after_unlock out;
    registration outcome = registration::added;
    {
        std::lock_guard hold{mutex_};
        if (one_offs_.find(kind)) outcome = registration::updated;
        one_offs_.upsert(std::move(kind), std::move(handler), options);
        out.wake = true;
    }
    deliver(out);
    return outcome;
}

inline result<create_status, backend_error> scheduler::create(const one_off_request& request) {
    instant run_at{request.due};
    if (request.calendar) {
        const auto& c = *request.calendar;
        if (auto problem = c.problem(); !problem.empty())
            return backend_error{backend_errc::invalid_argument,
                                 "one-off " + request.kind + "/" + request.key + ": " + problem};
        const auto allowed = c.next_allowed(request.due);
        if (!allowed)
            return backend_error{backend_errc::invalid_argument, "one-off " + request.kind + "/" + request.key +
                                                                     ": the calendar allows no instant after " +
                                                                     rfc3339(request.due)};
        run_at = instant{*allowed};
    }
    if (!claims_.keeps_jobs())
        return backend_error{backend_errc::invalid_argument,
                             "one-off " + request.kind + "/" + request.key +
                                 ": the backend keeps no one-off jobs (it needs a sked::durable_jobs)"};
    auto stored = claims_.create_job({request.kind, request.key, request.due, run_at, request.payload});
    if (stored && *stored == create_status::created) {
        after_unlock out;
        {
            std::lock_guard hold{mutex_};
            out.wake = one_offs_.created(request.kind, run_at);
        }
        deliver(out);
    }
    return stored;
}

inline result<bool, backend_error> scheduler::cancel(std::string_view kind, std::string_view key) {
    if (!claims_.keeps_jobs()) return false;
    return claims_.cancel_job(kind, key);
}

inline void scheduler::one_off_noticed(std::string_view kind, instant run_at) {
    after_unlock out;
    {
        std::lock_guard hold{mutex_};
        out.wake = one_offs_.created(kind, run_at);
    }
    deliver(out);
}

inline void scheduler::one_off_notices_missed() {
    const auto now = clock_();
    after_unlock out;
    {
        std::lock_guard hold{mutex_};
        out.wake = one_offs_.all_taken_by(now);
    }
    deliver(out);
}

// Renews the leases that are due, then takes what is due of each kind with room.
inline std::size_t scheduler::serve_one_offs(const moment& now) {
    std::vector<std::uint32_t> renewals, takes;
    {
        std::lock_guard hold{mutex_};
        if (!dispatching_ || one_offs_.kinds().empty()) return 0;
        renewals = one_offs_.start_renewals(detail::one_off_table::steady_ms(now.steady));
        takes = one_offs_.start_takes(now.wall.time_since_epoch().count());
    }
    for (auto run : renewals)
        renew_one_off(run);
    std::size_t started = 0;
    // A take that came back full is followed by the next at once, while there is room, for
    // at most 64 rounds a pass (the next pass goes on at once: took() left the kind due).
    // A round is only started once it is to be taken: start_takes() marks each kind as
    // taking until its take is answered, and a mark left behind stopped the kind for good
    // (10,000 co-due jobs on PostgreSQL, a store with 4 connections: 2,000 never ran).
    constexpr int max_rounds = 64;
    for (int round = 1; !takes.empty(); ++round) {
        for (auto kind : takes)
            started += take_one_offs(kind, now);
        if (round == max_rounds) break;
        std::lock_guard hold{mutex_};
        if (!dispatching_) break;
        takes = one_offs_.start_takes(now.wall.time_since_epoch().count());
    }
    return started;
}

// One take: a batch of the kind's due jobs, each run here on the executor.
inline std::size_t scheduler::take_one_offs(std::uint32_t kind, const moment& now) {
    std::string name;
    std::uint32_t room = 0;
    milliseconds ttl{0};
    {
        std::lock_guard hold{mutex_};
        auto& k = one_offs_[kind];
        name = k.name;
        room = detail::one_off_table::room(k);
        ttl = k.options.lease_ttl;
    }
    auto batch = claims_.take_jobs(name, now.wall, room, ttl);
    std::vector<std::uint32_t> launches;
    after_unlock out;
    {
        std::lock_guard hold{mutex_};
        const auto wall_ms = now.wall.time_since_epoch().count();
        if (!batch) {
            one_offs_.take_failed(kind, wall_ms, one_off_poll_every_);
            if (health_.failed(now.steady))
                out.events.add({.kind = event_kind::backend_error, .at = now.wall}, name,
                               "backend unavailable: taking one-off jobs: " + batch.error().message() +
                                   "; further failures are counted, not logged, until it answers");
        } else {
            if (const auto outage = health_.answered(now.steady))
                out.events.add({.kind = event_kind::backend_recovered, .at = now.wall, .duration = outage->lasted},
                               name, detail::backend_health::describe(*outage));
            one_offs_.took(kind, room, *batch, wall_ms, one_off_poll_every_);
            for (auto& job : batch->jobs) {
                launches.push_back(one_offs_.begin(kind, std::move(job), now.wall, now.steady));
                runs_.count_launch();
            }
            if (!dispatching_) one_offs_.stop_all();  // taken as the scheduler stopped: released at once
        }
    }
    deliver(out);
    for (auto run : launches) {
        if (executor_) {
            executor_([this, run] { execute_one_off(run); });
        } else {
            execute_one_off(run);
        }
    }
    return launches.size();
}

inline void scheduler::renew_one_off(std::uint32_t id) {
    taken_job job;
    milliseconds ttl{0};
    {
        std::lock_guard hold{mutex_};
        auto* run = one_offs_.find_run(id);
        if (run == nullptr) return;
        job = run->job;
        ttl = one_offs_[run->kind].options.lease_ttl;
    }
    auto renewed = claims_.renew_job(job, ttl);
    const auto now = read_clocks();
    std::lock_guard hold{mutex_};
    auto* run = one_offs_.find_run(id);
    if (run == nullptr) return;
    run->renewing = false;
    const auto now_ms = detail::one_off_table::steady_ms(now.steady);
    if (renewed && *renewed) {
        run->job.lease.valid_until = job.lease.valid_until;
        run->renew_at_ms = now_ms + ttl.count() / 3;
    } else if (!renewed && now.steady < job.lease.valid_until) {
        run->renew_at_ms = now_ms + std::min<std::int64_t>(ttl.count() / 3, 1'000);  // try again while it holds
    } else {
        run->lease_lost = true;  // another replica may take it: this run stops
        run->stop.request_stop();
        run->renew_at_ms = detail::never_ms;
    }
}

inline void scheduler::execute_one_off(std::uint32_t id) {
    one_off_function handler;
    taken_job job;
    std::stop_token stop;
    std::optional<std::optional<std::chrono::sys_seconds>> put_back;  // outside the calendar: its next opening
    after_unlock out;
    const auto now = read_clocks();
    {
        std::lock_guard hold{mutex_};
        auto& run = *one_offs_.find_run(id);
        auto& k = one_offs_[run.kind];
        handler = k.handler;
        job = run.job;
        stop = run.stop.get_token();
        run.started = now.wall;
        const auto second = std::chrono::floor<std::chrono::seconds>(now.wall);
        if (k.options.calendar && !k.options.calendar->allows(second))
            put_back = k.options.calendar->next_allowed(second);
        if (!stop.stop_requested() && !put_back && k.reports_runs)
            out.events.add({.kind = event_kind::started,
                            .nominal = job.slot,
                            .at = now.wall,
                            .attempt = job.attempt,
                            .fence = job.lease.fence,
                            .lateness = std::chrono::duration_cast<milliseconds>(now.wall - job.run_at)},
                           job.kind, {}, job.key);
    }
    deliver(out);
    if (put_back) return put_back_one_off(id, job, now, *put_back);
    std::string failure;
    if (stop.stop_requested()) {
        failure = "stopped before it started";
    } else {
        try {
            handler({job.kind, job.key, job.payload, job.slot, now.wall, job.attempt, job.lease.fence, stop});
        } catch (...) {
            failure = detail::failure_text(std::current_exception());
            if (failure.empty()) failure = "an exception with an empty what()";
        }
    }
    settle_one_off(id, std::move(failure));
}

// A job taken outside its kind's calendar goes back, due at the calendar's next opening.
inline void scheduler::put_back_one_off(std::uint32_t id, const taken_job& job, const moment& now,
                                        std::optional<std::chrono::sys_seconds> next) {
    auto moved = claims_.retry_job(job, next ? instant{*next} : now.wall + std::chrono::hours{24}, job.attempt);
    after_unlock out;
    {
        std::lock_guard hold{mutex_};
        out.events.add({.kind = event_kind::skipped,
                        .reason = skip_reason::outside_calendar,
                        .nominal = job.slot,
                        .at = now.wall,
                        .attempt = job.attempt},
                       job.kind,
                       !moved ? "outside the calendar; putting it back failed: " + moved.error().message() +
                                    " (taken again once its lease runs out)"
                       : next ? "outside the calendar: due again at " + rfc3339(*next)
                              : "outside the calendar, which allows nothing soon: looked at again in 24 h",
                       job.key);
        --one_offs_[one_offs_.find_run(id)->kind].status.started;  // put back, not run
        one_offs_.end(id);
    }
    one_off_ended(out);
}

// After a one-off run left the table: its events, a wakeup (room for more), the count.
inline void scheduler::one_off_ended(after_unlock& out) {
    out.wake = true;
    deliver(out);
    count_out();
}

// Finishes, retries or releases the job at the backend, and ends the run here. A finish
// on a backend that finishes in batches goes with the others that end meanwhile
// (detail::finish_queue), and the run ends on whichever thread sends the batch.
inline void scheduler::settle_one_off(std::uint32_t id, std::string failure) {
    taken_job job;
    one_off_options options;
    bool lost = false, stopping = false;
    steady_instant started{};
    {
        std::lock_guard hold{mutex_};
        auto& run = *one_offs_.find_run(id);
        job = std::move(run.job);
        options = one_offs_[run.kind].options;
        lost = run.lease_lost;
        started = run.steady_started;
        stopping = !dispatching_;
    }
    const auto ended = read_clocks();
    if (lost && failure.empty()) failure = "lease lost";
    event e{.nominal = job.slot, .at = ended.wall, .attempt = job.attempt, .fence = job.lease.fence};
    result<bool, backend_error> settled = false;
    bool finishing = false;  // the call to make is finish_job
    if (failure.empty()) {
        e.kind = event_kind::succeeded;
        finishing = true;
    } else if (stopping && !lost) {
        // Shut down before or while it ran: back to pending as it was, for any replica.
        e.kind = event_kind::failed;
        failure += " (released at shutdown: it runs again)";
        settled = claims_.release_job(job);
    } else if (!lost && job.attempt < options.retry.max_attempts) {
        e.kind = event_kind::retrying;
        e.duration = detail::retry_delay(options.retry, job.kind + "/" + job.key, job.slot, job.attempt);
        settled = claims_.retry_job(job, ended.wall + e.duration, job.attempt + 1);
    } else {
        e.kind = event_kind::failed;
        finishing = !lost;
    }
    if (e.kind != event_kind::retrying) e.duration = std::chrono::duration_cast<milliseconds>(ended.steady - started);
    if (finishing && claims_.finishes_in_batch()) {
        struct ending {
            std::uint32_t id;
            taken_job job;
            event e;
            std::string failure;
            job_finish item{};
        };
        auto end = std::make_shared<ending>(ending{id, std::move(job), e, std::move(failure)});
        end->item = {.job = &end->job, .keep = options.keep_done};
        claims_.finish_in_batch(end->item, [this, end](result<bool, backend_error> answer) {
            one_off_settled(end->id, end->job, end->e, std::move(end->failure), false, std::move(answer));
        });
        return;  // the answer ends the run, perhaps already: the scheduler may be gone
    }
    if (finishing) settled = claims_.finish_job(job, options.keep_done);
    one_off_settled(id, job, e, std::move(failure), lost, std::move(settled));
}

// What the backend said to a one-off's end: its event and counts, and the run leaves.
inline void scheduler::one_off_settled(std::uint32_t id, const taken_job& job, event e, std::string failure, bool lost,
                                       result<bool, backend_error> settled) {
    if (!settled) {
        failure += (failure.empty() ? "" : "; ") + std::string("the backend did not record the end: ") +
                   settled.error().message() + " (it runs again once its lease runs out)";
    } else if (!*settled && !lost) {
        failure += (failure.empty() ? "" : "; ") +
                   std::string("the job was cancelled, or taken by another replica after this lease ran out");
        lost = true;
    }
    if (lost && e.kind == event_kind::succeeded) e.kind = event_kind::failed;
    after_unlock out;
    {
        std::lock_guard hold{mutex_};
        auto& k = one_offs_[one_offs_.find_run(id)->kind];
        auto& counts = k.status;
        if (lost) ++counts.lost;
        if (e.kind == event_kind::succeeded) ++counts.succeeded;
        if (e.kind == event_kind::failed) ++counts.failed;
        if (e.kind == event_kind::retrying) ++counts.retried;
        if (e.kind != event_kind::succeeded || k.reports_runs) out.events.add(e, job.kind, std::move(failure), job.key);
        one_offs_.end(id);
    }
    one_off_ended(out);
}

// ---- retries kept in the backend ---------------------------------------------------------
// A failed attempt of a slot in an exactly_once mode, with attempts left, is stored as a
// one-off of kind stored_retry_kind, keyed "<run key>#<next attempt>", due when the back-off
// ends: any replica that has the job runs it then, also after this one is gone. Its
// attempt runs inside the one-off's run, so the one-off is finished only once the attempt
// has ended (and stored the next one, if it failed too).

inline bool scheduler::store_retry(const detail::launch& l, const moment& ended) {
    const auto delay = detail::retry_delay(l.options->retry, l.name, l.slot, l.attempt);
    const auto key = run_key(l.name, l.slot) + "#" + std::to_string(l.attempt + 1);
    auto stored = claims_.create_job({stored_retry_kind, key, l.slot, ended.wall + delay, {}});
    if (stored && *stored != create_status::done) {
        std::lock_guard hold{mutex_};
        (void)one_offs_.created(stored_retry_kind, ended.wall + delay);
        return true;
    }
    return false;  // retried here, from memory, as without a backend that keeps jobs
}

inline void scheduler::handle_stored_retries() {
    {
        std::lock_guard hold{mutex_};
        if (one_offs_.find(stored_retry_kind)) return;
    }
    // A retry of a job no replica here has is looked at again every minute, for a day.
    (void)on(
        std::string(stored_retry_kind), [this](const one_off_context& c) { run_stored_retry(c); },
        {.retry = {
             .max_attempts = 24 * 60, .initial_delay = std::chrono::minutes{1}, .multiplier = 1.0, .jitter = 0.0}});
    // Its start and success are the job's, which the attempt reports itself.
    std::lock_guard hold{mutex_};
    if (const auto k = one_offs_.find(stored_retry_kind)) one_offs_[*k].reports_runs = false;
}

inline void scheduler::run_stored_retry(const one_off_context& c) {
    const auto hash = c.key.rfind('#');
    std::uint32_t attempt = 0;
    const auto digits = c.key.substr(hash == std::string_view::npos ? c.key.size() : hash + 1);
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), attempt);
    const auto slot_key = c.key.substr(0, hash);
    if (hash == std::string_view::npos || error != std::errc{} || end != digits.data() + digits.size() || attempt < 2 ||
        slot_key.size() <= run_key_suffix_bytes)
        throw std::invalid_argument("a stored retry whose key sked did not write: " + std::string(c.key));
    const auto job = slot_key.substr(0, slot_key.size() - run_key_suffix_bytes);
    after_unlock out;
    {
        std::lock_guard hold{mutex_};
        const auto j = jobs_.find(job);
        if (j == detail::job_table::none)
            throw std::runtime_error("job '" + std::string(job) + "' is not registered on this replica");
        if (!dispatching_) throw std::runtime_error("the scheduler is stopping");
        if (dispatch_.start_stored_retry(j, c.slot, attempt, read_clocks(), out))
            out.launches.back().stored_retry = c.fence;
    }
    deliver(out);
    for (auto& l : out.launches)
        execute(std::move(l));  // here, so the one-off ends when the attempt has
}

}  // namespace sked

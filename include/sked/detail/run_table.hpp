// sked/detail/run_table.hpp — the runs in flight on this replica, and the attempts that
// wait to start (retries, claims to try again, run_now, rechecks of a held slot).
//
// A run's id stays valid in the due queue after the run ended (its timeout and renewal
// entries find nothing), because ids carry a generation (slot_table). The table takes
// no lock; the scheduler calls it under its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../clock.hpp"
#include "../job.hpp"
#include "claim_protocol.hpp"
#include "slot_table.hpp"

namespace sked::detail {

/// A run in flight.
struct run_state {
    // User-provided, so that making one (slot_table::emplace value-initialises it) sets
    // each member once instead of zeroing the whole state first.
    run_state() noexcept {}  // NOLINT(modernize-use-equals-default)

    std::uint32_t job = 0;
    std::uint16_t generation = 0;  ///< the job's, when the run began
    std::chrono::sys_seconds slot{};
    std::uint32_t attempt = 1;
    instant planned{}, started{};  // on the wall clock: when
    steady_instant steady_started{};  // on the steady clock: how long
    std::stop_source stop{};
    run_leases leases;  // no braces: value-initialising it would zero 176 bytes per run
    bool timed_out = false, lease_lost = false;
    bool claiming_again = false;  ///< a recheck or claim retry whose claim is not answered yet
};

/// Launches left out of their round's claim batch (scheduler_options::executor_threads):
/// the first of them a thread takes claims the keys of all, in one round trip, and each
/// takes its own answer. A group holds about as many as the executor starts at once.
struct claim_group {
    std::mutex mutex;
    std::chrono::milliseconds ttl{};
    std::vector<std::string> keys;
    std::optional<result<std::vector<grant>, backend_error>> answers{};  // once claimed
    steady_instant claimed_at{};
};

/// A run to start once the scheduler's lock is released: what it needs, copied out.
struct launch {
    std::uint32_t run;
    std::string name;
    job_function fn;
    const job_options* options;  // the job table keeps every option set for its life
    std::chrono::sys_seconds slot;
    std::uint32_t attempt;
    std::stop_token stop;
    bool recheck = false;  // a recheck's run: "held elsewhere" and "already done" are not news
    bool confirm = false;  // only looks: a job lease that looked alive still is, or has ended; never runs
    bool lock_wait = false;  // waited for the job's lease: nothing about the slot was reported yet
    std::uint16_t claim_tries = 0;  // claims of this slot that failed at the backend before this one
    fence_token stored_retry = 0;  // a retry stored in the backend: its one-off's token (no run key claimed)
    std::optional<instant> started{};  // set when the start was already reported
    // The run key, claimed with those of slots due together (scheduler::claim_together),
    // at `claimed_at` on the steady clock; empty: the run claims its own.
    std::optional<result<grant, backend_error>> key_claimed{};
    steady_instant claimed_at{};
    bool claims_later = false;  // not in its round's batch: its replica would start it late
    std::shared_ptr<claim_group> group{};  // claimed with these, when a thread takes the first
    std::uint32_t in_group = 0;  // its key's index in the group

    /// Keeps item `i` of a batch's answer (or the batch's error) as this launch's claim.
    void take_answer(result<std::vector<grant>, backend_error>& answers, std::size_t i, steady_instant sent) {
        claimed_at = sent;
        key_claimed = answers ? result<grant, backend_error>{std::move((*answers)[i])}
                              : result<grant, backend_error>{answers.error()};
    }
};

/// An attempt at one slot that starts later than the slot's own fire.
struct deferred_attempt {
    enum class kind : std::uint8_t {
        retry,  ///< the previous attempt failed
        claim_retry,  ///< the claim failed at the backend
        manual,  ///< run_now()
        recheck,  ///< another replica held the run key; if it died, its lease has run out by now
        lock_recheck,  ///< the serial modes: the job's lease was held, by a dead holder or (queue_one) a live one
        lock_confirm,  ///< the serial modes: the job's lease looked alive; is it still renewed?
    };
    std::uint32_t job;
    std::uint16_t generation;
    kind why;
    std::int64_t slot;
    std::uint32_t attempt;
    std::uint16_t claim_tries;  ///< claim_retry: how many claims of the slot failed so far
};

/// A run's end the backend did not take (it was unreachable or timed out), tried again
/// while the run key's lease lasts: a completion lost to a failover or a restart would
/// let the lease run out, and another replica would run the slot again.
struct unsettled_run {
    std::uint32_t job;
    std::uint16_t generation;
    std::string name;
    lease key;
    std::chrono::sys_seconds slot;
    std::uint32_t attempt;
    const job_options* options;  // the job table keeps every option set for its life
    bool succeeded;  // complete the key (else release it)
    bool record;  // move the job's record of handled slots
    std::uint16_t tries;  // settles of it that failed so far
};

class run_table {
public:
    /// A new run: its id, and its state to fill in.
    std::pair<std::uint32_t, run_state&> begin() { return runs_.emplace(); }
    run_state* find(std::uint32_t run) { return runs_.find(run); }
    void end(std::uint32_t run) { runs_.erase(run); }

    /// Requests stop on the runs of `job` (overlap::cancel_running).
    void stop_runs_of(std::uint32_t job) {
        runs_.for_each([job](run_state& run) {
            if (run.job == job) run.stop.request_stop();
        });
    }
    /// Requests stop on every run; returns how many there are.
    std::size_t stop_all() {
        runs_.for_each([](run_state& run) { run.stop.request_stop(); });
        return runs_.size();
    }
    template <class Visit>
    void for_each(Visit&& visit) const {
        runs_.for_each(visit);
    }

    /// Keeps `attempt` until take_deferred(id); returns the id for the due queue.
    std::uint32_t defer(const deferred_attempt& attempt) {
        const auto id = next_deferred_++;
        deferred_.emplace(id, attempt);
        return id;
    }
    std::optional<deferred_attempt> take_deferred(std::uint32_t id) {
        const auto found = deferred_.find(id);
        if (found == deferred_.end()) return std::nullopt;
        const auto attempt = found->second;
        deferred_.erase(found);
        return attempt;
    }

    /// Keeps `end` until take_unsettled(id); returns the id for the due queue.
    std::uint32_t park(unsettled_run end) {
        const auto id = next_deferred_++;
        unsettled_.emplace(id, std::move(end));
        return id;
    }
    std::optional<unsettled_run> take_unsettled(std::uint32_t id) {
        const auto found = unsettled_.find(id);
        if (found == unsettled_.end()) return std::nullopt;
        auto end = std::move(found->second);
        unsettled_.erase(found);
        return end;
    }

    /// Launches handed to the executor whose execute() has not returned yet.
    void count_launch() noexcept { ++in_flight_; }
    /// True when this was the last one.
    bool count_return() noexcept { return --in_flight_ == 0; }
    [[nodiscard]] bool idle() const noexcept { return in_flight_ == 0; }
    /// Runs launched and not yet over: queued at the executor, claiming, or running.
    [[nodiscard]] std::size_t in_flight() const noexcept { return in_flight_; }

private:
    slot_table<run_state> runs_;
    std::unordered_map<std::uint32_t, deferred_attempt> deferred_;
    std::unordered_map<std::uint32_t, unsettled_run> unsettled_;
    std::uint32_t next_deferred_ = 0;
    std::size_t in_flight_ = 0;
};

}  // namespace sked::detail

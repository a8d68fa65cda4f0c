// sked/detail/dispatcher.hpp — every change the engine makes to its tables, in one place:
// when an entry of the due queue comes due (a slot fires: paused? missed? outside the
// calendar? the job still running? then a run starts; a deferred attempt starts; a run
// passes its timeout; a renewal is due), and at each step of a run (its claim refused,
// its start, its return, its end, its renewal).
//
// It holds no state of its own: it reads and changes the job table, the due queue and
// the run table the scheduler owns, asks slot_policy for every decision, and leaves what
// must happen after the lock (runs to launch, renewals, events, a wakeup) in an
// after_unlock. The scheduler calls it under its lock, in the order of events.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../clock.hpp"
#include "../event.hpp"
#include "backend_health.hpp"
#include "claim_protocol.hpp"
#include "due_queue.hpp"
#include "event_batch.hpp"
#include "job_table.hpp"
#include "run_table.hpp"
#include "slot_policy.hpp"

namespace sked::detail {

/// Now, on both clocks: the wall clock says when (slots, the time of an event), the
/// steady clock how long (timeouts, renewals, deferred attempts, durations).
struct moment {
    instant wall;
    steady_instant steady;
};

/// What a locked section leaves for after the lock, done in this order: renewals,
/// events to the hooks, a wakeup of the driver, runs to launch.
struct after_unlock {
    std::vector<launch> launches;
    std::vector<std::uint32_t> renewals;  ///< run ids
    std::vector<unsettled_run> settles;  ///< run ends to send to the backend again
    event_batch events;
    bool wake = false;  ///< next_wakeup() may have moved earlier

    [[nodiscard]] bool empty() const noexcept {
        return launches.empty() && renewals.empty() && settles.empty() && events.empty() && !wake;
    }
};

/// How a run ended, read from its state when the job returned.
struct run_end {
    run_leases leases;
    std::chrono::milliseconds duration{0};  ///< on the steady clock
    bool timed_out = false, lease_lost = false;
};

/// An end to send again: complete the run key (else release it), move the slot record.
struct settle_retry {
    bool completed = false;
    bool record = false;
};

/// What the run came to, once it returned and its leases were settled.
struct run_outcome {
    bool ok = false;  ///< returned, in time, with its leases
    bool final_attempt = false;  ///< ok, or no attempt left
    std::string failure{};  ///< why it failed
    std::vector<std::string> backend_failures{};  ///< what settling at the backend could not do
    std::optional<std::string> lost{};  ///< settling found the lease lost: why (the run is not ok)
    bool retry_stored = false;  ///< the next attempt is a one-off in the backend, for any replica
    bool abandoned = false;  ///< job_context::abandon: the run key is left to its lease
    std::optional<settle_retry> settle_again{};  ///< the backend did not take the end: sent again later
};

class dispatcher {
public:
    using job_id = job_table::id;
    using sys_seconds = std::chrono::sys_seconds;
    using milliseconds = std::chrono::milliseconds;

    /// `inline_runs`: there is no executor (a run starting at once is reported at once);
    /// `hooked`: events are queued for hooks (else only counted).
    /// `fires`: the slots, due on the wall clock; `timers`: everything else (deferred
    /// attempts, renewals, timeouts), due on the steady clock. `inline_runs`: there is no
    /// executor (a run starting at once is reported at once); `hooked`: events are
    /// queued for hooks (else only counted).
    dispatcher(job_table& jobs, due_queue& fires, due_queue& timers, run_table& runs, const claim_protocol& claims,
               backend_health& health, bool inline_runs, bool hooked)
        : jobs_(jobs),
          fires_(fires),
          timers_(timers),
          runs_(runs),
          claims_(claims),
          health_(health),
          inline_runs_(inline_runs),
          hooked_(hooked) {}

    void handle(const due_entry& entry, const moment& now, after_unlock& out);

    /// Queues the first slot of a job just registered or rescheduled.
    void start_schedule(job_id j, instant now, after_unlock& out);
    /// A retry stored in the backend came due here: attempt `attempt` of the slot starts
    /// now, as a local retry would (false when the job may not start, which is reported).
    bool start_stored_retry(job_id j, sys_seconds slot, std::uint32_t attempt, const moment& now, after_unlock& out);
    /// Claims again, now, the slots of a job that a dead holder abandoned.
    void recover(job_id j, const std::vector<sys_seconds>& abandoned, steady_instant now, after_unlock& out);
    /// A slot's fire entry, due on the wall clock; one that becomes the earliest sets out.wake.
    void push_fire(job_id j, sys_seconds slot, instant due, after_unlock& out);
    /// A timer entry, due on the steady clock; one that becomes the earliest sets out.wake.
    void push_timer(steady_instant due, std::uint32_t target, due_kind kind, after_unlock& out);
    /// Sends a run's end to the backend again after claim_retry_delay.
    void settle_later(unsettled_run&& end, steady_instant now, after_unlock& out);
    void defer(const deferred_attempt& attempt, steady_instant due, after_unlock& out);
    void skip(job_id j, sys_seconds slot, skip_reason why, instant now, after_unlock& out, std::string&& detail = {});
    /// Counts the event in the job's stats and queues it for the hooks.
    void raise(job_record& job, const event& e, after_unlock& out, std::string&& message = {});
    /// An operator's switch changed (`what`: "job paused", "stagger off"); `job` is empty
    /// for a switch of every job.
    void switched(std::string_view job, std::string_view what, instant now, after_unlock& out);
    /// The start rule of the jobs in `changed` changed (a stagger switch): each pending
    /// slot is planned again, to start at once if its new start has passed. A slot
    /// already running or queued is not moved.
    void replan(std::vector<job_id> changed, instant now, after_unlock& out);

    // ---- the steps of a run (the scheduler makes the backend calls between them) -------
    /// The claim was refused: the run ends here; a slot held by another replica is looked
    /// at again after that holder's lease, one refused by a backend error soon.
    void claim_refused(const launch& l, claim_answer&& answer, const moment& now, after_unlock& out);
    /// The run holds its leases and starts: renewals begin, the start is reported.
    void run_started(const launch& l, const run_leases& leases, const moment& started, after_unlock& out);
    /// The job returned at `ended`: how the run ended (a timeout noticed only now, inline
    /// on a virtual clock the run moved past it, is reported here).
    run_end run_returned(const launch& l, const moment& ended, after_unlock& out);
    /// The run is over: its outcome, its backend errors, a retry, or the slot that waited.
    void run_ended(const launch& l, const moment& ended, const run_end& end, run_outcome&& outcome, after_unlock& out);
    /// A run's end sent again (scheduler::resettle): again later while the lease lasts,
    /// or what it came to.
    void resettled(unsettled_run&& end, claim_protocol::settled&& answer, const moment& now, after_unlock& out);
    /// A renewal was made: the next is due, or the lost lease stops the run.
    void renewed(std::uint32_t id, const run_leases& leases, std::optional<std::string> lost, const moment& now,
                 after_unlock& out);

private:
    void handle_fire(job_id j, instant due, const moment& now, after_unlock& out);
    void handle_deferred(std::uint32_t id, const moment& now, after_unlock& out);
    void handle_timeout(std::uint32_t run, const moment& now, after_unlock& out);
    void schedule_after(job_id j, sys_seconds slot, after_unlock& out);
    /// The overlap policy, for a slot of a job that may be running here: true to start.
    bool may_start(job_id j, sys_seconds slot, bool catching_up, instant now, after_unlock& out);
    void start_run(job_id j, sys_seconds slot, std::uint32_t attempt, instant planned, const moment& now,
                   after_unlock& out);
    /// The serial modes: another replica holds the job's lease. A live holder's run is the
    /// overlap (skipped, or waited for under queue_one); a dead one's is looked at again.
    void job_lease_held(job_id j, const launch& l, const claim_answer& answer, const moment& now, after_unlock& out);
    /// The job neither runs nor waits for its lease here: a slot queued behind it goes.
    void resume_queued(job_id j, instant now, after_unlock& out);
    /// A recheck's or claim retry's claim was answered: from now on it counts as a run.
    void claim_answered(run_state& run);
    /// The backend answered a run's call: an outage, if one was going on, has ended.
    void backend_answered(job_record& job, sys_seconds slot, const moment& now, after_unlock& out);

    job_table& jobs_;
    due_queue& fires_;
    due_queue& timers_;
    run_table& runs_;
    const claim_protocol& claims_;
    backend_health& health_;
    bool inline_runs_, hooked_;
};

// =======================================================================================
// Implementation
// =======================================================================================

inline void dispatcher::handle(const due_entry& entry, const moment& now, after_unlock& out) {
    switch (entry.kind) {
        case due_kind::fire: {
            const auto& job = jobs_[entry.target];
            if (!job.has(job_record::live) || job.generation != entry.generation) return;  // stale
            return handle_fire(entry.target, instant{milliseconds{entry.due_ms}}, now, out);
        }
        case due_kind::deferred:
            return handle_deferred(entry.target, now, out);
        case due_kind::timeout:
            return handle_timeout(entry.target, now, out);
        case due_kind::renew:
            if (runs_.find(entry.target) != nullptr) out.renewals.push_back(entry.target);
            return;
        case due_kind::settle:
            if (auto end = runs_.take_unsettled(entry.target)) out.settles.push_back(std::move(*end));
            return;
    }
}

inline void dispatcher::start_schedule(job_id j, instant now, after_unlock& out) {
    auto& job = jobs_[j];
    job.next_slot = no_slot;
    const auto s = jobs_.schedule_of(job);
    const auto rule = jobs_.start_rule_of(job);
    const auto recorded = slot_or_none(job.last_handled);
    auto first = first_slot(*s, recorded, now);
    if (!first) return;
    if (!recorded && boot_slot_too_late(*s, rule, *first, now)) first = s->next(*first);
    if (!first) return;
    // A boot slot started late counts its lateness from registration: the time before
    // the job existed is not the scheduler's lateness.
    const instant planned = rule.planned_start(*s, *first);
    const bool boot_slot = !recorded && s->type() != schedule::kind::once;
    push_fire(j, *first, boot_slot ? std::max(planned, now) : planned, out);
}

inline void dispatcher::recover(job_id j, const std::vector<sys_seconds>& abandoned, steady_instant now,
                                after_unlock& out) {
    for (auto slot : abandoned)
        defer({j, jobs_[j].generation, deferred_attempt::kind::recheck, slot_value(slot), 1, 0}, now, out);
}

inline void dispatcher::push_fire(job_id j, sys_seconds slot, instant due, after_unlock& out) {
    auto& job = jobs_[j];
    job.next_slot = slot_value(slot);
    const auto due_ms = due.time_since_epoch().count();
    if (fires_.empty() || due_ms < fires_.top().due_ms) out.wake = true;
    fires_.push({due_ms, j, job.generation, due_kind::fire});
}

inline void dispatcher::push_timer(steady_instant due, std::uint32_t target, due_kind kind, after_unlock& out) {
    const auto due_ms = std::chrono::duration_cast<milliseconds>(due.time_since_epoch()).count();
    if (timers_.empty() || due_ms < timers_.top().due_ms) out.wake = true;
    timers_.push({due_ms, target, 0, kind});
}

inline void dispatcher::schedule_after(job_id j, sys_seconds slot, after_unlock& out) {
    auto& job = jobs_[j];
    job.next_slot = no_slot;
    const auto s = jobs_.schedule_of(job);
    if (const auto next = s->next(slot)) push_fire(j, *next, jobs_.start_rule_of(job).planned_start(*s, *next), out);
}

inline void dispatcher::handle_fire(job_id j, instant due, const moment& at, after_unlock& out) {
    const instant now = at.wall;
    auto& job = jobs_[j];
    const auto& opt = jobs_.options_of(job);
    auto slot = as_slot(job.next_slot);
    job.next_slot = no_slot;
    if (job.has(job_record::paused)) {
        skip(j, slot, skip_reason::paused, now, out);
        return schedule_after(j, slot, out);
    }
    const auto s = jobs_.schedule_of(job);
    bool catching_up = false;
    if (now - due > opt.grace) {
        auto missed = decide_misfire(*s, jobs_.start_rule_of(job), opt, slot, now);
        if (missed.missed) skip(j, slot, skip_reason::misfire, now, out, *std::move(missed.missed));
        slot = missed.slot;
        due = missed.due;
        catching_up = missed.catching_up;
        if (missed.too_late) {
            skip(j, slot, skip_reason::misfire, now, out, *std::move(missed.too_late));
            return schedule_after(j, slot, out);
        }
    }
    const auto allowed = decide_calendar(opt.calendar, s->type(), due);
    if (allowed.what == calendar_decision::action::move) return push_fire(j, slot, allowed.moved_to, out);
    if (allowed.what == calendar_decision::action::skip) {
        skip(j, slot, skip_reason::outside_calendar, now, out);
        return schedule_after(j, slot, out);
    }
    if (may_start(j, slot, catching_up, now, out)) start_run(j, slot, 1, due, at, out);
    if (!job.has(job_record::waiting)) schedule_after(j, slot, out);
}

inline bool dispatcher::may_start(job_id j, sys_seconds slot, bool catching_up, instant now, after_unlock& out) {
    const auto& job = jobs_[j];
    // A recheck or claim retry still claiming is no run of the job here: it claims a slot
    // the policy decided before, and it usually finds it done. Counted, a recheck due
    // as a later slot fires (a lost slot + lease_ttl + 1 s) made that slot an overlap.
    const auto running = static_cast<unsigned>(job.running - job.claiming_again);
    if (running == 0 && job.lease_waits == 0) return true;  // the common case, decided without the policy
    const auto policy = jobs_.options_of(job).on_overlap;
    // For queue_one and a catch-up, a slot here waiting for the job's lease is the job's
    // run, wherever it is: later slots wait behind it, in order, as behind a run here.
    const bool behind_lease_waits = policy == overlap::queue_one || catching_up;
    const auto busy = running + (behind_lease_waits ? job.lease_waits : 0U);
    switch (decide_overlap(busy, policy, catching_up, job.has(job_record::waiting))) {
        case overlap_action::start:
            return true;
        case overlap_action::cancel_then_start:
            runs_.stop_runs_of(j);
            return true;
        case overlap_action::queue:
            jobs_.queue_slot(j, slot);  // no further slot is scheduled until the run ends
            return false;
        case overlap_action::skip:
            skip(j, slot, skip_reason::overlap, now, out);
            return false;
    }
    return false;
}

inline void dispatcher::start_run(job_id j, sys_seconds slot, std::uint32_t attempt, instant planned, const moment& now,
                                  after_unlock& out) {
    auto& job = jobs_[j];
    auto [id, run] = runs_.begin();  // field by field: the state's stop_source is already made
    run.job = j;
    run.generation = job.generation;
    run.slot = slot;
    run.attempt = attempt;
    run.planned = planned;
    run.started = now.wall;
    run.steady_started = now.steady;
    ++job.running;
    runs_.count_launch();
    const job_options* options = &jobs_.options_of(job);
    if (options->timeout > milliseconds{0}) push_timer(now.steady + options->timeout, id, due_kind::timeout, out);
    out.launches.push_back({id, job.name, job.run, options, slot, attempt, run.stop.get_token()});
    if (inline_runs_ && !claims_.claims(options->mode)) {
        // Inline with nothing to claim, the run starts now: report it in this round
        // rather than take the lock again for it.
        out.launches.back().started = now.wall;
        raise(job,
              {.kind = event_kind::started,
               .nominal = slot,
               .at = now.wall,
               .attempt = attempt,
               .lateness = std::chrono::duration_cast<milliseconds>(now.wall - planned)},
              out);
    }
}

inline bool dispatcher::start_stored_retry(job_id j, sys_seconds slot, std::uint32_t attempt, const moment& now,
                                           after_unlock& out) {
    if (!may_start(j, slot, false, now.wall, out)) return false;
    start_run(j, slot, attempt, now.wall, now, out);
    return true;
}

inline void dispatcher::handle_deferred(std::uint32_t id, const moment& now, after_unlock& out) {
    const auto attempt = runs_.take_deferred(id);
    if (!attempt) return;
    auto& job = jobs_[attempt->job];
    if (!job.has(job_record::live) || job.generation != attempt->generation) return;
    using kind = deferred_attempt::kind;
    if (attempt->why == kind::lock_recheck) --job.lease_waits;
    const auto slot = as_slot(attempt->slot);
    // A recheck or a claim retry claims the same slot again: it is not a new run that
    // competes with the job's next slot, and the overlap policy decided this slot when
    // it first came due. A claim retry ends when the slot's time is up.
    const bool same_claim_again = attempt->why != kind::retry && attempt->why != kind::manual;
    instant planned = now.wall;
    if (same_claim_again) {
        const auto s = jobs_.schedule_of(job);
        const auto rule = jobs_.start_rule_of(job);
        // A slot another replica holds the run key of is that replica's: recovered
        // whenever its lease runs out. One that waited for the job's lease, or for the
        // backend, has met its misfire policy meanwhile.
        if (attempt->why == kind::claim_retry || attempt->why == kind::lock_recheck) {
            if (auto why = claim_given_up(*s, rule, jobs_.options_of(job), slot, now.wall)) {
                const char* cause = attempt->why == kind::claim_retry ? "the backend was unavailable, and "
                                                                      : "the job's lease was held, and ";
                skip(attempt->job, slot, skip_reason::misfire, now.wall, out, cause + *std::move(why));
                return resume_queued(attempt->job, now.wall, out);
            }
        }
        planned = rule.planned_start(*s, slot);
    } else if (!may_start(attempt->job, slot, false, now.wall, out)) {
        return;
    }
    start_run(attempt->job, slot, attempt->attempt, planned, now, out);
    if (same_claim_again) {
        runs_.find(out.launches.back().run)->claiming_again = true;
        ++job.claiming_again;
    }
    out.launches.back().recheck = same_claim_again && attempt->why != kind::claim_retry;
    out.launches.back().confirm = attempt->why == kind::lock_confirm;
    out.launches.back().lock_wait = attempt->why == kind::lock_recheck;
    out.launches.back().claim_tries = attempt->claim_tries;
}

inline void dispatcher::handle_timeout(std::uint32_t id, const moment& now, after_unlock& out) {
    auto* run = runs_.find(id);
    if (run == nullptr || run->timed_out) return;
    run->timed_out = true;
    run->stop.request_stop();
    raise(jobs_[run->job],
          {.kind = event_kind::timed_out,
           .nominal = run->slot,
           .at = now.wall,
           .attempt = run->attempt,
           .duration = std::chrono::duration_cast<milliseconds>(now.steady - run->steady_started)},
          out);
}

inline void dispatcher::settle_later(unsettled_run&& end, steady_instant now, after_unlock& out) {
    const auto due = now + claims_.claim_retry_delay(end.options->lease_ttl, end.tries - 1U);
    push_timer(due, runs_.park(std::move(end)), due_kind::settle, out);
}

inline void dispatcher::resettled(unsettled_run&& end, claim_protocol::settled&& answer, const moment& now,
                                  after_unlock& out) {
    ++end.tries;
    if (answer.settle_again) return settle_later(std::move(end), now.steady, out);
    auto& job = jobs_[end.job];
    if (!job.has(job_record::live) || job.generation != end.generation) return;
    const event base{.nominal = end.slot, .at = now.wall, .attempt = end.attempt};
    if (answer.lost) {
        auto lost = base;
        lost.kind = event_kind::lease_lost;
        raise(job, lost, out, *std::move(answer.lost));
    }
    for (auto& what : answer.failures) {
        auto backend_error = base;
        backend_error.kind = event_kind::backend_error;
        raise(job, backend_error, out, "after " + std::to_string(end.tries) + " tries, " + std::move(what));
    }
}

inline void dispatcher::defer(const deferred_attempt& attempt, steady_instant due, after_unlock& out) {
    push_timer(due, runs_.defer(attempt), due_kind::deferred, out);
}

inline void dispatcher::skip(job_id j, sys_seconds slot, skip_reason why, instant now, after_unlock& out,
                             std::string&& detail) {
    auto& job = jobs_[j];
    // A slot held elsewhere or unclaimable may still run here: it is not handled yet.
    if (why != skip_reason::backend_unavailable && why != skip_reason::held_elsewhere)
        job.last_handled = std::max(job.last_handled, slot_value(slot));
    raise(job, {.kind = event_kind::skipped, .reason = why, .nominal = slot, .at = now}, out, std::move(detail));
}

inline void dispatcher::raise(job_record& job, const event& e, after_unlock& out, std::string&& message) {
    job.stats_or_new().record(e);
    if (hooked_) out.events.add(e, job.name, std::move(message));
}

inline void dispatcher::switched(std::string_view job, std::string_view what, instant now, after_unlock& out) {
    if (hooked_) out.events.add({.kind = event_kind::switched, .at = now}, std::string(job), std::string(what));
}

inline void dispatcher::replan(std::vector<job_id> changed, instant now, after_unlock& out) {
    std::sort(changed.begin(), changed.end());
    fires_.erase_if([&](const due_entry& e) { return std::binary_search(changed.begin(), changed.end(), e.target); });
    for (const auto j : changed) {
        const auto& job = jobs_[j];
        const auto slot = slot_or_none(job.next_slot);
        if (!job.has(job_record::live) || !slot) continue;
        const auto s = jobs_.schedule_of(job);
        push_fire(j, *slot, std::max(jobs_.start_rule_of(job).planned_start(*s, *slot), now), out);
    }
}

// ---- the steps of a run ----------------------------------------------------------------

inline void dispatcher::claim_answered(run_state& run) {
    if (std::exchange(run.claiming_again, false)) --jobs_[run.job].claiming_again;
}

inline void dispatcher::claim_refused(const launch& l, claim_answer&& answer, const moment& now, after_unlock& out) {
    auto& run = *runs_.find(l.run);
    const auto j = run.job;
    claim_answered(run);
    runs_.end(l.run);
    auto& job = jobs_[j];
    --job.running;
    const bool unavailable = answer.why == skip_reason::backend_unavailable;
    if (unavailable) {
        // Counted each time; told to the hooks once per outage.
        const bool outage_begins = health_.failed(now.steady);
        job.stats_or_new().record(
            {.kind = event_kind::skipped, .reason = answer.why, .nominal = l.slot, .at = now.wall});
        if (outage_begins && hooked_)
            out.events.add({.kind = event_kind::backend_error, .nominal = l.slot, .at = now.wall}, job.name,
                           "backend unavailable: " + answer.detail +
                               "; claims are retried until each slot's grace ends, and further failures are "
                               "counted, not logged, until it answers");
    } else if (answer.lock_held) {
        backend_answered(job, l.slot, now, out);
        return job_lease_held(j, l, answer, now, out);
    } else {
        backend_answered(job, l.slot, now, out);
        // A recheck's answer is no news, but a confirmation's is the decision, and the
        // end of a wait for the job's lease is the first word on the slot.
        if (!l.recheck || l.confirm || l.lock_wait)
            skip(j, l.slot, answer.why, now.wall, out, std::move(answer.detail));
    }
    using kind = deferred_attempt::kind;
    const auto ttl = l.options->lease_ttl;
    if (answer.key_held)
        defer({j, job.generation, kind::recheck, slot_value(l.slot), l.attempt, 0},
              now.steady + claims_.recheck_delay(ttl, answer.holder_left), out);
    if (unavailable) {
        const auto tries = static_cast<std::uint16_t>(l.lock_wait ? 1 : l.claim_tries + 1);
        defer({j, job.generation, kind::claim_retry, slot_value(l.slot), l.attempt, tries},
              now.steady + claims_.claim_retry_delay(ttl, l.claim_tries), out);
    }
    resume_queued(j, now.wall, out);
    jobs_.release(j);  // removed meanwhile, and this was its last run
}

inline void dispatcher::job_lease_held(job_id j, const launch& l, const claim_answer& answer, const moment& now,
                                       after_unlock& out) {
    auto& job = jobs_[j];
    const auto ttl = l.options->lease_ttl;
    // A lock recheck's claim_tries counts the looks at the lease so far.
    const auto looks = static_cast<std::uint16_t>(l.lock_wait ? l.claim_tries + 1 : 1);
    const auto look_again = [&](std::chrono::milliseconds after) {
        ++job.lease_waits;
        defer({j, job.generation, deferred_attempt::kind::lock_recheck, slot_value(l.slot), l.attempt, looks},
              now.steady + after, out);
    };
    if (!holder_alive(answer.holder_left, ttl)) {
        // It missed a renewal: once its lease has run out, this slot runs here or meets
        // its misfire policy.
        look_again(claims_.recheck_delay(ttl, answer.holder_left));
    } else if (l.options->on_overlap == overlap::queue_one) {
        look_again(claims_.lock_wait_delay(ttl, looks));  // waits for the run, wherever it is
    } else if (!l.recheck) {
        // Alive, or it died a moment ago: look once more after it must have renewed.
        defer({j, job.generation, deferred_attempt::kind::lock_confirm, slot_value(l.slot), l.attempt, 0},
              now.steady + claims_.confirm_delay(ttl, answer.holder_left), out);
    } else {
        skip(j, l.slot, skip_reason::held_elsewhere, now.wall, out, "a run of the job is going on at another replica");
    }
    resume_queued(j, now.wall, out);
    jobs_.release(j);  // removed meanwhile, and this was its last run
}

inline void dispatcher::resume_queued(job_id j, instant now, after_unlock& out) {
    const auto& job = jobs_[j];
    if (job.running != 0 || job.lease_waits != 0) return;
    // A slot waited for the job's run (overlap::queue_one, or a catch-up): it goes now.
    if (const auto waited = jobs_.take_queued_slot(j)) push_fire(j, *waited, now, out);
}

inline void dispatcher::backend_answered(job_record& job, sys_seconds slot, const moment& now, after_unlock& out) {
    const auto outage = health_.answered(now.steady);
    if (!outage) return;
    raise(job, {.kind = event_kind::backend_recovered, .nominal = slot, .at = now.wall, .duration = outage->lasted},
          out, backend_health::describe(*outage));
}

inline void dispatcher::run_started(const launch& l, const run_leases& leases, const moment& started,
                                    after_unlock& out) {
    auto& run = *runs_.find(l.run);
    claim_answered(run);
    run.leases = leases;
    run.started = started.wall;
    run.steady_started = started.steady;
    auto& job = jobs_[run.job];
    if (leases.any()) {
        backend_answered(job, l.slot, started, out);
        push_timer(started.steady + claims_.renew_interval(l.options->lease_ttl), l.run, due_kind::renew, out);
    }
    raise(job,
          {.kind = event_kind::started,
           .nominal = l.slot,
           .at = started.wall,
           .attempt = l.attempt,
           .fence = leases.fence(),
           .lateness = std::max(milliseconds{0}, std::chrono::duration_cast<milliseconds>(started.wall - run.planned))},
          out);
}

inline run_end dispatcher::run_returned(const launch& l, const moment& ended, after_unlock& out) {
    auto& run = *runs_.find(l.run);
    const auto ran = std::chrono::duration_cast<milliseconds>(ended.steady - run.steady_started);
    run_end end{run.leases, ran, run.timed_out, run.lease_lost};
    const auto timeout = l.options->timeout;
    if (!run.timed_out && timeout > milliseconds{0} && ran > timeout) {
        run.timed_out = end.timed_out = true;
        raise(
            jobs_[run.job],
            {.kind = event_kind::timed_out, .nominal = l.slot, .at = ended.wall, .attempt = l.attempt, .duration = ran},
            out);
    }
    return end;
}

inline void dispatcher::run_ended(const launch& l, const moment& ended, const run_end& end, run_outcome&& outcome,
                                  after_unlock& out) {
    const auto& run = *runs_.find(l.run);
    const auto j = run.job;
    const bool current = jobs_[j].has(job_record::live) && jobs_[j].generation == run.generation;
    const bool loss_reported = run.lease_lost;  // a renewal may have found it since the job returned
    const auto run_generation = run.generation;
    runs_.end(l.run);
    auto& job = jobs_[j];
    --job.running;
    const event base{.nominal = l.slot, .at = ended.wall, .attempt = l.attempt};
    if (outcome.lost && !loss_reported) {
        auto lost = base;
        lost.kind = event_kind::lease_lost;
        raise(job, lost, out, std::string(*outcome.lost));
    }
    auto result = base;
    result.kind = outcome.ok ? event_kind::succeeded : event_kind::failed;
    result.fence = end.leases.fence();
    result.duration = end.duration;
    raise(job, result, out, std::move(outcome.failure));
    for (auto& what : outcome.backend_failures) {
        auto backend_error = base;
        backend_error.kind = event_kind::backend_error;
        if (outcome.settle_again) what += " (sent again while the run key's lease lasts)";
        raise(job, backend_error, out, std::move(what));
    }
    if (outcome.settle_again)
        settle_later({.job = j,
                      .generation = run_generation,
                      .name = l.name,
                      .key = *end.leases.key,
                      .slot = l.slot,
                      .attempt = l.attempt,
                      .options = l.options,
                      .succeeded = outcome.settle_again->completed,
                      .record = outcome.settle_again->record,
                      .tries = 1},
                     ended.steady, out);
    if (outcome.abandoned && current) {
        // As a replica that found the key held would: the slot is looked at again once
        // the lease (renewed at most when the run ended) has run out.
        const auto ttl = l.options->lease_ttl;
        defer({j, job.generation, deferred_attempt::kind::recheck, slot_value(l.slot), l.attempt, 0},
              ended.steady + claims_.recheck_delay(ttl), out);
    }
    if (outcome.final_attempt) {
        job.last_handled = std::max(job.last_handled, slot_value(l.slot));
    } else if (current) {
        auto retrying = base;
        retrying.kind = event_kind::retrying;
        retrying.duration = retry_delay(l.options->retry, l.name, l.slot, l.attempt);
        raise(job, retrying, out);
        if (!outcome.retry_stored)
            defer({j, job.generation, deferred_attempt::kind::retry, slot_value(l.slot), l.attempt + 1, 0},
                  ended.steady + retrying.duration, out);
    }
    if (current && job.has(job_record::waiting)) resume_queued(j, ended.wall, out);
    jobs_.release(j);  // removed while running, and this was its last run
}

inline void dispatcher::renewed(std::uint32_t id, const run_leases& leases, std::optional<std::string> lost,
                                const moment& now, after_unlock& out) {
    auto* run = runs_.find(id);
    if (run == nullptr) return;
    run->leases = leases;
    if (!lost) {
        const auto ttl = jobs_.options_of(jobs_[run->job]).lease_ttl;
        return push_timer(now.steady + claims_.renew_interval(ttl), id, due_kind::renew, out);
    }
    if (run->lease_lost) return;
    run->lease_lost = true;
    run->stop.request_stop();
    raise(jobs_[run->job],
          {.kind = event_kind::lease_lost, .nominal = run->slot, .at = now.wall, .attempt = run->attempt}, out,
          *std::move(lost));
}

}  // namespace sked::detail

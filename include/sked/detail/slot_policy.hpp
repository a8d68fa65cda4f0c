// sked/detail/slot_policy.hpp — the job policies as pure functions: which slot comes
// first, when a slot starts, what a late slot, a busy job or a calendar does with it, and
// how long a retry waits.
//
// No clock, no lock, no tables: each function takes the schedule, the options and the
// instants it decides about, and returns its decision; the scheduler applies it
// (tests/scheduler/slot_policy.test.cpp tests them directly). A one-off job is a
// schedule of kind `once` like any other; where its policy differs (it comes due even
// when past, a calendar moves it instead of skipping it) the function says so.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../calendar.hpp"
#include "../clock.hpp"
#include "../hash.hpp"
#include "../job.hpp"
#include "../rfc3339.hpp"
#include "../schedule.hpp"

namespace sked::detail {

using sys_seconds = std::chrono::sys_seconds;

/// The first slot a job considers when it is registered: the one after the last slot
/// handled (so missed ones come due and meet the misfire policy), else the first at or
/// after `now` to the second (registering at 00:00:00.3 still runs 00:00:00). A one-off
/// job comes due at its instant unless that was handled, even when it has passed.
inline std::optional<sys_seconds> first_slot(const schedule& s, std::optional<sys_seconds> last_handled, instant now) {
    if (last_handled) return s.next(*last_handled);
    if (s.type() == schedule::kind::once) return s.at();
    return s.next(std::chrono::floor<std::chrono::seconds>(now) - std::chrono::seconds{1});
}

/// How a job's slots become start times: the stagger offset and the jitter.
struct start_rule {
    std::string_view name;
    std::chrono::seconds offset{0};
    std::chrono::milliseconds max_jitter{0};

    /// slot + offset + jitter. The jitter comes from name and slot (every replica agrees)
    /// and stays below the gap to the next slot, so a jittered run never passes the next.
    [[nodiscard]] instant planned_start(const schedule& s, sys_seconds slot) const {
        using std::chrono::milliseconds;
        const instant planned = instant{slot} + offset;
        auto cap = max_jitter;
        if (cap <= milliseconds{0}) return planned;
        if (const auto next = s.next(slot))
            cap = std::min(cap, std::chrono::duration_cast<milliseconds>(*next - slot) - milliseconds{1});
        if (cap <= milliseconds{0}) return planned;
        const auto salt = static_cast<std::uint64_t>(slot.time_since_epoch().count());
        return planned +
               milliseconds{static_cast<std::int64_t>(spread(name, salt, static_cast<std::uint64_t>(cap.count()) + 1))};
    }
};

/// The startup rule: a job registered (with no handled slot on record) during its first
/// slot's start, e.g. at 00:00:00.85 for the 00:00:00 slot of a per-second job, starts
/// that slot late. It does, unless it is later than half the gap to the next slot: then a
/// late boot slot would overlap the next one, which is started instead.
inline bool boot_slot_too_late(const schedule& s, const start_rule& rule, sys_seconds slot, instant now) {
    const instant planned = rule.planned_start(s, slot);
    const auto next = s.next(slot);
    if (planned >= now || !next) return false;
    return (now - planned) * 2 > *next - slot;
}

/// The slots a starting scheduler looks at for claims a dead holder abandoned: those a
/// holder's lease could have run out on since (`lease_ttl + grace` before now), up to the
/// last one on record as handled (later ones come due and meet the misfire policy), the
/// latest `max_catch_up` of them, oldest first.
inline std::vector<sys_seconds> recovery_candidates(const schedule& s, const job_options& o,
                                                    std::optional<sys_seconds> recorded, instant now) {
    using std::chrono::seconds;
    const auto today = std::chrono::floor<seconds>(now);
    const auto from = std::chrono::floor<seconds>(now - o.lease_ttl - o.grace) - seconds{1};
    std::vector<sys_seconds> out;
    for (auto at = s.next(from); at && *at < today && (!recorded || *at <= *recorded); at = s.next(*at))
        out.push_back(*at);
    if (out.size() > o.max_catch_up) out.erase(out.begin(), out.end() - o.max_catch_up);
    return out;
}

/// What becomes of a slot looked at `now`, more than the grace window after its
/// planned start: all the slots missed since are decided in one step.
struct misfire_decision {
    sys_seconds slot;  ///< the slot to go on with: the latest, or for run_each the oldest kept
    instant due;  ///< its planned start
    bool catching_up = false;  ///< run_each: the slot waits for a run in progress, whatever the overlap policy
    std::optional<std::string> missed{};  ///< one skip for the slots before `slot`, with this detail
    std::optional<std::string> too_late{};  ///< misfire::skip: `slot` itself is skipped, with this detail
};

/// Only for a slot whose start `due` is more than `o.grace` before `now`.
inline misfire_decision decide_misfire(const schedule& s, const start_rule& rule, const job_options& o,
                                       sys_seconds slot, instant now) {
    using std::chrono::seconds;
    const auto latest = s.latest(std::chrono::floor<seconds>(now)).value_or(slot);
    misfire_decision d{.slot = latest, .due = {}};
    if (o.on_misfire == misfire::run_each) {
        for (std::uint32_t kept = 1; kept < o.max_catch_up && d.slot > slot; ++kept)
            d.slot = s.latest(d.slot - seconds{1}).value_or(slot);
        d.slot = std::max(d.slot, slot);
        d.catching_up = true;
    }
    const std::string grace = std::to_string(o.grace.count()) + " s";
    if (d.slot > slot)
        d.missed =
            "slots " + rfc3339(slot) + " to before " + rfc3339(d.slot) + " missed the " + grace + " grace window";
    d.due = rule.planned_start(s, d.slot);
    if (o.on_misfire == misfire::skip && now - d.due > o.grace)
        d.too_late = "started " + std::to_string((now - d.due).count()) + " ms late, grace " + grace;
    return d;
}

/// What a slot does when it comes due while `running_here` runs of its job are going on.
enum class overlap_action : std::uint8_t {
    start,  ///< nothing running, or overlap::allow
    cancel_then_start,  ///< overlap::cancel_running: stop the running ones, start this one
    queue,  ///< overlap::queue_one (or catching up): start when the running one ends
    skip,  ///< overlap::skip, or a slot is already queued
};

constexpr overlap_action decide_overlap(std::uint32_t running_here, overlap policy, bool catching_up,
                                        bool one_queued) noexcept {
    if (running_here == 0) return overlap_action::start;
    switch (catching_up ? overlap::queue_one : policy) {
        case overlap::allow:
            return overlap_action::start;
        case overlap::cancel_running:
            return overlap_action::cancel_then_start;
        case overlap::queue_one:
            return one_queued ? overlap_action::skip : overlap_action::queue;
        case overlap::skip:
            return overlap_action::skip;
    }
    return overlap_action::skip;
}

/// What a calendar does with a slot planned to start at `due`.
struct calendar_decision {
    enum class action : std::uint8_t { go, move, skip } what = action::go;
    instant moved_to{};  ///< action::move: the next instant the calendar allows
};

/// Recurring slots outside the calendar are skipped; a one-off job is moved to the next
/// allowed instant (its slot stays), or skipped when the calendar allows none.
inline calendar_decision decide_calendar(const std::optional<calendar>& c, schedule::kind kind, instant due) {
    using action = calendar_decision::action;
    if (!c || c->allows(std::chrono::floor<std::chrono::seconds>(due))) return {};
    if (kind == schedule::kind::once) {
        if (const auto moved = c->next_allowed(std::chrono::ceil<std::chrono::seconds>(due)))
            return {action::move, instant{*moved}};
    }
    return {action::skip};
}

/// Why a slot whose claim keeps failing (the backend is down, or the job's lease stays
/// held) is given up at `now`, to be reported as a misfire; nullopt to try again. Under
/// misfire::run_each a slot is kept until max_catch_up later slots have come due, as a
/// catch-up would keep it; otherwise it is given up once its grace window ends or a later
/// slot of the job has come due (which run_once and skip would run instead).
inline std::optional<std::string> claim_given_up(const schedule& s, const start_rule& rule, const job_options& o,
                                                 sys_seconds slot, instant now) {
    const auto today = std::chrono::floor<std::chrono::seconds>(now);
    const auto later = s.next(slot);
    if (o.on_misfire == misfire::run_each) {
        std::uint32_t count = 0;
        for (auto at = later; at && *at <= today && count < o.max_catch_up; at = s.next(*at))
            ++count;
        if (count < o.max_catch_up) return std::nullopt;
        return "the slot waited while " + std::to_string(count) + " later slots came due (max_catch_up)";
    }
    if (later && *later <= today) return "a later slot, " + rfc3339(*later) + ", came due while the slot waited";
    if (now - rule.planned_start(s, slot) > o.grace)
        return "the slot waited past its " + std::to_string(o.grace.count()) + " s grace window";
    return std::nullopt;
}

/// How long failed `attempt` of `slot` waits before the next: initial_delay *
/// multiplier^(attempt-1), capped at max_delay, plus up to `jitter` of it, derived from
/// the job, the slot and the attempt (the same on every replica).
inline std::chrono::milliseconds retry_delay(const retry_policy& r, std::string_view name, sys_seconds slot,
                                             std::uint32_t attempt) {
    const double base = static_cast<double>(r.initial_delay.count()) * std::pow(r.multiplier, attempt - 1);
    const double capped = std::min(base, static_cast<double>(r.max_delay.count()));
    const auto salt = static_cast<std::uint64_t>(slot.time_since_epoch().count()) * 31 + attempt;
    const double u = static_cast<double>(spread(name, salt, 1000)) / 1000.0;
    return std::chrono::milliseconds{static_cast<std::int64_t>(capped * (1.0 + r.jitter * u))};
}

}  // namespace sked::detail

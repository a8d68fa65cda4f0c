// sked/event.hpp — what the scheduler reports, as it happens.
//
// Hooks receive every event on the thread where it happened, after the scheduler has
// released its lock (a hook may call the scheduler). Keep them short: they delay the
// run or the dispatch that raised them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <string_view>

#include "clock.hpp"
#include "lock.hpp"

namespace sked {

enum class event_kind : std::uint8_t {
    started,
    succeeded,
    failed,
    retrying,  ///< a failed attempt will run again; `duration` is the delay
    timed_out,  ///< the run passed its timeout; stop was requested
    skipped,  ///< `reason` says why
    lease_lost,  ///< renewing failed mid-run; stop was requested
    backend_error,  ///< a claim, completion or record failed; `message` says which
    backend_recovered,  ///< the backend answers again after an outage; `duration` is how long it was out
    /// An operator's switch changed (pause, resume, stagger on or off); `message` says
    /// which ("job paused", "stagger off"), `job` which job, empty for every job (keep last)
    switched,
};

enum class skip_reason : std::uint8_t {
    none,
    held_elsewhere,  ///< another replica holds the slot or the job's lease
    already_done,  ///< the slot's run key is completed
    overlap,  ///< the job was still running here
    paused,
    misfire,  ///< later than the grace window, and the misfire policy skipped it
    outside_calendar,
    backend_unavailable,  ///< the claim could not be made; retried until the slot's grace ends (keep last)
};

namespace detail {
// One name per enumerator, in order: the metric labels and JSON keys of the status.
inline constexpr std::string_view event_kind_names[] = {"started",           "succeeded", "failed",     "retrying",
                                                        "timed_out",         "skipped",   "lease_lost", "backend_error",
                                                        "backend_recovered", "switched"};
inline constexpr std::string_view skip_reason_names[] = {
    "none",   "held_elsewhere", "already_done",     "overlap",
    "paused", "misfire",        "outside_calendar", "backend_unavailable"};
}  // namespace detail

inline constexpr std::size_t event_kind_count = std::size(detail::event_kind_names);
inline constexpr std::size_t skip_reason_count = std::size(detail::skip_reason_names);
static_assert(event_kind_count == static_cast<std::size_t>(event_kind::switched) + 1,
              "sked::event_kind: give every enumerator a name in detail::event_kind_names, in order");
static_assert(skip_reason_count == static_cast<std::size_t>(skip_reason::backend_unavailable) + 1,
              "sked::skip_reason: give every enumerator a name in detail::skip_reason_names, in order");

constexpr std::string_view to_string(event_kind kind) noexcept {
    return detail::event_kind_names[static_cast<unsigned>(kind)];
}
constexpr std::string_view to_string(skip_reason reason) noexcept {
    return detail::skip_reason_names[static_cast<unsigned>(reason)];
}

struct event {
    event_kind kind = event_kind::started;
    skip_reason reason = skip_reason::none;
    std::string_view job{};
    std::chrono::sys_seconds nominal{};  ///< the slot
    instant at{};  ///< when it happened (scheduler clock)
    std::uint32_t attempt = 0;
    fence_token fence = 0;
    std::chrono::milliseconds duration{0};  ///< runs: how long it ran; retrying: the delay
    std::chrono::milliseconds lateness{0};  ///< started: start minus planned start
    std::string_view message{};  ///< failure text, or what was skipped
    std::string_view replica{};  ///< scheduler_options::replica
    std::string_view key{};  ///< a one-off job's key (`job` is then its kind)
};

using event_hook = std::function<void(const event&)>;

}  // namespace sked

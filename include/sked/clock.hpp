// sked/clock.hpp — the scheduler's two clocks, injectable so tests control time.
//
//     sked::virtual_clock clock{sked::instant{2026y / 11 / 23}};
//     sked::scheduler s{{.clock = clock.source(), .steady = clock.steady_source()}};
//     clock.advance(24h);  s.run_due(clock.now());        // a day passes in no time
//     clock.step(-1h);     s.run_due(clock.now());        // the wall clock is set back
//
// Time has two clocks. The wall clock says *when*: when a slot is, when it started, what
// a log line's timestamp says. It can be stepped (NTP, an operator, a VM resumed), so it
// never measures anything. The steady clock says *how long*: lease validity and renewal,
// timeouts, retry back-off, rechecks, run durations and every driver's waits. A step of
// the wall clock moves when slots are, and nothing else.
//
// The scheduler reads time only through these two sources, so the same engine runs on
// the system clocks in production and on a virtual clock in tests and simulations.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>

namespace sked {

/// A point in UTC with millisecond resolution: due times, starts, retries.
using instant = std::chrono::sys_time<std::chrono::milliseconds>;
/// A point on the monotonic clock: what leases, timeouts and waits are measured on.
using steady_instant = std::chrono::steady_clock::time_point;

/// Reads the current wall time.
using clock_source = std::function<instant()>;
/// Reads the monotonic clock (sked::lease_clock, which is std::chrono::steady_clock).
using steady_source = std::function<steady_instant()>;

/// The system clock, truncated to milliseconds.
inline instant system_now() {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

/// A wall clock and a steady clock that move only when told to. Thread-safe.
/// advance() moves both, as time passing does; step() moves the wall clock alone, as
/// setting the clock does. The steady clock never moves backwards.
class virtual_clock {
public:
    explicit virtual_clock(instant start) : wall_ms_(start.time_since_epoch().count()) {}

    [[nodiscard]] instant now() const noexcept { return instant{std::chrono::milliseconds{wall_ms_.load()}}; }
    /// Starts at the epoch of steady_clock, so an unset time_point{} is "long ago" only
    /// when it is.
    [[nodiscard]] steady_instant steady_now() const noexcept {
        return steady_instant{std::chrono::milliseconds{steady_ms_.load()}};
    }

    /// Lets `by` pass (nothing, if negative): both clocks move.
    void advance(std::chrono::milliseconds by) noexcept {
        if (by.count() <= 0) return;
        wall_ms_.fetch_add(by.count());
        steady_ms_.fetch_add(by.count());
    }
    /// Lets time pass until the wall clock reads `to` (nothing, if it reads later).
    void set(instant to) noexcept {
        auto current = wall_ms_.load();
        const auto target = to.time_since_epoch().count();
        while (current < target) {
            if (wall_ms_.compare_exchange_weak(current, target)) {
                steady_ms_.fetch_add(target - current);
                return;
            }
        }
    }
    /// Sets the wall clock forward or back by `by`; the steady clock does not move.
    void step(std::chrono::milliseconds by) noexcept { wall_ms_.fetch_add(by.count()); }

    /// Sources reading this clock (which must outlive them).
    [[nodiscard]] clock_source source() const {
        return [this] { return now(); };
    }
    [[nodiscard]] ::sked::steady_source steady_source() const {
        return [this] { return steady_now(); };
    }

private:
    std::atomic<std::chrono::milliseconds::rep> wall_ms_;
    std::atomic<std::chrono::milliseconds::rep> steady_ms_{0};
};

}  // namespace sked

// sked/clock.hpp — the scheduler's notion of now, injectable so tests control time.
//
//     sked::virtual_clock clock{sked::instant{2026y / 11 / 23}};
//     sked::scheduler s{{.clock = clock.source()}};
//     clock.advance(24h);  s.run_due(clock.now());        // a day passes in no time
//
// The scheduler reads time only through a clock_source, so the same engine runs on the
// system clock in production and on a virtual clock in tests and simulations.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>

namespace sked {

/// A point in UTC with millisecond resolution: due times, starts, retries.
using instant = std::chrono::sys_time<std::chrono::milliseconds>;

/// Reads the current time.
using clock_source = std::function<instant()>;

/// The system clock, truncated to milliseconds.
inline instant system_now() {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

/// A clock that moves only when told to. Thread-safe; it never moves backwards.
class virtual_clock {
public:
    explicit virtual_clock(instant start) : ms_(start.time_since_epoch().count()) {}

    [[nodiscard]] instant now() const noexcept { return instant{std::chrono::milliseconds{ms_.load()}}; }

    /// Moves to `to` if that is later than now.
    void set(instant to) noexcept {
        auto current = ms_.load();
        const auto target = to.time_since_epoch().count();
        while (current < target && !ms_.compare_exchange_weak(current, target)) {
        }
    }
    void advance(std::chrono::milliseconds by) noexcept { ms_.fetch_add(by.count() > 0 ? by.count() : 0); }

    /// A clock_source reading this clock (which must outlive it).
    [[nodiscard]] clock_source source() const {
        return [this] { return now(); };
    }

private:
    std::atomic<std::chrono::milliseconds::rep> ms_;
};

}  // namespace sked

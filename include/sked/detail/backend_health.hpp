// sked/detail/backend_health.hpp — whether the backend answers, so that an outage is
// reported once when it begins and once when it ends, not once per failed call; and what
// it says about itself (its clock, its identity), so that a skewed clock or a restart
// that lost state is reported once, loudly, instead of stalling the fleet silently.
//
// Every failed claim is still counted (skip_reason::backend_unavailable in the job's
// stats); only the first of an outage goes to the hooks, with the backend's error. The
// first call that succeeds afterwards ends it and reports how long it lasted (on the
// steady clock) and how many calls failed meanwhile. The table takes no lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "../clock.hpp"
#include "../idempotency.hpp"
#include "../job_stats.hpp"

namespace sked::detail {

class backend_health {
public:
    /// What an outage that just ended looked like.
    struct outage {
        std::chrono::milliseconds lasted;
        std::uint64_t failed_calls;
    };

    /// A call failed: true when this begins an outage (report it), false during one.
    bool failed(steady_instant now) noexcept {
        ++failed_calls_;
        if (down_since_) return false;
        down_since_ = now;
        failed_calls_ = 1;
        return true;
    }
    /// A call was answered: the outage this ends, if one was going on.
    std::optional<outage> answered(steady_instant now) noexcept {
        if (!down_since_) return std::nullopt;
        const outage ended{std::chrono::duration_cast<std::chrono::milliseconds>(now - *down_since_), failed_calls_};
        down_since_.reset();
        return ended;
    }
    [[nodiscard]] bool down() const noexcept { return down_since_.has_value(); }

    /// What changed since the backend last reported its facts: a message for each.
    struct news {
        std::optional<std::string> clock;  ///< the offset crossed the bound, one way or the other
        bool clock_bad = false;  ///< ... and is now beyond it
        std::optional<std::string> restarted;  ///< its identity changed
    };
    /// The backend reported `f`, asked at `sent` and answered at `received` (this
    /// replica's wall clock); the offset is taken against the midpoint.
    news observe(const backend_facts& f, instant sent, instant received, std::chrono::milliseconds bound) {
        news out;
        const auto offset =
            std::chrono::duration_cast<std::chrono::milliseconds>(sent + (received - sent) / 2 - f.time);
        offset_ = offset;
        const bool skewed = offset > bound || offset < -bound;
        if (skewed != skewed_) {
            skewed_ = skewed;
            out.clock_bad = skewed;
            out.clock = skewed ? "this replica's clock is " + seconds_apart(offset) + " the backend's (more than " +
                                     std::to_string(bound.count() / 1000) +
                                     " s): slots are due by this replica's clock; fix its time sync"
                               : "this replica's clock agrees with the backend's again (" + seconds_apart(offset) + ")";
        }
        if (!instance_.empty() && f.instance != instance_) {
            ++restarts_;
            out.restarted = "the backend restarted or failed over (instance " + instance_ + " is now " + f.instance +
                            "): if it kept no persistence, completed slots within keep_done may run again and "
                            "slot records may be gone";
        }
        instance_ = f.instance;
        return out;
    }

    [[nodiscard]] backend_status status() const {
        return {.reachable = !down(), .clock_offset = offset_, .restarts = restarts_};
    }

    /// The message of an outage's end.
    static std::string describe(const outage& o) {
        return std::to_string(o.failed_calls) + " call" + (o.failed_calls == 1 ? "" : "s") +
               " failed during the outage; failed claims were retried until each slot's grace ended";
    }

private:
    static std::string seconds_apart(std::chrono::milliseconds offset) {
        const auto ms = offset.count() < 0 ? -offset.count() : offset.count();
        const std::string amount = std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
        return amount + (offset.count() < 0 ? " behind" : " ahead of");
    }

    std::optional<steady_instant> down_since_;
    std::optional<std::chrono::milliseconds> offset_;
    bool skewed_ = false;
    std::string instance_;
    std::uint64_t restarts_ = 0;
    std::uint64_t failed_calls_ = 0;
};

}  // namespace sked::detail

// sked/detail/backend_health.hpp — whether the backend answers, so that an outage is
// reported once when it begins and once when it ends, not once per failed call.
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

    /// The message of an outage's end.
    static std::string describe(const outage& o) {
        return std::to_string(o.failed_calls) + " call" + (o.failed_calls == 1 ? "" : "s") +
               " failed during the outage; failed claims were retried until each slot's grace ended";
    }

private:
    std::optional<steady_instant> down_since_;
    std::uint64_t failed_calls_ = 0;
};

}  // namespace sked::detail

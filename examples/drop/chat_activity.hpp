// examples/drop/chat_activity.hpp — simulated chat: how many messages were sent when.
//
// Deterministic (a hash of the second), so every replica and every process sees the same
// chat: about 0.2 messages a second at night, 0.8 in the evening, and twice that during
// the occasional hour when something is going on.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include <sked/hash.hpp>

namespace drop {

class chat_activity {
public:
    /// Messages sent in [from, to).
    [[nodiscard]] std::uint64_t messages_between(std::chrono::sys_seconds from, std::chrono::sys_seconds to) const {
        std::uint64_t total = 0;
        for (auto t = from; t < to; t += std::chrono::seconds{1})
            total += message_at(t);
        return total;
    }

private:
    /// Chance per mille of a message in second t.
    static std::uint64_t rate(std::chrono::sys_seconds t) {
        const auto hour_of_day = (t.time_since_epoch().count() / 3600) % 24;
        const auto hours_from_peak = hour_of_day > 20 ? hour_of_day - 20 : 20 - hour_of_day;  // peak at 20:00
        const std::uint64_t base =
            static_cast<std::uint64_t>(800 - 600 * std::min<std::int64_t>(hours_from_peak, 12) / 12);
        const bool busy = sked::splitmix64(static_cast<std::uint64_t>(t.time_since_epoch().count() / 3600)) % 6 == 0;
        return busy ? std::min<std::uint64_t>(2 * base, 1000) : base;
    }
    static std::uint64_t message_at(std::chrono::sys_seconds t) {
        return sked::splitmix64(static_cast<std::uint64_t>(t.time_since_epoch().count()) ^ 0xc4a7u) % 1000 < rate(t);
    }
};

}  // namespace drop

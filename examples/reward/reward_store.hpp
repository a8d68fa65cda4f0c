// examples/reward/reward_store.hpp — players and their daily rewards: the example's database.
//
// In a service this is two tables, and grant_all() is one transaction for all players:
//
//     SELECT 1 FROM players WHERE reward_fence > :fence;   -- a row: a newer run wrote; stop
//     UPDATE players SET reward_fence = :fence;
//     INSERT INTO rewards (player, run_key) SELECT id, :run_key FROM players
//         ON CONFLICT (player, run_key) DO NOTHING;        -- the run key makes a retry harmless
//
// The run key ("daily_reward@2026-11-01T16:00:00Z") names the slot, the same on every
// replica, so "once per player per day" is the unique index, not a hope.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace reward {

class reward_store {
public:
    explicit reward_store(std::size_t players) : players_(players) {}

    [[nodiscard]] std::size_t players() const { return players_.size(); }

    struct grant_summary {
        std::size_t granted = 0, already_granted = 0;
        bool stale = false;  ///< a run with a newer fencing token wrote first: nothing was written
    };

    /// Grants every player the reward named by `run_key`, in one transaction.
    grant_summary grant_all(std::string_view run_key, std::uint64_t fence) {
        std::lock_guard hold{mutex_};
        grant_summary out;
        for (const auto& p : players_)
            if (fence < p.reward_fence) return {.stale = true};
        for (auto& p : players_) {
            p.reward_fence = fence;
            ++(p.rewards.emplace(run_key).second ? out.granted : out.already_granted);
        }
        return out;
    }

    /// The fewest and the most rewards any player holds.
    [[nodiscard]] std::pair<std::size_t, std::size_t> reward_range() const {
        std::lock_guard hold{mutex_};
        std::size_t low = players_.empty() ? 0 : players_.front().rewards.size(), high = low;
        for (const auto& p : players_)
            low = std::min(low, p.rewards.size()), high = std::max(high, p.rewards.size());
        return {low, high};
    }

private:
    struct player {
        std::uint64_t reward_fence = 0;
        std::set<std::string, std::less<>> rewards{};
    };
    mutable std::mutex mutex_;
    std::vector<player> players_;
};

}  // namespace reward

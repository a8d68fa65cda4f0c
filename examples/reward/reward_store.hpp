// examples/reward/reward_store.hpp — players and their daily rewards: the example's database.
//
// In a service this is three tables, and grant_all() is one transaction for all players:
//
//     INSERT INTO reward_runs (run_key, fence) VALUES (:run_key, :fence)
//         ON CONFLICT (run_key) DO UPDATE SET fence = :fence
//         WHERE reward_runs.fence <= :fence;           -- no row: a newer run of the slot wrote; stop
//     INSERT INTO rewards (player, run_key) SELECT id, :run_key FROM players
//         ON CONFLICT (player, run_key) DO NOTHING;    -- the run key makes a retry harmless
//
// The run key ("daily_reward@2026-11-01T16:00:00Z") names the slot, the same on every
// replica, so "once per player per day" is the unique index, not a hope. The fencing
// token is compared per run key: tokens order the holders of one name, not the runs of
// two slots (a slot claimed late, after an outage, holds a higher token than the next
// slot's run, and both may write at once when a run is as long as the period).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
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
        auto [run, fresh] = run_fences_.try_emplace(std::string(run_key), fence);
        if (!fresh && fence < run->second) return {.stale = true};
        run->second = fence;
        grant_summary out;
        for (auto& p : players_)
            ++(p.rewards.emplace(run_key).second ? out.granted : out.already_granted);
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
        std::set<std::string, std::less<>> rewards{};
    };
    mutable std::mutex mutex_;
    std::vector<player> players_;
    std::map<std::string, std::uint64_t, std::less<>> run_fences_;  // the newest token that wrote, per run key
};

}  // namespace reward

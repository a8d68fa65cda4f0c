// examples/expiry/trade_store.hpp — trades between players, and the notifications they cause.
//
// In a service this is a trades table (state open / accepted / expired, expires_at) and an
// outbox of notification events written in the same transaction as the state change:
//
//     UPDATE sweep_fence SET token = :fence WHERE token <= :fence;            -- no row: stale
//     UPDATE trades SET state = 'expired' WHERE state = 'open' AND expires_at <= :slot
//         RETURNING id;                                                       -- and for each id:
//     INSERT INTO outbox (event, trade) VALUES ('trade_expired', :id);
//
// A sweep judges by its slot's nominal time, not by the clock, so running the same slot
// twice expires nothing the second time: only open trades change state.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <sked/hash.hpp>

namespace expiry {

struct trade {
    std::chrono::sys_seconds opened, expires;
    std::optional<std::chrono::sys_seconds> accepted{};  ///< before `expires`, when it happens
    enum class state : std::uint8_t { open, accepted, expired } now = state::open;
    std::optional<std::chrono::sys_seconds> expired_by{};  ///< the sweep slot that expired it
};

struct sweep_result {
    std::size_t expired = 0, accepted = 0;
    bool stale = false;  ///< a sweep with a newer fencing token ran: nothing was written
};

/// The market from `from` to `to`: about one trade per `minute` (a real minute, or the
/// --tick period when watching in real time), each with a time-to-live of 5 to 30 of
/// them; a third are accepted before they expire. Deterministic: the trade opened in a
/// given second is the same in every process.
inline std::vector<trade> market(std::chrono::sys_seconds from, std::chrono::sys_seconds to,
                                 std::chrono::seconds minute = std::chrono::minutes{1}) {
    std::vector<trade> trades;
    const auto step = std::max(minute / 3, std::chrono::seconds{1});
    for (auto t = from; t < to; t += step) {
        const auto h = sked::splitmix64(static_cast<std::uint64_t>(t.time_since_epoch().count()));
        if (h % 3 != 0) continue;
        trade x{t, t + minute * (5 + static_cast<std::int64_t>(h % 26))};
        if ((h >> 8) % 3 == 0) x.accepted = t + (x.expires - t) * static_cast<std::int64_t>((h >> 16) % 90) / 100;
        trades.push_back(x);
    }
    return trades;
}

class trade_store {
public:
    explicit trade_store(std::vector<trade> trades) : trades_(std::move(trades)) {
        for (std::size_t i = 0; i < trades_.size(); ++i)
            by_expiry_.emplace(trades_[i].expires, i);
    }

    /// Expires every open trade whose time-to-live ended by `slot`, with a notification each.
    sweep_result sweep(std::chrono::sys_seconds slot, std::uint64_t fence) {
        std::lock_guard hold{mutex_};
        if (fence < fence_) return {.stale = true};
        fence_ = fence;
        sweep_result out;
        // by_expiry_ holds only open trades, so a second sweep of the slot finds nothing.
        for (auto due = by_expiry_.begin(); due != by_expiry_.end() && due->first <= slot;
             due = by_expiry_.erase(due)) {
            auto& t = trades_[due->second];
            if (t.accepted && *t.accepted <= slot) {
                t.now = trade::state::accepted;
                ++out.accepted;
            } else {
                t.now = trade::state::expired;
                t.expired_by = slot;
                outbox_.push_back(due->second);
                ++out.expired;
            }
        }
        return out;
    }

    struct audit {
        std::size_t trades = 0, expired = 0, accepted = 0, notifications = 0;
        std::size_t expired_early = 0;  ///< expired by a sweep before their time-to-live ended
        std::size_t overdue = 0;  ///< still open long after their time-to-live (a sweep missed)
    };
    /// Checks the trades as of `now`: a trade may stay open at most `slack` past its expiry.
    [[nodiscard]] audit check(std::chrono::sys_seconds now, std::chrono::seconds slack) const {
        std::lock_guard hold{mutex_};
        audit a{.notifications = outbox_.size()};
        for (const auto& t : trades_) {
            if (t.opened > now) continue;  // the market has not opened it yet
            ++a.trades;
            a.expired += t.now == trade::state::expired;
            a.accepted += t.now == trade::state::accepted;
            a.expired_early += t.expired_by && *t.expired_by < t.expires;
            a.overdue += t.now == trade::state::open && t.expires + slack < now;
        }
        return a;
    }

private:
    mutable std::mutex mutex_;
    std::uint64_t fence_ = 0;
    std::vector<trade> trades_;
    std::multimap<std::chrono::sys_seconds, std::size_t> by_expiry_;  // open trades only
    std::vector<std::size_t> outbox_;  // one trade_expired event per expired trade
};

}  // namespace expiry

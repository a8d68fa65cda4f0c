// sked/detail/event_batch.hpp — events raised under the scheduler's lock, delivered to
// the hooks after it is released.
//
// A hook may call the scheduler (pause a job that failed, add another), so no hook ever
// runs under the lock: the scheduler adds events to a batch while it holds the lock, in
// the order they happen, and delivers the batch once it has let go. An event's strings
// are owned by the batch until then.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../event.hpp"

namespace sked::detail {

class event_batch {
public:
    void add(const event& e, std::string job, std::string message, std::string key = {}) {
        pending_.push_back({e, std::move(job), std::move(message), std::move(key)});
    }
    [[nodiscard]] bool empty() const noexcept { return pending_.empty(); }

    /// Calls every hook with every event, in order, and empties the batch (keeping its
    /// capacity for the next round).
    void deliver(const std::vector<event_hook>& hooks, std::string_view replica) {
        for (auto& p : pending_) {
            p.e.job = p.job;
            p.e.message = p.message;
            p.e.key = p.key;
            p.e.replica = replica;
            for (const auto& hook : hooks)
                hook(p.e);
        }
        pending_.clear();
    }

private:
    struct pending_event {
        event e;
        std::string job, message, key;
    };
    std::vector<pending_event> pending_;
};

}  // namespace sked::detail

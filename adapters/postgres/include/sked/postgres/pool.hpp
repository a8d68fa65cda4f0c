// sked/postgres/pool.hpp — connections for the runs' own transactions.
//
// A run that writes in its transaction (run_transaction) holds a connection for as long
// as the transaction is open, so those connections are apart from the store's own: a
// slow job never holds up claims. The pool keeps up to `idle_limit` connections that
// are idle; a run that finds none opens one (never waits for another run).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "options.hpp"

namespace sked::postgres::detail {

class connection_pool {
public:
    connection_pool(options settings, std::size_t idle_limit)
        : settings_(std::move(settings)), idle_limit_(idle_limit) {}

    /// An idle connection, or a new one (it connects at its first call).
    std::unique_ptr<connection> take() {
        {
            std::lock_guard hold{mutex_};
            if (!idle_.empty()) {
                auto link = std::move(idle_.back());
                idle_.pop_back();
                return link;
            }
        }
        return std::make_unique<connection>(settings_);
    }

    /// Keeps a connection that still works, up to idle_limit; closes the rest.
    void give(std::unique_ptr<connection> link) {
        if (!link || !link->connected()) return;
        std::lock_guard hold{mutex_};
        if (idle_.size() < idle_limit_) idle_.push_back(std::move(link));
    }

    [[nodiscard]] std::size_t idle() {
        std::lock_guard hold{mutex_};
        return idle_.size();
    }

private:
    options settings_;
    std::size_t idle_limit_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<connection>> idle_;
};

}  // namespace sked::postgres::detail

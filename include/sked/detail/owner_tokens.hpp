// sked/detail/owner_tokens.hpp — the owner of each lease a client object takes.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

namespace sked::detail {

/// Owner tokens: 128 random bits per client object and a counter, so two processes
/// (or two objects) never share one. The backends that keep leases on a server
/// (Redis, PostgreSQL) check an owner on every renew and release.
class owner_tokens {
public:
    owner_tokens() {
        std::random_device entropy;
        std::uniform_int_distribution<std::uint64_t> any;
        char text[40];
        std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(any(entropy)),
                      static_cast<unsigned long long>(any(entropy)));
        base_ = text;
    }

    /// Safe from any thread.
    std::string next() { return base_ + "-" + std::to_string(issued_.fetch_add(1, std::memory_order_relaxed) + 1); }

private:
    std::string base_;
    std::atomic<std::uint64_t> issued_{0};
};

}  // namespace sked::detail

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "../lock/contract.hpp"
#include "../support/redis_server.hpp"
#include "sked/redis/store.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;

TEST_SUITE("redis contention") {
    TEST_CASE("8 threads x 2 connections claim the same 10,000 keys: one acquires each") {
        redis_server server;
        constexpr std::size_t key_count = 10'000, batch_size = 100;
        std::vector<std::string> all_keys;
        for (std::size_t k = 0; k < key_count; ++k)
            all_keys.push_back(numbered("job@", k));
        std::vector<std::atomic<int>> acquired(key_count);
        std::atomic<int> held_elsewhere{0}, already_done{0}, errors{0};
        std::vector<std::jthread> workers;
        for (std::size_t t = 0; t < 8; ++t) {
            workers.emplace_back([&, t] {
                redis::keys batched{server.client()}, single{server.client()};
                const auto record = [&](std::size_t k, const result<grant, backend_error>& answer) {
                    if (!answer) {
                        ++errors;
                    } else if (answer->acquired()) {
                        ++acquired[k];
                        if (k % 2 == 0) (void)single.complete(answer->lease, 60s);
                    } else if (answer->status == grant_status::held_elsewhere) {
                        ++held_elsewhere;
                    } else {
                        ++already_done;
                    }
                };
                for (std::size_t b = 0; b < key_count / batch_size; ++b) {
                    const std::size_t first = ((b + t * 13) % (key_count / batch_size)) * batch_size;
                    if ((b + t) % 2 == 0) {
                        std::span<const std::string> batch{all_keys.data() + first, batch_size};
                        auto grants = batched.claim_many(batch, 60s);
                        for (std::size_t i = 0; i < batch_size; ++i) {
                            record(first + i, grants ? result<grant, backend_error>{(*grants)[i]}
                                                     : result<grant, backend_error>{grants.error()});
                        }
                    } else {
                        for (std::size_t i = 0; i < batch_size; ++i) {
                            record(first + i, single.claim(all_keys[first + i], 60s));
                        }
                    }
                }
            });
        }
        workers.clear();
        std::size_t exactly_once = 0;
        for (const auto& count : acquired)
            exactly_once += count.load() == 1 ? 1u : 0u;
        CHECK(exactly_once == key_count);
        CHECK(errors == 0);
        CHECK(static_cast<std::size_t>(held_elsewhere + already_done) == 7 * key_count);
        CHECK(already_done > 0);
    }

    TEST_CASE("8 threads x 2 connections contend for 16 locks: never two holders, tokens strictly increase") {
        redis_server server;
        constexpr std::size_t names = 16;
        std::vector<std::atomic<bool>> inside(names);
        std::vector<std::vector<fence_token>> order(names);
        std::vector<std::mutex> order_mutex(names);
        std::atomic<int> overlaps{0}, errors{0};
        std::vector<std::jthread> workers;
        for (std::size_t t = 0; t < 8; ++t) {
            workers.emplace_back([&, t] {
                redis::locks connections[2] = {redis::locks{server.client()}, redis::locks{server.client()}};
                for (std::size_t n = 0; n < 400; ++n) {
                    auto& locks = connections[n % 2];
                    const std::size_t i = (n + t) % names;
                    auto answer = locks.try_lock(numbered("lock", i), 10s);
                    if (!answer) ++errors;
                    if (!answer || !answer->acquired()) continue;
                    if (inside[i].exchange(true)) ++overlaps;
                    {
                        std::lock_guard hold{order_mutex[i]};
                        order[i].push_back(answer->lease.fence);
                    }
                    inside[i] = false;
                    if (!locks.unlock(answer->lease)) ++errors;
                }
            });
        }
        workers.clear();
        CHECK(overlaps == 0);
        CHECK(errors == 0);
        std::size_t total = 0;
        for (const auto& tokens : order) {
            total += tokens.size();
            CHECK(std::adjacent_find(tokens.begin(), tokens.end(), std::greater_equal<>{}) == tokens.end());
        }
        CHECK(total > 100);
    }
}

}  // namespace
}  // namespace sked::test

#include "sked/memory_backend.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "contract.hpp"
#include "jobs_contract.hpp"

namespace sked::test {
namespace {

// Time moves only when the test says so.
struct memory_fixture {
    lease_clock::time_point now{std::chrono::hours{1000}};
    memory_locks locks{[this] { return now; }};
    memory_keys keys{[this] { return now; }};
    std::chrono::milliseconds ttl{30'000};
    void pass(std::chrono::milliseconds duration) { now += duration; }
};

// The backends fit their concepts, and not each other's.
static_assert(lock_backend<memory_locks> && key_store<memory_keys>);
static_assert(!lock_backend<memory_keys> && !key_store<memory_locks> && !lock_backend<int>);

TEST_CASE_TEMPLATE_INVOKE(lock_contract, memory_fixture);
TEST_CASE_TEMPLATE_INVOKE(lock_expiry_contract, memory_fixture);
TEST_CASE_TEMPLATE_INVOKE(key_contract, memory_fixture);
TEST_CASE_TEMPLATE_INVOKE(key_failure_contract, memory_fixture);
TEST_CASE_TEMPLATE_INVOKE(batch_contract, memory_fixture);
TEST_CASE_TEMPLATE_INVOKE(abandoned_contract, memory_fixture);
TEST_CASE_TEMPLATE_INVOKE(input_contract, memory_fixture);
TEST_CASE_TEMPLATE_INVOKE(fence_contract, memory_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_once_contract, memory_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_lease_contract, memory_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_retry_contract, memory_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_cancel_contract, memory_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_batch_contract, memory_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_finish_batch_contract, memory_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_input_contract, memory_fixture);

TEST_SUITE("locks") {
    TEST_CASE("memory: expired leases and done keys past retention are forgotten") {
        memory_fixture f;
        for (int i = 0; i < 3000; ++i)
            REQUIRE(f.keys.claim(numbered("k", static_cast<std::size_t>(i)), 10s));
        const auto done = f.keys.claim("done", 10s);
        REQUIRE(f.keys.complete(done->lease, 1h));
        CHECK(f.keys.size() == 3001);
        f.pass(11s);
        CHECK(f.keys.size() == 3001);  // the abandoned claims are kept for memory_keys::abandoned_memory
        f.pass(memory_keys::abandoned_memory);
        CHECK(f.keys.size() == 1);  // only the done key, kept for an hour
        f.pass(1h);
        CHECK(f.keys.size() == 0);
        // A forgotten name's next token is still higher than any before.
        const auto again = f.keys.claim("k0", 10s);
        CHECK(again->lease.fence > done->lease.fence);
    }

    TEST_CASE("memory: a steady stream of new keys keeps memory bounded by the live ones") {
        lease_clock::time_point now{};
        detail::memory_table table{[&now] { return now; }, 0ms};  // abandoned claims are forgotten at once
        std::size_t most = 0;
        for (std::size_t i = 0; i < 100'000; ++i) {
            now += 1ms;
            REQUIRE(table.claim("key", numbered("k", i), 2s));  // about 2,000 live at any time
            most = std::max(most, table.stored());
        }
        CHECK(most <= 2 * 2'000 + 1024);
    }

    TEST_CASE("memory: 8 threads claiming the same 10,000 keys, one acquires each") {
        memory_keys keys;
        constexpr int threads = 8;
        constexpr int key_count = 10'000;
        std::vector<std::atomic<int>> acquired(key_count);
        std::atomic<int> held_elsewhere{0}, already_done{0}, errors{0};
        std::vector<std::jthread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&, t] {
                for (int n = 0; n < key_count; ++n) {
                    const int k = (n * 7919 + t * 1237) % key_count;  // each thread in its own order
                    auto answer = keys.claim(numbered("job@", static_cast<std::size_t>(k)), 60s);
                    if (!answer) {
                        ++errors;
                    } else if (answer->acquired()) {
                        ++acquired[static_cast<std::size_t>(k)];
                        if (k % 2 == 0) (void)keys.complete(answer->lease, 60s);  // half complete at once
                    } else if (answer->status == grant_status::held_elsewhere) {
                        ++held_elsewhere;
                    } else {
                        ++already_done;
                    }
                }
            });
        }
        workers.clear();
        int exactly_once = 0;
        for (const auto& count : acquired)
            exactly_once += count.load() == 1 ? 1 : 0;
        CHECK(exactly_once == key_count);
        CHECK(errors == 0);
        CHECK(held_elsewhere + already_done == (threads - 1) * key_count);
        CHECK(already_done > 0);
    }

    TEST_CASE("memory: 8 threads contending for 16 locks, tokens strictly increase per name") {
        memory_locks locks;
        constexpr int names = 16;
        std::vector<std::atomic<bool>> inside(names);
        std::vector<std::vector<fence_token>> order(names);
        std::vector<std::mutex> order_mutex(names);
        std::atomic<int> overlaps{0};
        std::vector<std::jthread> workers;
        for (int t = 0; t < 8; ++t) {
            workers.emplace_back([&, t] {
                for (int n = 0; n < 4000; ++n) {
                    const auto i = static_cast<std::size_t>((n + t) % names);
                    auto answer = locks.try_lock(numbered("lock", i), 60s);
                    if (!answer || !answer->acquired()) continue;
                    if (inside[i].exchange(true)) ++overlaps;
                    {
                        std::lock_guard hold{order_mutex[i]};
                        order[i].push_back(answer->lease.fence);
                    }
                    inside[i] = false;
                    (void)locks.unlock(answer->lease);
                }
            });
        }
        workers.clear();
        CHECK(overlaps == 0);
        std::size_t total = 0;
        for (const auto& tokens : order) {
            total += tokens.size();
            CHECK(std::is_sorted(tokens.begin(), tokens.end(), std::less_equal<>{}));
            CHECK(std::adjacent_find(tokens.begin(), tokens.end()) == tokens.end());
        }
        CHECK(total > 1000);
    }

    TEST_CASE("run_key: job and nominal time in RFC 3339, UTC") {
        using namespace std::chrono;
        CHECK(run_key("daily_reward", sys_days{year{2026} / 11 / 23}) == "daily_reward@2026-11-23T00:00:00Z");
        CHECK(run_key("drop", sys_days{year{2026} / 11 / 23} + 14h + 5min) == "drop@2026-11-23T14:05:00Z");
        CHECK(run_key("a@b", sys_seconds{seconds{-1}}) == "a@b@1969-12-31T23:59:59Z");
        CHECK(run_key("x", sys_days{year{9999} / 12 / 31} + 86399s) == "x@9999-12-31T23:59:59Z");
    }
}

}  // namespace
}  // namespace sked::test

// Slots that come due together claim their run keys in one batch (scheduler::claim_together),
// and runs that end together settle in one (detail::settle_queue).
#include <doctest/doctest.h>

#include <sked/memory_backend.hpp>
#include <sked/runner.hpp>
#include <sked/scheduler.hpp>
#include <sked/thread_pool.hpp>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "../support/eventually.hpp"
#include "sim.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;

// A memory key store that counts its calls, and can fail a batch or refuse renewals.
// Its counts may be kept from several threads (a thread_pool's).
struct counting_keys {
    memory_keys inner;
    std::mutex mutex;
    std::vector<std::size_t> batches;  // the size of each claim_many
    int claims = 0, renewals = 0;
    bool fail_next_batch = false;
    bool renewals_refused = false;

    explicit counting_keys(lease_clock_function clock) : inner(std::move(clock)) {}
    result<grant, backend_error> claim(std::string_view key, std::chrono::milliseconds ttl) {
        {
            std::lock_guard hold{mutex};
            ++claims;
        }
        return inner.claim(key, ttl);
    }
    result<std::vector<grant>, backend_error> claim_many(std::span<const std::string> keys,
                                                         std::chrono::milliseconds ttl) {
        std::lock_guard hold{mutex};
        batches.push_back(keys.size());
        if (std::exchange(fail_next_batch, false))
            return backend_error{backend_errc::unreachable, "redis at 127.0.0.1:1 refused the connection"};
        return inner.claim_many(keys, ttl);
    }
    result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) {
        std::lock_guard hold{mutex};
        ++renewals;
        if (renewals_refused) return false;
        return inner.renew(held, ttl);
    }
    result<bool, backend_error> complete(const lease& held, std::chrono::milliseconds keep) {
        return inner.complete(held, keep);
    }
    result<bool, backend_error> release(const lease& held) { return inner.release(held); }
};
static_assert(batch_claims<counting_keys>);

// `n` exactly-once jobs "job-<i>", every minute, each counting its runs per slot.
struct fleet_of_jobs {
    std::map<std::string, int> runs;  // "<job>@<slot>"

    void add_to(scheduler& s, int n) {
        for (int i = 0; i < n; ++i) {
            const auto added = s.add({"job-" + std::to_string(i),
                                      schedule::every(std::chrono::minutes{1}),
                                      [this](const job_context& c) { ++runs[c.run_key()]; },
                                      {.mode = distribution::exactly_once}});
            REQUIRE(added.has_value());
        }
    }
};

// One scheduler on counting_keys, its runs held by a manual executor.
struct one_replica {
    simulation sim;
    counting_keys keys{sim.clock.steady_source()};
    manual_executor pool;
    scheduler s{with_executor(sim.options("a", keys), pool)};
    fleet_of_jobs jobs;

    static scheduler_options with_executor(scheduler_options o, manual_executor& pool) {
        o.executor = pool.function();
        return o;
    }
};

TEST_SUITE("batched claims") {
    TEST_CASE("slots due together on two replicas: one batch per replica and pass, each slot runs once") {
        simulation sim;
        counting_keys keys{sim.clock.steady_source()};
        manual_executor pool_a, pool_b;
        auto options_a = sim.options("a", keys), options_b = sim.options("b", keys);
        options_a.executor = pool_a.function();
        options_b.executor = pool_b.function();
        scheduler a{options_a}, b{options_b};
        fleet_of_jobs jobs;
        jobs.add_to(a, 50);
        jobs.add_to(b, 50);
        sim.run_until("2026-11-23T00:00:00Z", {&a, &b});
        // Both replicas claimed before either ran: b's batch found every key held.
        CHECK(keys.batches == std::vector<std::size_t>{50, 50});
        // b's slots ended in its pass, told as skipped, with no task for its executor.
        CHECK(pool_a.pending() == 50);
        CHECK(pool_b.pending() == 0);
        CHECK(sim.events.count(event_kind::skipped) == 50);
        pool_a.run_all();
        pool_b.run_all();
        CHECK(keys.claims == 0);  // none claimed alone
        CHECK(jobs.runs.size() == 50);
        for (const auto& run : jobs.runs)  // no structured binding: Clang 14 cannot capture one
            CHECK_MESSAGE(run.second == 1, run.first << " ran " << run.second << " times");
        CHECK(sim.events.count(event_kind::succeeded) == 50);
        CHECK(sim.events.count(event_kind::skipped) == 50);  // b's: held elsewhere
    }

    TEST_CASE_FIXTURE(one_replica, "many slots due together: rounds of 256, 512, ... entries, one batch each") {
        jobs.add_to(s, 1000);
        sim.run_until("2026-11-23T00:00:00Z", {&s});
        CHECK(keys.batches == std::vector<std::size_t>{256, 512, 232});
        pool.run_all();
        CHECK(jobs.runs.size() == 1000);
    }

    TEST_CASE(
        "executor_threads said: slots it cannot start soon are claimed later, as many together as it has threads, "
        "when a thread takes the first") {
        simulation sim;
        counting_keys keys{sim.clock.steady_source()};
        manual_executor pool;
        auto options = sim.options("a", keys);
        options.executor = pool.function();
        options.executor_threads = 2;
        scheduler s{options};
        std::map<std::string, int> runs;
        for (int i = 0; i < 10; ++i) {
            REQUIRE(s.add({"job-" + std::to_string(i),
                           schedule::every(std::chrono::minutes{1}),
                           [&](const job_context& c) {
                               ++runs[c.run_key()];
                               sim.clock.advance(300ms);  // each run takes 300 ms
                           },
                           {.mode = distribution::exactly_once}}));
        }
        sim.run_until("2026-11-23T00:00:00Z", {&s});
        CHECK(keys.batches == std::vector<std::size_t>{10});  // no run time known yet: all in the batch
        pool.run_all();
        sim.run_until("2026-11-23T00:01:00Z", {&s});
        // 2 threads, runs of 300 ms, claim_ahead 250 ms: the 3rd and 4th would start 150
        // and 300 ms late (the queued runs' time over the threads), the 4th past it.
        CHECK(keys.batches == std::vector<std::size_t>{10, 3});
        REQUIRE(pool.pending() == 10);
        pool.run_one();
        pool.run_one();
        pool.run_one();
        CHECK(keys.batches == std::vector<std::size_t>{10, 3});  // the batch's three ran
        pool.run_one();  // the first left out: it claims for itself and the next
        CHECK(keys.batches == std::vector<std::size_t>{10, 3, 2});
        pool.run_one();  // the second of its group: its answer is there
        CHECK(keys.batches == std::vector<std::size_t>{10, 3, 2});
        pool.run_all();
        CHECK(keys.batches == std::vector<std::size_t>{10, 3, 2, 2, 2, 1});
        CHECK(keys.claims == 0);  // none claimed alone
        CHECK(runs.size() == 20);
        for (const auto& run : runs)
            CHECK_MESSAGE(run.second == 1, run.first << " ran " << run.second << " times");
    }

    TEST_CASE(
        "executor_threads said, on real threads: the slots left out are claimed a group at a time, each slot runs "
        "once") {
        counting_keys keys{{}};
        thread_pool pool{3};  // before the scheduler: it outlives the scheduler's runs
        scheduler s{{.backend = keys,
                     .replica = "a",
                     .executor = pool.executor(),
                     .executor_threads = pool.size(),
                     .claim_ahead = 1ms}};
        std::mutex mutex;
        std::map<std::string, int> runs;
        for (int i = 0; i < 12; ++i) {
            REQUIRE(s.add({"job-" + std::to_string(i),
                           schedule::every(1s),
                           [&](const job_context& c) {
                               {
                                   std::lock_guard hold{mutex};
                                   ++runs[c.run_key()];
                               }
                               std::this_thread::sleep_for(20ms);
                           },
                           {.mode = distribution::exactly_once}}));
        }
        runner r{s};
        // The first second: no run time known, all 12 in one batch. Later seconds: 3 free
        // threads, 20 ms runs against 3 ms of claim_ahead: 3 in the batch, 9 in groups of 3.
        REQUIRE(eventually(
            [&] {
                std::lock_guard hold{keys.mutex};
                return std::count(keys.batches.begin(), keys.batches.end(), std::size_t{3}) >= 4;
            },
            5s));
        CHECK(r.stop(2s).clean());
        std::lock_guard hold{mutex};
        for (const auto& run : runs)
            CHECK_MESSAGE(run.second == 1, run.first << " ran " << run.second << " times");
        std::lock_guard held{keys.mutex};
        CHECK(keys.claims == 0);  // nothing claimed alone
    }

    TEST_CASE_FIXTURE(one_replica, "a batch that fails at the backend: each of its slots is claimed again, none lost") {
        jobs.add_to(s, 10);
        keys.fail_next_batch = true;
        sim.run_until("2026-11-23T00:00:00Z", {&s});
        // Each slot's claim failed with the batch, in the pass: retried as a failed claim of its own.
        CHECK(pool.pending() == 0);
        CHECK(jobs.runs.empty());
        CHECK(sim.events.count(event_kind::backend_error) == 1);  // told once per outage
        sim.run_for(2s, {&s});
        pool.run_all();
        CHECK(keys.batches == std::vector<std::size_t>{10, 10});
        CHECK(jobs.runs.size() == 10);
        CHECK(sim.events.count(event_kind::succeeded) == 10);
    }

    TEST_CASE_FIXTURE(one_replica,
                      "a batched key that waited for a thread past its renewal point is renewed before its run") {
        jobs.add_to(s, 3);
        sim.run_until("2026-11-23T00:00:00Z", {&s});
        REQUIRE(pool.pending() == 3);
        SUBCASE("renewed: the runs go, under the batch's tokens") {
            sim.clock.advance(11s);  // the default 30 s lease is renewed every 10 s
            pool.run_all();
            CHECK(keys.renewals == 3);
            CHECK(jobs.runs.size() == 3);
            CHECK(keys.claims == 0);
        }
        SUBCASE("refused: the runs claim again, find the keys held, and do not run") {
            keys.renewals_refused = true;
            sim.clock.advance(11s);
            pool.run_all();
            CHECK(keys.renewals == 3);
            CHECK(keys.claims == 3);
            CHECK(jobs.runs.empty());
        }
        SUBCASE("started in time: no renewal") {
            sim.clock.advance(9s);
            pool.run_all();
            CHECK(keys.renewals == 0);
            CHECK(jobs.runs.size() == 3);
        }
    }

    TEST_CASE("runs inline (no executor) claim one at a time: a batch of one is no batch") {
        simulation sim;
        counting_keys keys{sim.clock.steady_source()};
        scheduler s{sim.options("a", keys)};
        fleet_of_jobs jobs;
        jobs.add_to(s, 5);
        sim.run_until("2026-11-23T00:00:00Z", {&s});
        CHECK(keys.batches.empty());
        CHECK(keys.claims == 5);
        CHECK(jobs.runs.size() == 5);
    }
}

// A store whose settle_many holds its first batch until the test lets it go, and answers
// each item from its name: "ok-..." completes, anything else does not.
struct held_settles {
    std::mutex mutex;
    std::condition_variable released;
    bool holding = true, first_entered = false;
    std::vector<std::size_t> batches;

    result<grant, backend_error> claim(std::string_view, std::chrono::milliseconds) { return grant{}; }
    result<bool, backend_error> renew(lease&, std::chrono::milliseconds) { return false; }
    result<bool, backend_error> complete(const lease&, std::chrono::milliseconds) { return false; }
    result<bool, backend_error> release(const lease&) { return false; }
    result<std::vector<key_settled>, backend_error> settle_many(std::span<const key_settlement> batch) {
        std::unique_lock lock{mutex};
        batches.push_back(batch.size());
        if (batches.size() == 1) {
            first_entered = true;
            released.wait(lock, [&] { return !holding; });
        }
        std::vector<key_settled> out;
        for (const auto& item : batch)
            out.push_back({.key = item.key->name.starts_with("ok-"), .recorded = item.record.has_value()});
        return out;
    }
    bool entered() {
        std::lock_guard hold{mutex};
        return first_entered;
    }
    void let_go() {
        std::lock_guard hold{mutex};
        holding = false;
        released.notify_all();
    }
};

TEST_SUITE("settle queue") {
    TEST_CASE("runs that end while a batch is on the wire go together in the next -- each gets its own answer") {
        held_settles store;
        detail::settle_queue queue{backend_ref{store}};
        std::vector<lease> leases(8);
        std::vector<key_settled> answers(8);
        for (std::size_t i = 0; i < leases.size(); ++i)
            leases[i].name = (i % 2 == 0 ? "ok-" : "no-") + std::to_string(i);
        const auto settle = [&](std::size_t i) {
            answers[i] = queue.settle({.key = &leases[i],
                                       .completed = true,
                                       .job = "j",
                                       .record = i == 3 ? std::optional{std::chrono::sys_seconds{}} : std::nullopt});
        };
        std::vector<std::thread> runs;
        runs.emplace_back(settle, 0);
        REQUIRE(eventually([&] { return store.entered(); }));
        for (std::size_t i = 1; i < 8; ++i)
            runs.emplace_back(settle, i);
        REQUIRE(eventually([&] { return queue.queued() == 7; }));
        store.let_go();
        for (auto& t : runs)
            t.join();
        CHECK(store.batches == std::vector<std::size_t>{1, 7});
        for (std::size_t i = 0; i < 8; ++i) {
            REQUIRE(answers[i].key.has_value());
            CHECK(*answers[i].key == (i % 2 == 0));
            CHECK(*answers[i].recorded == (i == 3));
        }
    }

    TEST_CASE("a run that ends while a batch is on the wire does not wait: the sender hands its answer on") {
        held_settles store;
        detail::settle_queue queue{backend_ref{store}};
        std::vector<lease> leases(4);
        std::vector<key_settlement> items(4);
        for (std::size_t i = 0; i < leases.size(); ++i) {
            leases[i].name = "ok-" + std::to_string(i);
            items[i] = {.key = &leases[i], .completed = true, .job = "j"};
        }
        std::mutex mutex;
        std::vector<std::pair<std::size_t, std::thread::id>> answered;  // item, thread
        const auto then = [&](std::size_t i) {
            return [&, i](key_settled a) {
                CHECK(*a.key);
                std::lock_guard hold{mutex};
                answered.emplace_back(i, std::this_thread::get_id());
            };
        };
        std::thread::id sender_id;
        std::thread sender{[&] {
            sender_id = std::this_thread::get_id();
            queue.settle(items[0], then(0));
        }};
        REQUIRE(eventually([&] { return store.entered(); }));
        for (std::size_t i = 1; i < 4; ++i)
            queue.settle(items[i], then(i));  // returns at once: the batch on the wire is not its
        CHECK(queue.queued() == 3);
        {
            std::lock_guard hold{mutex};
            CHECK(answered.empty());
        }
        store.let_go();
        sender.join();  // the sender went on with what queued, and answered it
        CHECK(store.batches == std::vector<std::size_t>{1, 3});
        REQUIRE(answered.size() == 4);
        for (std::size_t i = 0; i < 4; ++i) {
            CHECK(answered[i].first == i);
            CHECK(answered[i].second == sender_id);
        }
        CHECK(queue.queued() == 0);
    }

    TEST_CASE("a batch that fails gives each of its runs the error") {
        struct failing : held_settles {
            result<std::vector<key_settled>, backend_error> settle_many(std::span<const key_settlement>) {
                return backend_error{backend_errc::timeout, "redis at 127.0.0.1:6379 did not answer within 2000 ms"};
            }
        } store;
        detail::settle_queue queue{backend_ref{store}};
        lease one;
        one.name = "ok-1";
        const auto answer =
            queue.settle({.key = &one, .completed = true, .job = "j", .record = std::chrono::sys_seconds{}});
        REQUIRE_FALSE(answer.key.has_value());
        CHECK(answer.key.error().code == backend_errc::timeout);
        REQUIRE_FALSE(answer.recorded.has_value());
        CHECK(answer.recorded.error().code == backend_errc::timeout);
    }
}

}  // namespace
}  // namespace sked::test

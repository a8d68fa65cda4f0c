#include "sked/asio.hpp"

#include <doctest/doctest.h>

#include <sked/memory_backend.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../support/eventually.hpp"
#include "../support/numbered.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;
namespace net = sked::asio::net;

std::chrono::sys_seconds this_second() { return std::chrono::floor<std::chrono::seconds>(system_now()); }

// An io_context run by `n` threads until the object goes.
struct io_threads {
    net::io_context io;
    net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(io);
    std::vector<std::jthread> threads;
    explicit io_threads(int n) {
        for (int i = 0; i < n; ++i)
            threads.emplace_back([this] { io.run(); });
    }
    ~io_threads() {
        work.reset();
        io.stop();
    }
};

const job_counters& counters_of(const scheduler_status& status, std::string_view job) {
    for (const auto& j : status.jobs)
        if (j.name == job) return j.stats.counts;
    FAIL("no job " << job);
    static const job_counters none{};
    return none;
}

TEST_SUITE("asio driver") {
    TEST_CASE("driver: run_for(3500ms) runs an every(1s) job in the current second and each of the next 3") {
        net::io_context io;
        net::thread_pool pool{2};
        scheduler s{{.executor = asio::post_to(pool)}};
        std::atomic<int> runs{0};
        REQUIRE(s.add({"tick", schedule::every(1s), [&](const job_context&) { ++runs; }}));
        asio::driver d{io.get_executor(), s};
        d.start();
        io.run_for(3500ms);
        // The slots floor(start) .. floor(start) + 3 are all due within 3.5 s of the start.
        CHECK(runs == 4);
        CHECK(d.passes() >= 4);
        std::optional<shutdown_report> report;
        d.async_stop(1s, [&](shutdown_report r) { report = std::move(r); });
        io.restart();
        io.run_for(2s);
        REQUIRE(report);
        CHECK(report->clean());
        pool.join();
    }

    TEST_CASE("driver: a forward step of the wall clock is acted on within max_wait, not at the old deadline") {
        std::atomic<std::chrono::milliseconds::rep> step_ms{0};
        scheduler s{{.clock = [&] { return system_now() + std::chrono::milliseconds{step_ms.load()}; }}};
        std::atomic<int> runs{0};
        REQUIRE(
            s.add({"midnight", schedule::cron(cron::parse("0 0 * * *").value()), [&](const job_context&) { ++runs; }}));
        io_threads io{1};
        asio::driver d{io.io.get_executor(), s, {.max_wait = 100ms}};
        d.start();
        std::this_thread::sleep_for(150ms);  // the timer waits toward a deadline hours away
        const auto midnight = std::chrono::ceil<std::chrono::days>(s.now() + 1s);
        step_ms = (midnight - system_now() - 50ms).count();  // the clock is set to 50 ms before midnight
        CHECK(eventually([&] { return runs == 1; }, 3s));
        CHECK(d.async_stop(1s, net::use_future).get().clean());
    }

    TEST_CASE(
        "driver: a step back of the wall clock holds the next slot back as the clock says, and the step "
        "forward again is acted on within max_wait") {
        std::atomic<std::chrono::milliseconds::rep> step_ms{0};
        scheduler s{{.clock = [&] { return system_now() + std::chrono::milliseconds{step_ms.load()}; }}};
        std::atomic<int> runs{0};
        REQUIRE(s.add({"tick", schedule::every(1s), [&](const job_context&) { ++runs; }}));
        io_threads io{1};
        asio::driver d{io.io.get_executor(), s, {.max_wait = 100ms}};
        d.start();
        REQUIRE(eventually([&] { return runs >= 1; }, 3s));
        step_ms = -3'600'000;  // an hour back: the next slot is an hour away
        const int before = runs;
        const auto passes = d.passes();
        std::this_thread::sleep_for(1500ms);
        CHECK(runs == before);
        CHECK(d.passes() >= passes + 5);  // still looking at the clock, every max_wait
        step_ms = 0;  // and forward again: the slot is due
        CHECK(eventually([&] { return runs > before; }, 1s));
        CHECK(d.async_stop(1s, net::use_future).get().clean());
    }

    TEST_CASE("driver: add() while the timer waits 60 s wakes it at once") {
        scheduler s;
        io_threads io{1};
        asio::driver d{io.io.get_executor(), s, {.max_wait = 60s}};
        d.start();
        std::this_thread::sleep_for(100ms);  // the first pass is over; the timer waits 60 s
        std::atomic<int> runs{0};
        const auto added = std::chrono::steady_clock::now();
        REQUIRE(s.add({"now", schedule::once(this_second()), [&](const job_context&) { ++runs; }}));
        REQUIRE(eventually([&] { return runs == 1; }, 5s));
        CHECK(std::chrono::steady_clock::now() - added < 5s);
        CHECK(d.async_stop(1s, net::use_future).get().clean());
    }

    TEST_CASE("driver: idle, it passes about once per max_wait") {
        net::io_context io;
        scheduler s;
        asio::driver d{io.get_executor(), s, {.max_wait = 200ms}};
        d.start();
        io.run_for(1100ms);
        // One pass at the start, then one per 200 ms: 6 on an idle machine.
        CHECK(d.passes() >= 3);
        CHECK(d.passes() <= 8);
    }

    TEST_CASE(
        "driver: async_stop requests stop, waits, reports the run that did not finish -- callback, "
        "use_future, use_awaitable") {
        net::thread_pool pool{3};
        scheduler s{{.executor = asio::post_to(pool)}};
        std::atomic<int> started{0};
        std::atomic<bool> release_stubborn{false};
        REQUIRE(s.add({"polite", schedule::once(this_second()), [&](const job_context& c) {
                           ++started;
                           while (!c.stop_requested())
                               std::this_thread::sleep_for(1ms);
                       }}));
        REQUIRE(s.add({"stubborn", schedule::once(this_second()), [&](const job_context&) {
                           ++started;
                           while (!release_stubborn)
                               std::this_thread::sleep_for(1ms);
                       }}));
        io_threads io{4};
        asio::driver d{io.io.get_executor(), s};
        d.start();
        REQUIRE(eventually([&] { return started == 2; }));
        shutdown_report report;
        SUBCASE("a callback") {
            std::promise<shutdown_report> got;
            d.async_stop(300ms, [&](shutdown_report r) { got.set_value(std::move(r)); });
            report = got.get_future().get();
        }
        SUBCASE("use_future") { report = d.async_stop(300ms, net::use_future).get(); }
        SUBCASE("use_awaitable") {
            auto stopping = net::co_spawn(
                io.io,
                [&]() -> net::awaitable<shutdown_report> {
                    co_return co_await d.async_stop(300ms, net::use_awaitable);
                },
                net::use_future);
            report = stopping.get();
        }
        CHECK(report.stop_requested == 2);
        REQUIRE(report.unfinished.size() == 1);
        CHECK(report.unfinished[0].job == "stubborn");
        CHECK(s.run_due() == 0);  // dispatching has stopped
        CHECK(d.async_stop(1s, net::use_future).get().stop_requested == 0);  // a second stop: nothing new
        release_stubborn = true;  // lets the pool and the scheduler shut down
        pool.join();
    }

    TEST_CASE("driver: 50 exactly-once jobs every second on 2 io threads and a pool -- each slot runs once") {
        net::thread_pool pool{4};
        memory_keys keys;
        scheduler s{{.backend = keys, .executor = asio::post_to(pool)}};
        std::mutex m;
        std::map<std::string, std::vector<std::chrono::sys_seconds>> runs;
        for (std::size_t j = 0; j < 50; ++j)
            REQUIRE(s.add({numbered("job", j),
                           schedule::every(1s),
                           [&](const job_context& c) {
                               std::lock_guard hold{m};
                               runs[std::string{c.job}].push_back(c.nominal);
                           },
                           {.mode = distribution::exactly_once}}));
        io_threads io{2};
        asio::driver d{io.io.get_executor(), s};
        d.start();
        std::this_thread::sleep_for(2500ms);
        CHECK(d.async_stop(2s, net::use_future).get().clean());
        std::lock_guard hold{m};
        REQUIRE(runs.size() == 50);
        for (const auto& entry : runs) {
            const auto& slots = entry.second;
            INFO(entry.first);
            CHECK(slots.size() >= 3);
            for (std::size_t i = 1; i < slots.size(); ++i)
                CHECK(slots[i] == slots[i - 1] + 1s);  // in order, none twice, none missed
        }
        pool.join();
    }

    TEST_CASE("driver: destroyed while its io_context runs on other threads, it stops driving and leaves nothing") {
        net::thread_pool pool{2};
        scheduler s{{.executor = asio::post_to(pool)}};
        std::atomic<int> runs{0};
        REQUIRE(s.add({"tick", schedule::every(1s), [&](const job_context&) { ++runs; }}));
        io_threads io{2};
        {
            asio::driver d{io.io.get_executor(), s, {.max_wait = 5ms}};
            d.start();
            REQUIRE(eventually([&] { return runs == 1; }, 3s));
        }
        const int seen = runs;
        std::this_thread::sleep_for(1200ms);  // a slot came due: nobody drives
        CHECK(runs == seen);
        s.stop_dispatching();
        CHECK(s.wait_idle(std::chrono::steady_clock::now() + 1s).empty());
        pool.join();
    }
}

// Waits 30 s unless cancelled. Terminal cancellation (asio 1.19 and later) reaches any
// operation, not only sleep_for; before that, sleep_for is the way.
net::awaitable<void> wait_until_cancelled([[maybe_unused]] const job_context& c) {
#if SKED_ASIO_HAS_CANCELLATION_SLOTS
    net::steady_timer plain{co_await net::this_coro::executor, 30s};
    co_await plain.async_wait(net::use_awaitable);
#else
    co_await asio::sleep_for(c.stop, 30s);
#endif
}

TEST_SUITE("asio coroutine jobs") {
    // A coroutine job, its scheduler on a pool, and the io_context it runs on.
    struct coroutine_fixture {
        net::thread_pool pool{2};
        std::mutex failures_mutex;
        std::vector<std::string> failures;  // the failed events' messages
        scheduler s{{.executor = asio::post_to(pool), .hooks = {[this](const event& e) {
                                                          if (e.kind != event_kind::failed) return;
                                                          const std::lock_guard hold{failures_mutex};
                                                          failures.emplace_back(e.message);
                                                      }}}};
        io_threads io{2};
        asio::driver<net::io_context::executor_type> d{io.io.get_executor(), s};
        ~coroutine_fixture() { pool.join(); }
    };

    TEST_CASE("coroutine: a job that is an awaitable runs on the io_context; returning succeeds, throwing fails") {
        coroutine_fixture f;
        std::atomic<bool> ran_on_io{false};
        const auto io_ex = f.io.io.get_executor();
        REQUIRE(f.s.add({"fine", schedule::once(this_second()),
                         asio::coroutine(io_ex, [&](const job_context& c) -> net::awaitable<void> {
                             co_await asio::sleep_for(c.stop, 20ms);
                             ran_on_io = f.io.io.get_executor().running_in_this_thread();
                         })}));
        REQUIRE(f.s.add({"broken", schedule::once(this_second()),
                         asio::coroutine(io_ex, [](const job_context&) -> net::awaitable<void> {
                             co_await net::post(net::use_awaitable);
                             throw std::runtime_error{"no rewards table"};
                         })}));
        f.d.start();
        REQUIRE(eventually([&] {
            const auto st = f.s.status();
            return counters_of(st, "fine").succeeded == 1 && counters_of(st, "broken").failed == 1;
        }));
        CHECK(ran_on_io);
        CHECK(f.d.async_stop(1s, net::use_future).get().clean());
        const std::lock_guard hold{f.failures_mutex};
        CHECK(f.failures == std::vector<std::string>{"no rewards table"});
    }

    TEST_CASE("coroutine: the job's timeout cancels it (sleep_for, every asio version)") {
        coroutine_fixture f;
        std::atomic<bool> woke_normally{false};
        REQUIRE(f.s.add({"slow",
                         schedule::once(this_second()),
                         asio::coroutine(f.io.io.get_executor(),
                                         [&](const job_context& c) -> net::awaitable<void> {
                                             co_await asio::sleep_for(c.stop, 30s);
                                             woke_normally = true;
                                         }),
                         {.timeout = 100ms}}));
        f.d.start();
        REQUIRE(eventually([&] { return counters_of(f.s.status(), "slow").timed_out == 1; }, 5s));
        CHECK_FALSE(woke_normally);
        CHECK(f.d.async_stop(1s, net::use_future).get().clean());
    }

    TEST_CASE("coroutine: shutdown cancels a running coroutine job, and the stop is clean") {
        coroutine_fixture f;
        std::atomic<bool> started{false};
        REQUIRE(f.s.add({"long", schedule::once(this_second()),
                         asio::coroutine(f.io.io.get_executor(), [&](const job_context& c) -> net::awaitable<void> {
                             started = true;
                             co_await wait_until_cancelled(c);
                         })}));
        f.d.start();
        REQUIRE(eventually([&] { return started.load(); }));
        const auto report = f.d.async_stop(5s, net::use_future).get();
        CHECK(report.stop_requested == 1);
        CHECK(report.clean());
        CHECK(counters_of(f.s.status(), "long").failed == 1);  // operation_aborted: a stopped run
    }
}

}  // namespace
}  // namespace sked::test

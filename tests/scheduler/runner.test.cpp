#include "sked/runner.hpp"

#include <doctest/doctest.h>

#include <sked/memory_backend.hpp>
#include <sked/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "../support/eventually.hpp"
#include "../support/numbered.hpp"
#include "sim.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;

std::chrono::sys_seconds whole_seconds_from_now(int n) {
    return std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now()) + std::chrono::seconds{n};
}

TEST_SUITE("runner") {
    TEST_CASE("runner: sleeps until the due time, is woken by new jobs, runs them on the pool") {
        thread_pool pool{2};
        recorder events;
        scheduler s{{.executor = pool.executor(), .hooks = {events.hook()}}};
        runner r{s};
        std::atomic<int> runs{0};
        // Added while the runner sleeps with nothing to do: it must wake for it.
        REQUIRE(s.add({"soon", schedule::once(whole_seconds_from_now(0)), [&](const job_context&) { ++runs; }}));
        REQUIRE(eventually([&] { return runs == 1; }));
        CHECK(s.run_now("soon"));
        REQUIRE(eventually([&] { return runs == 2; }));
        const auto report = r.stop(1s);
        CHECK(report.clean());
        CHECK(events.count(event_kind::succeeded) == 2);
    }

    TEST_CASE("runner: a forward step of the wall clock is acted on within max_wait, not at the old deadline") {
        std::atomic<std::chrono::milliseconds::rep> step_ms{0};
        scheduler s{{.clock = [&] { return system_now() + std::chrono::milliseconds{step_ms.load()}; }}};
        std::atomic<int> runs{0};
        REQUIRE(
            s.add({"midnight", schedule::cron(cron::parse("0 0 * * *").value()), [&](const job_context&) { ++runs; }}));
        runner r{s, {.max_wait = 100ms}};
        std::this_thread::sleep_for(150ms);  // the runner sleeps toward a deadline hours away
        const auto midnight = std::chrono::ceil<std::chrono::days>(s.now() + 1s);
        step_ms = (midnight - system_now() - 50ms).count();  // the clock is set to 50 ms before midnight
        REQUIRE(eventually([&] { return runs == 1; }, 3s));
        (void)r.stop(1s);
    }

    TEST_CASE("runner: stop() requests stop on running jobs, waits, and reports the ones that did not finish") {
        thread_pool pool{2};
        scheduler s{{.executor = pool.executor()}};
        runner r{s};
        std::atomic<int> started{0};
        std::atomic<bool> release_stubborn{false};
        REQUIRE(s.add({"polite", schedule::once(whole_seconds_from_now(0)), [&](const job_context& c) {
                           ++started;
                           while (!c.stop_requested())
                               std::this_thread::sleep_for(1ms);
                       }}));
        REQUIRE(s.add({"stubborn", schedule::once(whole_seconds_from_now(0)), [&](const job_context&) {
                           ++started;
                           while (!release_stubborn)
                               std::this_thread::sleep_for(1ms);
                       }}));
        REQUIRE(eventually([&] { return started == 2; }));
        const auto report = r.stop(200ms);
        CHECK(report.stop_requested == 2);
        REQUIRE(report.unfinished.size() == 1);
        CHECK(report.unfinished[0].job == "stubborn");
        CHECK(s.run_due() == 0);  // dispatching has stopped
        release_stubborn = true;  // lets the pool and the scheduler shut down
    }

    TEST_CASE("runner: jobs added, paused and run from many threads while it runs (ThreadSanitizer)") {
        thread_pool pool{3};
        memory_keys keys;
        recorder events;
        scheduler s{{.backend = keys, .executor = pool.executor(), .hooks = {events.hook()}}};
        runner r{s};
        std::atomic<int> runs{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 100; ++i) {
                    const auto name = numbered("job", static_cast<std::size_t>((t * 7 + i) % 10));
                    (void)s.add({name,
                                 schedule::every(1s),
                                 [&](const job_context&) { ++runs; },
                                 {.mode = i % 2 ? distribution::exactly_once : distribution::local,
                                  .on_overlap = overlap::allow}});
                    (void)s.run_now(name);
                    if (i % 10 == 0) (void)s.pause(name);
                    if (i % 10 == 5) (void)s.resume(name);
                    (void)s.status();
                }
            });
        }
        for (auto& t : threads)
            t.join();
        REQUIRE(eventually([&] { return events.count(event_kind::started) == events.count(event_kind::succeeded); }));
        CHECK(r.stop(5s).clean());
        CHECK(s.size() == 10);
        CHECK(runs == static_cast<int>(events.count(event_kind::succeeded)));
        CHECK(runs > 0);
    }
}

}  // namespace
}  // namespace sked::test

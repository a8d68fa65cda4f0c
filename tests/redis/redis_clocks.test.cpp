// The two-clock rules of tests/scheduler/faults.test.cpp on the Redis backend. A lease on
// Redis runs out on the server's clock, so these run in real time: each replica's steady
// clock is the real one, and its wall clock is the real one plus an offset the test
// steps. Two replicas live in this process, each with its own connection and pool, and
// the test drives both (a runner needs the real wall clock).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "../scheduler/sim.hpp"
#include "../support/redis_server.hpp"
#include "sked/redis/store.hpp"
#include "sked/scheduler.hpp"
#include "sked/thread_pool.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// A replica: the real wall clock plus `offset`, the real steady clock, a pool of its own.
struct replica_here {
    std::atomic<milliseconds::rep> offset_ms{0};
    redis::keys keys;
    thread_pool pool{2};  // before the scheduler, so it outlives the scheduler's runs
    scheduler engine;

    replica_here(const std::string& prefix, const std::string& name, recorder& events)
        : keys{shared_redis_server().client(prefix)},
          engine{{.clock = [this] { return system_now() + milliseconds{offset_ms.load()}; },
                  .backend = keys,
                  .replica = name,
                  .executor = pool.executor(),
                  .hooks = {events.hook()}}} {}

    void step(milliseconds by) { offset_ms += by.count(); }
};

// Drives the replicas every 10 ms until `done` or `longest` has passed (steady).
void drive(
    std::vector<replica_here*> replicas, std::chrono::steady_clock::duration longest,
    const std::function<bool()>& done = [] { return false; }) {
    const auto until = std::chrono::steady_clock::now() + longest;
    while (std::chrono::steady_clock::now() < until && !done()) {
        for (auto* r : replicas)
            r->engine.run_due();
        std::this_thread::sleep_for(10ms);
    }
}

std::size_t count_for_slot(recorder& events, event_kind kind, const std::string& slot) {
    std::size_t n = 0;
    for (const auto& e : events.of(kind))
        n += e.slot == slot;
    return n;
}

// Drives `r` until the dead holder's slot ran there, once, fenced above the dead lease.
void recovers(replica_here& r, recorder& events, std::chrono::sys_seconds dead_slot, fence_token dead_fence) {
    const auto slot = utc(dead_slot);
    CAPTURE(slot);
    drive({&r}, 5s, [&] { return count_for_slot(events, event_kind::succeeded, slot) > 0; });
    CHECK(count_for_slot(events, event_kind::succeeded, slot) == 1);
    for (const auto& e : events.of(event_kind::succeeded))
        if (e.slot == slot) CHECK(e.fence > dead_fence);
}

TEST_SUITE("redis clocks") {
    TEST_CASE(
        "redis: a backward wall step on the holder mid-run: it renews on the steady clock -- the slot runs once") {
        const auto prefix = fresh_prefix();
        recorder events;
        replica_here a{prefix, "a", events}, b{prefix, "b", events};
        std::atomic<std::int64_t> stepped_slot{0};
        // The first run on either replica steps its own wall clock back an hour, then
        // works 3 s, three lease lengths, while both replicas go on.
        const auto body_of = [&](replica_here& self) {
            return [&](const job_context& c) {
                std::int64_t none = 0;
                if (!stepped_slot.compare_exchange_strong(none, c.nominal.time_since_epoch().count())) return;
                self.step(-1h);
                std::this_thread::sleep_for(3s);
                CHECK_FALSE(c.stop_requested());
            };
        };
        const job_options o{.lease_ttl = 1s};
        REQUIRE(a.engine.add({"reward", schedule::every(1s), body_of(a), o}));
        REQUIRE(b.engine.add({"reward", schedule::every(1s), body_of(b), o}));
        drive({&a, &b}, 10s, [&] {
            for (const auto& e : events.of(event_kind::succeeded))
                if (e.duration >= 3s) return true;
            return false;
        });
        REQUIRE(stepped_slot != 0);
        const auto slot = utc(std::chrono::sys_seconds{std::chrono::seconds{stepped_slot.load()}});
        CAPTURE(slot);
        CHECK(count_for_slot(events, event_kind::started, slot) == 1);
        CHECK(events.count(event_kind::lease_lost) == 0);
        std::vector<seen> long_runs;
        for (const auto& e : events.of(event_kind::succeeded))
            if (e.slot == slot) long_runs.push_back(e);
        REQUIRE(long_runs.size() == 1);
        CHECK(long_runs[0].duration >= 3s);  // the steady clock's, not -3597 s
        CHECK(long_runs[0].duration < 4s);
    }

    TEST_CASE("redis: a forward wall step mid-run does not time the run out -- the timeout is steady") {
        const auto prefix = fresh_prefix();
        recorder events;
        replica_here a{prefix, "a", events};
        std::atomic<bool> stepped{false};
        const auto body = [&](const job_context& c) {
            if (stepped.exchange(true)) return;
            a.step(1h);
            std::this_thread::sleep_for(1500ms);
            CHECK_FALSE(c.stop_requested());
        };
        REQUIRE(a.engine.add({"sweep", schedule::every(1s), body, {.timeout = 2s, .lease_ttl = 1s}}));
        drive({&a}, 6s, [&] {
            for (const auto& e : events.of(event_kind::succeeded))
                if (e.duration >= 1500ms) return true;
            return false;
        });
        CHECK(events.count(event_kind::timed_out) == 0);
        CHECK(events.count(event_kind::lease_lost) == 0);
        std::size_t long_ok = 0;
        for (const auto& e : events.of(event_kind::succeeded))
            long_ok += e.duration >= 1500ms;
        CHECK(long_ok == 1);
    }

    TEST_CASE(
        "redis: a run that returns after its lease ran out (a pause) is lease_lost, never ok; the slot runs "
        "once more, fenced higher") {
        const auto prefix = fresh_prefix();
        recorder events;
        replica_here a{prefix, "a", events}, b{prefix, "b", events};
        std::atomic<std::int64_t> paused_slot{0};
        std::atomic<bool> a_paused{false};
        // a's first run stands for a process paused past its lease: neither it nor a's
        // scheduler (which would renew) does anything for 2.5 s.
        const auto a_body = [&](const job_context& c) {
            std::int64_t none = 0;
            if (!paused_slot.compare_exchange_strong(none, c.nominal.time_since_epoch().count())) return;
            a_paused = true;
            std::this_thread::sleep_for(2500ms);
            a_paused = false;
        };
        const job_options o{.lease_ttl = 1s};
        REQUIRE(a.engine.add({"drop", schedule::every(1s), a_body, o}));
        REQUIRE(b.engine.add({"drop", schedule::every(1s), [](const job_context&) {}, o}));
        const auto until = std::chrono::steady_clock::now() + 8s;
        while (std::chrono::steady_clock::now() < until &&
               (paused_slot == 0 || a_paused || events.count(event_kind::lease_lost) == 0)) {
            if (!a_paused) a.engine.run_due();
            b.engine.run_due();
            std::this_thread::sleep_for(10ms);
        }
        REQUIRE(paused_slot != 0);
        const auto slot = utc(std::chrono::sys_seconds{std::chrono::seconds{paused_slot.load()}});
        CAPTURE(slot);
        fence_token lost_fence = 0, ok_fence = 0;
        for (const auto& e : events.all()) {
            if (e.slot != slot) continue;
            if (e.kind == event_kind::started && e.replica == "a") lost_fence = e.fence;
            if (e.kind == event_kind::succeeded) {
                CHECK(e.replica == "b");  // never a
                ok_fence = e.fence;
            }
        }
        CHECK(count_for_slot(events, event_kind::lease_lost, slot) == 1);
        CHECK(count_for_slot(events, event_kind::succeeded, slot) == 1);
        CHECK(ok_fence > lost_fence);
    }

    TEST_CASE(
        "redis: a dead holder's slot is recovered while the job's next slots run here (a recheck is no overlap)") {
        const auto prefix = fresh_prefix();
        recorder events;
        replica_here b{prefix, "b", events};
        // A replica claimed the next second's slot, with a lease that outlasts its start
        // here, and was SIGKILLed.
        const auto dead_slot = std::chrono::ceil<std::chrono::seconds>(system_now());
        redis::keys dead{shared_redis_server().client(prefix)};
        const auto held = dead.claim(run_key("tick", dead_slot), 2s);
        REQUIRE(held);
        REQUIRE(held->acquired());
        REQUIRE(b.engine.add({"tick", schedule::every(1s), [](const job_context&) {}, {.lease_ttl = 1s}}));
        recovers(b, events, dead_slot, held->lease.fence);
        CHECK(events.count(event_kind::skipped, skip_reason::overlap) == 0);
        CHECK(events.count(event_kind::succeeded) >= 2);  // its own slots ran meanwhile
    }

    TEST_CASE("redis: a replica that starts after a holder died recovers the slot it abandoned, which it never saw") {
        const auto prefix = fresh_prefix();
        const auto dead_slot = std::chrono::floor<std::chrono::seconds>(system_now()) - 1s;
        redis::keys dead{shared_redis_server().client(prefix)};
        const auto held = dead.claim(run_key("reward", dead_slot), 500ms);
        REQUIRE(held);
        REQUIRE(held->acquired());
        std::this_thread::sleep_for(700ms);  // its lease runs out
        recorder events;
        replica_here b{prefix, "b", events};
        REQUIRE(b.engine.add({"reward", schedule::every(1s), [](const job_context&) {}, {.lease_ttl = 1s}}));
        recovers(b, events, dead_slot, held->lease.fence);
    }
}

}  // namespace
}  // namespace sked::test

// Correct under faults, on a virtual clock: wall-clock steps, pauses longer than the
// lease, dead holders. The wall clock of a replica is the shared virtual time plus an
// offset of its own that a test steps; the steady clock (leases, renewals, timeouts) is
// the shared one, as in real life, where a step moves only the wall clock.
#include <doctest/doctest.h>

#include <sked/memory_backend.hpp>
#include <sked/scheduler.hpp>

#include <algorithm>
#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "sim.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

/// A replica's wall clock: the simulation's, stepped by `offset`.
struct stepped_wall {
    const virtual_clock& shared;
    std::atomic<milliseconds::rep> offset_ms{0};

    void step(milliseconds by) { offset_ms += by.count(); }
    [[nodiscard]] instant now() const { return shared.now() + milliseconds{offset_ms.load()}; }
    [[nodiscard]] clock_source source() const {
        return [this] { return now(); };
    }
};

scheduler_options replica_options(simulation& sim, std::string name, memory_keys& keys, manual_executor& pool,
                                  const stepped_wall& wall) {
    auto o = sim.options(std::move(name), keys);
    o.clock = wall.source();
    o.executor = pool.function();
    return o;
}

std::size_t count_of(const std::vector<seen>& events, event_kind kind, std::string_view replica) {
    std::size_t n = 0;
    for (const auto& e : events)
        n += e.kind == kind && e.replica == replica;
    return n;
}

// Replicas a and b sharing a memory backend, each with its own wall clock and executor.
struct two_replicas {
    simulation sim;
    memory_keys keys{sim.clock.steady_source()};
    manual_executor pool_a, pool_b;
    stepped_wall wall_a{sim.clock}, wall_b{sim.clock};
    scheduler a{replica_options(sim, "a", keys, pool_a, wall_a)};
    scheduler b{replica_options(sim, "b", keys, pool_b, wall_b)};
};

// Replica b alone on a memory backend, with its own wall clock and an executor that
// holds its runs until the test lets them go.
struct replica_b {
    simulation sim;
    memory_keys keys{sim.clock.steady_source()};
    manual_executor pool;
    stepped_wall wall{sim.clock};
    scheduler b{replica_options(sim, "b", keys, pool, wall)};
};

TEST_SUITE("faults") {
    TEST_CASE("a backward wall-clock step on the holder: it keeps renewing on the steady clock -- the slot runs once") {
        two_replicas r;  // references, not a structured binding: clang 14 cannot capture those in lambdas
        auto& sim = r.sim;
        auto &pool_a = r.pool_a, &pool_b = r.pool_b;
        auto &wall_a = r.wall_a, &wall_b = r.wall_b;
        auto &a = r.a, &b = r.b;
        const job_options o{.lease_ttl = 3s};
        const auto body = [&](const job_context& c) {
            if (c.nominal != at("2026-11-23T00:00:00Z")) return;
            pool_b.run_all();  // b claims the same slot: held
            wall_a.step(-1h);
            for (int second = 0; second < 10; ++second) {  // 10 s of work; both replicas go on
                sim.clock.advance(1s);
                a.run_due(wall_a.now());
                b.run_due(wall_b.now());
                pool_b.run_all();
                CHECK_FALSE(c.stop_requested());
            }
        };
        REQUIRE(a.add({"reward", schedule::every(30s), body, o}));
        REQUIRE(b.add({"reward", schedule::every(30s), body, o}));
        a.run_due(wall_a.now());
        b.run_due(wall_b.now());
        pool_a.run_one();  // a claims 00:00:00 and works for 10 s

        const auto events = sim.events.all();
        CHECK(sim.events.slots(event_kind::started) == std::vector<std::string>{"2026-11-23T00:00:00Z"});
        CHECK(count_of(events, event_kind::lease_lost, "a") == 0);
        const auto done = sim.events.of(event_kind::succeeded);
        REQUIRE(done.size() == 1);
        CHECK(done[0].replica == "a");
        CHECK(done[0].duration == 10s);  // measured on the steady clock, not -3590 s
        CHECK(done[0].at == moment("2026-11-22T23:00:10Z"));  // stamped on the wall clock
    }

    TEST_CASE("a forward wall-clock step mid-run does not time the run out -- the timeout is steady") {
        simulation sim;
        memory_keys keys{sim.clock.steady_source()};
        manual_executor pool;
        stepped_wall wall{sim.clock};
        scheduler s{replica_options(sim, "a", keys, pool, wall)};
        bool stopped = false;
        REQUIRE(s.add({"sweep",
                       schedule::once(at("2026-11-23T00:00:00Z")),
                       [&](const job_context& c) {
                           wall.step(1h);
                           sim.clock.advance(2s);
                           s.run_due(wall.now());
                           stopped = c.stop_requested();
                       },
                       {.timeout = 5s}}));
        s.run_due(wall.now());
        pool.run_all();
        CHECK_FALSE(stopped);
        CHECK(sim.events.count(event_kind::timed_out) == 0);
        const auto done = sim.events.of(event_kind::succeeded);
        REQUIRE(done.size() == 1);
        CHECK(done[0].duration == 2s);
    }

    TEST_CASE("after a forward step, the slots now due run at the next look at the clock") {
        simulation sim{"2026-11-23T12:00:00Z"};
        stepped_wall wall{sim.clock};
        auto o = sim.options("a");
        o.clock = wall.source();
        scheduler s{std::move(o)};
        REQUIRE(s.add({"midnight", schedule::cron(cron::parse("0 0 * * *").value()), nothing, {.grace = 3600s}}));
        sim.clock.advance(1s);
        s.run_due(wall.now());
        CHECK(sim.events.count(event_kind::started) == 0);
        wall.step(12h);
        CHECK(s.next_wakeup() <= wall.now());  // due now, on the stepped clock
        s.run_due(wall.now());
        CHECK(sim.events.slots(event_kind::started) == std::vector<std::string>{"2026-11-24T00:00:00Z"});
    }

    TEST_CASE("a run that returns after losing its lease (a pause past it) is reported lease_lost, never ok") {
        two_replicas r;  // references, not a structured binding: clang 14 cannot capture those in lambdas
        auto& sim = r.sim;
        auto &pool_a = r.pool_a, &pool_b = r.pool_b;
        auto &wall_a = r.wall_a, &wall_b = r.wall_b;
        auto &a = r.a, &b = r.b;
        const job_options o{.lease_ttl = 2s};
        fence_token paused_fence = 0;
        const auto body = [&](const job_context& c) {
            if (c.nominal != at("2026-11-23T00:00:00Z") || paused_fence != 0) return;
            paused_fence = c.fence;
            pool_b.run_all();  // b finds the slot held, and looks again after the lease
            // SIGSTOP for 5 s: a's renewals do not happen; b takes the slot over and completes it.
            for (int tenth = 0; tenth < 50; ++tenth) {
                sim.clock.advance(100ms);
                b.run_due(wall_b.now());
                pool_b.run_all();
            }
        };
        REQUIRE(a.add({"reward", schedule::once(at("2026-11-23T00:00:00Z")), body, o}));
        REQUIRE(b.add({"reward", schedule::once(at("2026-11-23T00:00:00Z")), body, o}));
        a.run_due(wall_a.now());
        b.run_due(wall_b.now());
        pool_a.run_one();  // SIGCONT: the work is done right after; a settles
        a.run_due(wall_a.now());

        const auto events = sim.events.all();
        CHECK(count_of(events, event_kind::succeeded, "a") == 0);
        CHECK(count_of(events, event_kind::succeeded, "b") == 1);
        CHECK(count_of(events, event_kind::backend_error, "a") == 0);
        const auto lost = sim.events.of(event_kind::lease_lost);
        REQUIRE(lost.size() == 1);
        CHECK(lost[0].replica == "a");
        CHECK(lost[0].message == "another holder claimed reward@2026-11-23T00:00:00Z after this run's lease ran out");
        const auto failed = sim.events.of(event_kind::failed);
        REQUIRE(failed.size() == 1);
        CHECK(failed[0].replica == "a");
        CHECK(failed[0].fence == paused_fence);
        CHECK(sim.events.count(event_kind::retrying) == 0);  // the slot is b's now
        for (const auto& e : sim.events.of(event_kind::started))
            if (e.replica == "b") CHECK(e.fence > paused_fence);
    }

    TEST_CASE_FIXTURE(
        replica_b,
        "a dead holder's slot is recovered even while the job's next slots run here (recheck is no overlap)") {
        REQUIRE(b.add({"tick", schedule::every(1s), nothing, {.lease_ttl = 2s}}));
        // Another replica claimed 00:00:00 and was SIGKILLed.
        const auto dead = keys.claim("tick@2026-11-23T00:00:00Z", 2s);
        REQUIRE(dead);
        REQUIRE(dead->acquired());
        // Each second b starts its own slot; the run is still going when the next look comes.
        for (int tenth = 0; tenth <= 40; ++tenth) {
            b.run_due(wall.now());
            if (tenth % 10 == 9) pool.run_all();  // b's runs take most of a second
            sim.clock.advance(100ms);
        }
        pool.run_all();
        const auto ran = sim.events.slots(event_kind::succeeded);
        CHECK(std::count(ran.begin(), ran.end(), "2026-11-23T00:00:00Z") == 1);
        CHECK(sim.events.count(event_kind::skipped, skip_reason::overlap) == 0);
    }

    TEST_CASE_FIXTURE(replica_b,
                      "a recheck still claiming when the job's next slot fires does not make that slot an overlap") {
        // A replica that lost slot T looks again when the winner's lease would have run
        // out: T + lease_ttl + 1 s, the very moment slot T+31 fires for a per-second job.
        // The recheck's claim is no run of the job here: the slot starts (it was skipped
        // as an overlap, on R-1 replicas, every second, on a healthy fleet).
        REQUIRE(b.add({"tick", schedule::every(1s), nothing, {.mode = distribution::exactly_once}}));
        // Another replica, alive, holds 00:00:00 with the default 30 s lease.
        const auto other = keys.claim("tick@2026-11-23T00:00:00Z", 30s);
        REQUIRE(other);
        REQUIRE(other->acquired());
        for (int second = 0; second <= 32; ++second) {
            b.run_due(wall.now());
            pool.run_all();  // each run claims and ends within its second
            if (second == 1) REQUIRE(keys.complete(other->lease, std::chrono::hours{1}));  // it ran, at the other
            sim.clock.advance(1s);
        }
        CHECK(sim.events.count(event_kind::skipped, skip_reason::overlap) == 0);
        const auto ran = sim.events.slots(event_kind::succeeded);
        CHECK(std::count(ran.begin(), ran.end(), "2026-11-23T00:00:31Z") == 1);
        CHECK(std::count(ran.begin(), ran.end(), "2026-11-23T00:00:00Z") == 0);  // the recheck found it done
        CHECK(ran.size() == 32);
    }

    TEST_CASE("a replica that starts after a holder died recovers the slot it abandoned, which it never saw") {
        simulation sim{"2026-11-23T00:00:00Z"};
        memory_keys keys{sim.clock.steady_source()};
        // One replica claimed 00:00:00 and was SIGKILLed; another ran 00:00:10 to 00:00:30
        // (so the slot record is past the dead slot) and was redeployed.
        const auto dead = keys.claim("reward@2026-11-23T00:00:00Z", 10s);
        REQUIRE(dead);
        for (const char* slot : {"2026-11-23T00:00:10Z", "2026-11-23T00:00:20Z", "2026-11-23T00:00:30Z"}) {
            const auto ran = keys.claim("reward@" + std::string(slot), 10s);
            REQUIRE(ran);
            REQUIRE(keys.complete(ran->lease, 1h));
            REQUIRE(keys.record_slot("reward", at(slot)));
        }
        sim.clock.advance(35s);
        const job_spec reward{"reward", schedule::every(10s), nothing, {.lease_ttl = 10s}};
        scheduler restarted{sim.options("restarted", keys)};
        REQUIRE(restarted.add(reward));
        sim.run_for(1s, {&restarted});
        const auto started = sim.events.of(event_kind::started);
        REQUIRE(started.size() == 1);
        CHECK(started[0].slot == "2026-11-23T00:00:00Z");
        CHECK(started[0].fence > dead->lease.fence);
        CHECK(sim.events.count(event_kind::skipped) == 0);
        // Slots that were settled are left alone by the next replica to start.
        sim.run_until("2026-11-23T00:00:45Z", {&restarted});
        scheduler again{sim.options("again", keys)};
        REQUIRE(again.add(reward));
        sim.run_for(1s, {&again});
        CHECK(sim.events.slots(event_kind::started) ==
              std::vector<std::string>{"2026-11-23T00:00:00Z", "2026-11-23T00:00:40Z"});
    }

    TEST_CASE(
        "a job removed while its claim was out is not looked at again; the job that reuses its record is not "
        "held back") {
        simulation sim;
        memory_keys keys{sim.clock.steady_source()};
        manual_executor pool;
        auto options = sim.options("b", keys);
        options.executor = pool.function();
        scheduler b{options};
        REQUIRE(keys.claim("sweep", 30s));  // another replica runs the job, alive
        const job_options waits{.mode = distribution::exactly_once_serial, .on_overlap = overlap::queue_one};
        REQUIRE(b.add({"sweep", schedule::every(1s), nothing, waits}));
        b.run_due(sim.clock.now());  // the 00:00:00 claim is handed to the pool
        REQUIRE(b.remove("sweep"));
        pool.run_all();  // it finds the job's lease held, after the removal
        // A new job gets a new generation, so the removed one's lock recheck, deferred
        // after the removal, is stale on the record it reuses.
        REQUIRE(b.add({"other", schedule::every(1s), nothing, waits}));
        for (int second = 0; second < 5; ++second) {
            b.run_due(sim.clock.now());
            pool.run_all();
            sim.clock.advance(1s);
        }
        for (const auto& e : sim.events.all())
            CHECK(e.job == "other");
        CHECK(sim.events.slots(event_kind::succeeded) ==
              std::vector<std::string>{"2026-11-23T00:00:00Z", "2026-11-23T00:00:01Z", "2026-11-23T00:00:02Z",
                                       "2026-11-23T00:00:03Z", "2026-11-23T00:00:04Z"});
    }

    // A replica claimed the 00:00:00 slot of a per-second serial job (its run key, then the
    // job's lease, as claim_protocol does) and was SIGKILLed; two replicas go on.
    struct serial_fleet {
        simulation sim;
        memory_keys keys{sim.clock.steady_source()};
        scheduler b{sim.options("b", keys)};
        scheduler c{sim.options("c", keys)};

        explicit serial_fleet(job_options o) {
            REQUIRE(keys.claim("sweep@2026-11-23T00:00:00Z", o.lease_ttl));
            REQUIRE(keys.claim("sweep", o.lease_ttl));
            REQUIRE(b.add({"sweep", schedule::every(1s), nothing, o}));
            REQUIRE(c.add({"sweep", schedule::every(1s), nothing, o}));
            sim.run_until("2026-11-23T00:00:20Z", {&b, &c});
        }
        // Per slot of 00:00:00 to 00:00:19: how many runs succeeded, and how many skips were reported.
        std::vector<std::pair<int, int>> outcomes() {
            std::vector<std::pair<int, int>> per_slot(20);
            for (const auto& e : sim.events.all()) {
                const auto second = (moment(e.slot) - moment("2026-11-23T00:00:00Z")) / 1s;
                if (second < 0 || second >= 20) continue;
                if (e.kind == event_kind::succeeded) ++per_slot[static_cast<std::size_t>(second)].first;
                if (e.kind == event_kind::skipped) ++per_slot[static_cast<std::size_t>(second)].second;
            }
            return per_slot;
        }
    };

    TEST_CASE(
        "serial, queue_one and run_each: every slot runs exactly once, also those due while the holder was dead") {
        for (const auto mode : {distribution::exactly_once_serial, distribution::single_runner}) {
            CAPTURE(static_cast<int>(mode));
            serial_fleet fleet{
                {.mode = mode, .on_overlap = overlap::queue_one, .on_misfire = misfire::run_each, .lease_ttl = 2s}};
            const auto per_slot = fleet.outcomes();
            for (std::size_t second = 0; second < per_slot.size(); ++second) {
                CAPTURE(second);
                CHECK(per_slot[second].first == 1);
            }
            CHECK(fleet.sim.events.count(event_kind::skipped, skip_reason::overlap) == 0);
            // In order: a slot waiting here for the job's lease holds the later ones back.
            const auto started = fleet.sim.events.slots(event_kind::started);
            CHECK(std::is_sorted(started.begin(), started.end()));
        }
    }

    TEST_CASE("serial, with the default policies: every slot ran once, or was skipped for a reason that was true") {
        for (const auto mode : {distribution::exactly_once_serial, distribution::single_runner}) {
            CAPTURE(static_cast<int>(mode));
            serial_fleet fleet{{.mode = mode, .lease_ttl = 2s}};
            const auto per_slot = fleet.outcomes();
            // The dead holder's own slot is recovered by its run key; single_runner has none.
            if (mode == distribution::exactly_once_serial) CHECK(per_slot[0].first == 1);
            for (std::size_t second = 0; second < per_slot.size(); ++second) {
                CAPTURE(second);
                CHECK(per_slot[second].first <= 1);
                CHECK((per_slot[second].first == 1 || per_slot[second].second > 0));
            }
            // A slot that did not run was decided by the misfire policy, once the dead lease
            // ran out (the other skips are of slots that ran: held, or done, elsewhere).
            for (const auto& e : fleet.sim.events.of(event_kind::skipped)) {
                const auto second = static_cast<std::size_t>((moment(e.slot) - moment("2026-11-23T00:00:00Z")) / 1s);
                if (second >= per_slot.size() || per_slot[second].first == 1) continue;
                CAPTURE(e.slot);
                CHECK(e.reason == skip_reason::misfire);
                CHECK(e.message == "the job's lease was held, and a later slot, " + rfc3339(at(e.slot) + 1s) +
                                       ", came due while the slot waited");
                CHECK(e.at >= moment("2026-11-23T00:00:02Z"));
            }
            // From the dead lease's end on, every slot runs on time.
            for (std::size_t second = 3; second < per_slot.size(); ++second)
                CHECK(per_slot[second].first == 1);
        }
    }
}

}  // namespace
}  // namespace sked::test

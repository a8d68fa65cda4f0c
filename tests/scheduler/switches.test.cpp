// The switches an operator changes while the service runs: stagger on or off for every
// job or one, pause and resume. Each change moves what it should at once, is raised as an
// event (so it is logged) and shows in the status and the metrics.
#include "sked/scheduler.hpp"

#include <doctest/doctest.h>

#include <sked/detail/due_queue.hpp>
#include <sked/hash.hpp>
#include <sked/log_hook.hpp>
#include <sked/status_format.hpp>

#include <algorithm>
#include <iterator>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "sim.hpp"

namespace sked::test {
namespace {

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

job_spec every(std::string name, std::chrono::seconds period, job_options options = {}) {
    return {std::move(name), schedule::every(period), nothing, std::move(options)};
}

// When each start of `job` happened, as "slot@start" (both RFC 3339, the start to the ms).
std::vector<std::string> starts_of(recorder& events, std::string_view job) {
    std::vector<std::string> out;
    for (const auto& e : events.of(event_kind::started))
        if (e.job == job) out.push_back(e.slot + "@" + rfc3339_ms(e.at));
    return out;
}

// A scheduler "r1" on a virtual clock, whose log lines are kept.
struct logged_scheduler {
    simulation sim;
    std::vector<std::string> lines;
    scheduler s{logging(sim.options("r1"))};

    scheduler_options logging(scheduler_options options) {
        options.hooks.push_back(log_lines([this](std::string_view line) { lines.emplace_back(line); }));
        return options;
    }
};

TEST_SUITE("switches") {
    TEST_CASE_FIXTURE(
        logged_scheduler,
        "stagger off for every job at run time: a pending slot starts at its slot, or now if that passed") {
        REQUIRE(s.add(every("fixed", 60s, {.offset = 15s})));
        REQUIRE(s.add(every("plain", 60s)));
        sim.run_until("2026-11-23T00:01:05Z", {&s});

        s.set_stagger(false);
        CHECK_FALSE(s.status().stagger);
        CHECK(contains(to_prometheus(s.status()), "\nsked_stagger_enabled 0\n"));
        CHECK(lines.back() == "stagger off jobs=all replica=r1");
        sim.run_until("2026-11-23T00:02:30Z", {&s});
        s.set_stagger(true);
        sim.run_until("2026-11-23T00:03:30Z", {&s});

        // 00:01:00 was planned for 00:01:15 and starts when stagger goes off, at 00:01:05;
        // 00:02:00 starts on the minute; with stagger on again 00:03:00 starts at :15.
        const auto fixed = starts_of(sim.events, "fixed");
        REQUIRE(fixed.size() == 4);
        CHECK(fixed[0] == "2026-11-23T00:00:00Z@2026-11-23T00:00:15.000Z");
        CHECK(fixed[1] == "2026-11-23T00:01:00Z@2026-11-23T00:01:05.000Z");
        CHECK(fixed[2] == "2026-11-23T00:02:00Z@2026-11-23T00:02:00.000Z");
        CHECK(fixed[3] == "2026-11-23T00:03:00Z@2026-11-23T00:03:15.000Z");
        CHECK(starts_of(sim.events, "plain").size() == 4);  // no offset: nothing moved
        CHECK(sim.events.count(event_kind::skipped) == 0);
        CHECK(sim.events.count(event_kind::switched) == 2);
        CHECK(std::count(lines.begin(), lines.end(), "stagger on jobs=all replica=r1") == 1);
        CHECK(s.status().stagger);
    }

    TEST_CASE("switching to the same state changes nothing and raises nothing") {
        simulation sim;
        scheduler s{sim.options()};
        REQUIRE(s.add(every("fixed", 60s, {.offset = 15s})));
        s.set_stagger(true);
        CHECK(s.pause("fixed"));
        CHECK(s.pause("fixed"));
        CHECK(s.set_stagger("fixed", true));
        CHECK(sim.events.count(event_kind::switched) == 1);
        CHECK_FALSE(s.pause("nobody"));
        CHECK_FALSE(s.resume("nobody"));
        CHECK_FALSE(s.set_stagger("nobody", false));
    }

    TEST_CASE_FIXTURE(logged_scheduler,
                      "one job's stagger switch moves that job only, and stays when the job is added again") {
        REQUIRE(s.add(every("fixed", 60s, {.offset = 15s})));
        REQUIRE(s.add(every("other", 60s, {.offset = 20s})));
        sim.run_until("2026-11-23T00:00:30Z", {&s});
        REQUIRE(s.set_stagger("fixed", false));
        CHECK(lines.back() == "stagger off job=fixed replica=r1");
        REQUIRE(s.add(every("fixed", 60s, {.offset = 15s})));  // a redeploy's add: the switch stays
        sim.run_until("2026-11-23T00:01:30Z", {&s});
        CHECK(starts_of(sim.events, "fixed").back() == "2026-11-23T00:01:00Z@2026-11-23T00:01:00.000Z");
        CHECK(starts_of(sim.events, "other").back() == "2026-11-23T00:01:00Z@2026-11-23T00:01:20.000Z");

        const auto status = s.status();
        CHECK(status.stagger);
        REQUIRE(status.jobs.size() == 2);
        CHECK_FALSE(status.jobs[0].stagger);
        CHECK(status.jobs[1].stagger);
        const auto json = to_json(status);
        CHECK(contains(json, R"("name":"fixed","schedule":"every 60s","paused":false,"stagger":false)"));
        const auto metrics = to_prometheus(status);
        CHECK(contains(metrics, "sked_job_stagger_enabled{sked_job=\"fixed\"} 0\n"));
        CHECK(contains(metrics, "sked_job_stagger_enabled{sked_job=\"other\"} 1\n"));

        // With the global switch off and on again, "fixed" stays off by its own switch.
        s.set_stagger(false);
        s.set_stagger(true);
        sim.run_until("2026-11-23T00:02:30Z", {&s});
        CHECK(starts_of(sim.events, "fixed").back() == "2026-11-23T00:02:00Z@2026-11-23T00:02:00.000Z");
        CHECK(starts_of(sim.events, "other").back() == "2026-11-23T00:02:00Z@2026-11-23T00:02:20.000Z");
    }

    TEST_CASE("stagger off long after a slot's unstaggered time runs the slot, it is no misfire") {
        simulation sim;
        scheduler s{sim.options()};
        // Planned for 00:10:00 (offset 10 min, grace 60 s); stagger off at 00:05:00.
        REQUIRE(s.add(every("late", 3600s, {.grace = 60s, .offset = 600s})));
        sim.run_until("2026-11-23T00:05:00Z", {&s});
        REQUIRE(starts_of(sim.events, "late").empty());
        s.set_stagger(false);
        sim.run_until("2026-11-23T00:06:00Z", {&s});
        CHECK(starts_of(sim.events, "late") ==
              std::vector<std::string>{"2026-11-23T00:00:00Z@2026-11-23T00:05:00.000Z"});
        CHECK(sim.events.count(event_kind::skipped) == 0);
    }

    TEST_CASE("jitter is stagger too: off, the jittered job starts on its slots") {
        simulation sim;
        scheduler s{sim.options()};
        REQUIRE(s.add(every("jittered", 10s, {.max_jitter = 5s})));
        s.set_stagger("jittered", false);
        sim.run_until("2026-11-23T00:01:00Z", {&s});
        const auto starts = sim.events.of(event_kind::started);
        REQUIRE(starts.size() == 7);
        for (const auto& e : starts)
            CHECK(e.at == instant{at(e.slot)});
    }

    TEST_CASE_FIXTURE(logged_scheduler,
                      "pause and resume: one event per change, a log line, the status and the metrics") {
        REQUIRE(s.add(every("sweep", 60s)));
        REQUIRE(s.pause("sweep"));
        CHECK(lines.back() == "job paused job=sweep replica=r1");
        const auto metrics = to_prometheus(s.status());
        CHECK(contains(metrics, "sked_job_paused{sked_job=\"sweep\"} 1\n"));
        sim.run_until("2026-11-23T00:01:30Z", {&s});
        CHECK(sim.events.count(event_kind::skipped, skip_reason::paused) == 2);
        REQUIRE(s.resume("sweep"));
        CHECK(lines.back() == "job resumed job=sweep replica=r1");
        CHECK(contains(to_prometheus(s.status()), "sked_job_paused{sked_job=\"sweep\"} 0\n"));
        sim.run_until("2026-11-23T00:02:30Z", {&s});
        CHECK(sim.events.count(event_kind::started) == 1);
        CHECK(sim.events.count(event_kind::switched) == 2);
        // A switch is not a run: the job's counts do not move.
        CHECK(s.status().jobs[0].stats.counts.started == 1);
    }

    TEST_CASE("due_queue: ties go by target, or by an order the salt picks; time always first") {
        const auto pops = [](std::uint32_t salt) {
            detail::due_queue queue{salt};
            for (std::uint32_t target = 0; target < 64; ++target) {
                queue.push({1000, target, 0, detail::due_kind::fire});
                queue.push({500 + (target % 2) * 1000, target + 100, 0, detail::due_kind::fire});
            }
            std::vector<std::uint32_t> order;
            std::int64_t last = 0;
            while (!queue.empty()) {
                const auto e = queue.pop();
                CHECK(e.due_ms >= last);
                last = e.due_ms;
                if (e.due_ms == 1000 && e.target < 64) order.push_back(e.target);
            }
            return order;
        };
        std::vector<std::uint32_t> registration(64);
        std::iota(registration.begin(), registration.end(), 0U);
        CHECK(pops(0) == registration);
        const auto salt = [](std::string_view name) { return static_cast<std::uint32_t>(fnv1a_64(name)); };
        const auto a = pops(salt("replica-a")), b = pops(salt("replica-b"));
        CHECK(a != registration);
        CHECK(a != b);
        CHECK(a == pops(salt("replica-a")));  // the same salt, the same order
        for (const auto* order : {&a, &b}) {  // a permutation: each target once
            auto sorted = *order;
            std::sort(sorted.begin(), sorted.end());
            CHECK(sorted == registration);
        }
        // Replicas meet different jobs first: of the first 16 each takes, few are shared.
        std::vector<std::uint32_t> first_a(a.begin(), a.begin() + 16), first_b(b.begin(), b.begin() + 16);
        std::sort(first_a.begin(), first_a.end());
        std::sort(first_b.begin(), first_b.end());
        std::vector<std::uint32_t> shared;
        std::set_intersection(first_a.begin(), first_a.end(), first_b.begin(), first_b.end(),
                              std::back_inserter(shared));
        CHECK(shared.size() < 12);
    }

    TEST_CASE("due_queue::erase_if leaves a heap: what is left pops in order") {
        std::mt19937 random{7};
        for (int round = 0; round < 50; ++round) {
            detail::due_queue queue;
            std::vector<std::int64_t> kept;
            const int n = 1 + round * 7;
            for (int i = 0; i < n; ++i) {
                const auto due = static_cast<std::int64_t>(random() % 1000);
                const auto target = static_cast<std::uint32_t>(i);
                queue.push({due, target, 0, detail::due_kind::fire});
                if (target % 3 != 0) kept.push_back(due);
            }
            const auto erased = queue.erase_if([](const detail::due_entry& e) { return e.target % 3 == 0; });
            CHECK(erased == static_cast<std::size_t>((n + 2) / 3));
            std::sort(kept.begin(), kept.end());
            std::vector<std::int64_t> popped;
            while (!queue.empty())
                popped.push_back(queue.pop().due_ms);
            CHECK(popped == kept);
        }
    }
}

}  // namespace
}  // namespace sked::test

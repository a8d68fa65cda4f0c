#include "sked/scheduler.hpp"

#include <doctest/doctest.h>

#include <sked/date_zone.hpp>
#include <sked/memory_backend.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_seconds;

any_zone iana(std::string_view name) {
    const auto zone = date_zone::locate(name);
    if (!zone) throw std::invalid_argument("no zone " + std::string(name));
    return *zone;
}

job_spec every(std::string name, std::chrono::seconds period, job_function run = nothing, job_options options = {}) {
    return {std::move(name), schedule::every(period), std::move(run), std::move(options)};
}

TEST_SUITE("scheduler") {
    TEST_CASE("an @every job runs once per slot, and the job is told its nominal slot") {
        simulation sim;
        scheduler s{sim.options()};
        std::vector<std::string> slots;
        REQUIRE(s.add(every("tick", 10s, [&](const job_context& c) { slots.push_back(utc(c.nominal)); })));
        sim.run_until("2026-11-23T00:00:35Z", {&s});
        CHECK(slots == std::vector<std::string>{"2026-11-23T00:00:00Z", "2026-11-23T00:00:10Z", "2026-11-23T00:00:20Z",
                                                "2026-11-23T00:00:30Z"});
        CHECK(sim.events.count(event_kind::started) == 4);
        CHECK(sim.events.count(event_kind::succeeded) == 4);
        REQUIRE(s.next_wakeup());
        CHECK(utc(std::chrono::floor<std::chrono::seconds>(*s.next_wakeup())) == "2026-11-23T00:00:40Z");
    }

    TEST_CASE("the context carries name, slot, start, attempt, run key and a stop token") {
        simulation sim{"2026-11-23T08:59:59Z"};
        scheduler s{sim.options()};
        std::optional<job_context> seen_context;
        std::string key;
        REQUIRE(s.add({"daily_reward", schedule::cron(must_parse("0 9 * * *")), [&](const job_context& c) {
                           seen_context = c;
                           key = c.run_key();
                       }}));
        sim.run_until("2026-11-23T09:00:01Z", {&s});
        REQUIRE(seen_context);
        CHECK(seen_context->job.empty() == false);
        CHECK(utc(seen_context->nominal) == "2026-11-23T09:00:00Z");
        CHECK(seen_context->started == moment("2026-11-23T09:00:00Z"));
        CHECK(seen_context->attempt == 1);
        CHECK(seen_context->fence == 0);  // no backend: local
        CHECK(key == "daily_reward@2026-11-23T09:00:00Z");
    }

    TEST_CASE("a daily job at midnight in Asia/Manila runs 365 times in a year, at 16:00 UTC") {
        simulation sim{"2026-01-01T00:00:00Z"};
        scheduler s{sim.options()};
        REQUIRE(s.add({"daily_reward", schedule::cron(must_parse("0 0 * * *"), iana("Asia/Manila")), nothing}));
        sim.run_until("2027-01-01T00:00:00Z", {&s});
        const auto slots = sim.events.slots(event_kind::succeeded);
        REQUIRE(slots.size() == 365);
        CHECK(slots.front() == "2026-01-01T16:00:00Z");  // 2026-01-02 00:00 in Manila (UTC+8)
        CHECK(slots.back() == "2026-12-31T16:00:00Z");
        for (const auto& slot : slots)
            CHECK(slot.substr(10) == "T16:00:00Z");
    }

    TEST_CASE("DST in New York: a 02:30 job runs once on both change days; a wild job follows real time") {
        simulation sim{"2026-03-07T00:00:00Z"};
        scheduler s{sim.options()};
        const auto ny = iana("America/New_York");
        REQUIRE(s.add({"fixed", schedule::cron(must_parse("30 2 * * *"), ny), nothing}));
        REQUIRE(s.add({"wild", schedule::cron(must_parse("*/30 * * * *"), ny), nothing}));
        std::vector<std::string> fixed, wild;
        sim.run_until("2026-03-09T23:59:59Z", {&s});
        for (auto& e : sim.events.of(event_kind::succeeded))
            (e.job == "fixed" ? fixed : wild).push_back(e.slot);
        // 2026-03-08 02:30 does not exist: it runs once, at 03:00 EDT (07:00Z).
        CHECK(fixed ==
              std::vector<std::string>{"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"});
        // Every half hour of real time, 3 days = 144: local 01:30 EST is followed 30
        // minutes later by 03:00 EDT, because 02:00 and 02:30 never happen.
        CHECK(wild.size() == 144);
        CHECK(std::count(wild.begin(), wild.end(), "2026-03-08T07:00:00Z") == 1);

        simulation fall{"2026-10-31T00:00:00Z"};
        scheduler f{fall.options()};
        REQUIRE(f.add({"fixed", schedule::cron(must_parse("30 1 * * *"), ny), nothing}));
        REQUIRE(f.add({"wild", schedule::cron(must_parse("*/30 * * * *"), ny), nothing}));
        fall.run_until("2026-11-02T23:59:59Z", {&f});
        std::vector<std::string> fixed_fall;
        std::size_t wild_fall = 0;
        for (auto& e : fall.events.of(event_kind::succeeded)) {
            if (e.job == "fixed")
                fixed_fall.push_back(e.slot);
            else
                ++wild_fall;
        }
        // 2026-11-01 01:30 happens twice: the job runs at the first (EDT, 05:30Z) only.
        CHECK(fixed_fall ==
              std::vector<std::string>{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"});
        // Real time again: 144 half hours; local 01:00 and 01:30 come twice on 11-01.
        CHECK(wild_fall == 144);
    }

    TEST_CASE("registering a job again is an upsert: one job, new code, same slots") {
        simulation sim;
        scheduler s{sim.options()};
        int old_runs = 0, new_runs = 0;
        CHECK(*s.add(every("sweep", 60s, [&](const job_context&) { ++old_runs; })) == registration::added);
        sim.run_until("2026-11-23T00:01:30Z", {&s});
        CHECK(*s.add(every("sweep", 60s, [&](const job_context&) { ++new_runs; })) == registration::updated);
        CHECK(s.size() == 1);
        sim.run_until("2026-11-23T00:03:30Z", {&s});
        CHECK(old_runs == 2);
        CHECK(new_runs == 2);  // 00:02 and 00:03, each once
        // A new schedule takes effect from now.
        REQUIRE(s.add(every("sweep", 3600s, [&](const job_context&) { ++new_runs; })));
        sim.run_until("2026-11-23T00:59:59Z", {&s});
        CHECK(new_runs == 2);
        sim.run_until("2026-11-23T01:00:00Z", {&s});
        CHECK(new_runs == 3);
    }

    TEST_CASE("bad jobs are refused with the job and the field named, and nothing changes") {
        simulation sim;
        scheduler s{sim.options()};
        REQUIRE(s.add(every("kept", 60s)));
        const auto refused = [&](job_spec spec) {
            auto r = s.add(std::move(spec));
            REQUIRE_FALSE(r);
            return r.error().message;
        };
        CHECK(refused(every("", 60s)) == "job '': job name is empty");
        CHECK(refused({"no_code", schedule::every(60s), {}}) == "job 'no_code': run is empty");
        CHECK(refused(every("zero", 0s)) == "job 'zero': every() period must be positive");
        CHECK(refused(every("late", 60s, nothing, {.offset = 60s})) ==
              "job 'late': offset 60 s is not less than the period 60 s");
        CHECK(refused(every("both", 60s, nothing, {.offset = 5s, .hashed_offset_within = 60s})) ==
              "job 'both': offset and hashed_offset_within are both set; choose one");
        CHECK(refused(every("tries", 60s, nothing, {.retry = {.max_attempts = 0}})) ==
              "job 'tries': retry.max_attempts is 0 (1 means no retry)");
        CHECK(refused(every("ttl", 60s, nothing, {.lease_ttl = 0ms})) ==
              "job 'ttl': lease_ttl of 0 ms is outside 1 ms to 30 days");
        CHECK(refused(every("hours", 60s, nothing, {.calendar = calendar{.opens = 10h, .closes = 9h}})) ==
              "job 'hours': calendar hours 600-540 min are not a window within one day");
        CHECK(refused({"tz", schedule::cron(must_parse("CRON_TZ=Asia/Manila 0 0 * * *")), nothing}) ==
              "job 'tz': the cron expression names zone 'Asia/Manila' but the schedule's zone is 'UTC' (pass "
              "that zone to schedule::cron)");
        // The same name with bad options leaves the registered job as it was.
        CHECK(refused(every("kept", 60s, nothing, {.grace = -1s})) == "job 'kept': grace is negative");
        CHECK(s.size() == 1);
        sim.run_until("2026-11-23T00:02:00Z", {&s});
        CHECK(sim.events.count(event_kind::succeeded) == 3);
    }

    TEST_CASE("pause skips slots as paused, resume continues, remove stops, run_now runs at once") {
        simulation sim;
        scheduler s{sim.options()};
        REQUIRE(s.add(every("job", 60s)));
        sim.run_until("2026-11-23T00:00:30Z", {&s});
        CHECK(s.pause("job"));
        sim.run_until("2026-11-23T00:02:30Z", {&s});
        CHECK(sim.events.count(event_kind::skipped, skip_reason::paused) == 2);
        CHECK(s.resume("job"));
        sim.run_until("2026-11-23T00:03:10Z", {&s});
        CHECK(sim.events.slots(event_kind::succeeded) ==
              std::vector<std::string>{"2026-11-23T00:00:00Z", "2026-11-23T00:03:00Z"});
        CHECK(s.run_now("job"));
        sim.run_until("2026-11-23T00:03:10Z", {&s});
        CHECK(sim.events.slots(event_kind::succeeded).back() == "2026-11-23T00:03:10Z");
        CHECK(s.remove("job"));
        CHECK_FALSE(s.remove("job"));
        CHECK_FALSE(s.pause("job"));
        CHECK_FALSE(s.run_now("job"));
        sim.run_until("2026-11-23T01:00:00Z", {&s});
        CHECK(sim.events.count(event_kind::succeeded) == 3);
        CHECK(s.size() == 0);
        CHECK_FALSE(s.next_wakeup());
    }

    TEST_CASE("a one-off job runs once at its instant; one already past runs at once") {
        simulation sim;
        scheduler s{sim.options()};
        REQUIRE(s.add({"campaign_timeout", schedule::once(at("2026-11-25T00:00:00Z")), nothing}));
        REQUIRE(s.add({"overdue", schedule::once(at("2026-11-22T23:59:30Z")), nothing}));
        sim.run_until("2026-11-30T00:00:00Z", {&s});
        CHECK(sim.events.slots(event_kind::succeeded) ==
              std::vector<std::string>{"2026-11-22T23:59:30Z", "2026-11-25T00:00:00Z"});
        CHECK(s.size() == 2);  // registered until removed; nothing more to run
        CHECK_FALSE(s.next_wakeup());
    }
}

}  // namespace
}  // namespace sked::test

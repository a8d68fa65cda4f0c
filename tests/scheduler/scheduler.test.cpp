#include "sked/scheduler.hpp"

#include <doctest/doctest.h>

#include <sked/date_zone.hpp>
#include <sked/memory_backend.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
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

// A memory key store whose calls can be made to fail, or whose leases can be stolen.
struct flaky_keys {
    memory_keys inner;
    int failing_claims = 0;  // the next n claims fail as unreachable
    int failing_settles = 0;  // the next n completes and releases fail as unreachable
    bool renewals_taken = false;  // renew answers "not yours any more"
    int claims = 0, renewals = 0, settles = 0;

    explicit flaky_keys(lease_clock_function clock) : inner(std::move(clock)) {}
    result<grant, backend_error> claim(std::string_view key, std::chrono::milliseconds ttl) {
        ++claims;
        if (failing_claims > 0) {
            --failing_claims;
            return backend_error{backend_errc::unreachable, "redis at 127.0.0.1:1 refused the connection"};
        }
        return inner.claim(key, ttl);
    }
    result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) {
        ++renewals;
        if (renewals_taken) return false;
        return inner.renew(held, ttl);
    }
    result<bool, backend_error> complete(const lease& held, std::chrono::milliseconds keep) {
        if (auto down = settle_fails()) return *down;
        return inner.complete(held, keep);
    }
    result<bool, backend_error> release(const lease& held) {
        if (auto down = settle_fails()) return *down;
        return inner.release(held);
    }
    std::optional<backend_error> settle_fails() {
        ++settles;
        if (failing_settles <= 0) return std::nullopt;
        --failing_settles;
        return backend_error{backend_errc::unreachable, "redis at 127.0.0.1:1 refused the connection"};
    }
};

// The memory backend's lease clock, driven by the simulation's clock.
lease_clock_function lease_time(const virtual_clock& clock) { return clock.steady_source(); }

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

    TEST_CASE("DST in New York: a 02:30 job runs once on both change days -- a wild job follows real time") {
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

    TEST_CASE("a one-off job runs once at its instant -- one already past runs at once") {
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

    TEST_CASE("overlap: skip, queue one, allow, or cancel the running one") {
        // doctest runs the body once per SUBCASE, so each gets a fresh simulation.
        simulation sim;
        manual_executor pool;
        int stops = 0;
        const auto run_with = [&](overlap policy) {
            auto options = sim.options();
            options.executor = pool.function();
            auto s = std::make_unique<scheduler>(std::move(options));
            REQUIRE(s->add(every("drop", 60s, [&](const job_context& c) { stops += c.stop_requested(); },
                                 {.on_overlap = policy})));
            sim.run_until("2026-11-23T00:00:00Z", {s.get()});  // slot 0 starts and holds
            sim.run_until("2026-11-23T00:02:00Z", {s.get()});  // slots 1 and 2 meet it
            return s;
        };
        SUBCASE("skip") {
            auto s = run_with(overlap::skip);
            CHECK(pool.pending() == 1);
            CHECK(sim.events.count(event_kind::skipped, skip_reason::overlap) == 2);
            pool.run_all();
            CHECK(sim.events.slots(event_kind::succeeded) == std::vector<std::string>{"2026-11-23T00:00:00Z"});
        }
        SUBCASE("queue one: the first waiting slot runs after, the rest are handled as misfires") {
            auto s = run_with(overlap::queue_one);
            CHECK(pool.pending() == 1);
            CHECK(sim.events.count(event_kind::skipped) == 0);
            pool.run_all();  // slot 0 ends: slot 1 comes due at once
            sim.run_until("2026-11-23T00:02:00Z", {s.get()});
            pool.run_all();
            sim.run_until("2026-11-23T00:03:00Z", {s.get()});
            pool.run_all();
            sim.run_until("2026-11-23T00:03:00Z", {s.get()});
            pool.run_all();
            CHECK(sim.events.slots(event_kind::succeeded) ==
                  std::vector<std::string>{"2026-11-23T00:00:00Z", "2026-11-23T00:01:00Z", "2026-11-23T00:02:00Z",
                                           "2026-11-23T00:03:00Z"});
        }
        SUBCASE("allow") {
            auto s = run_with(overlap::allow);
            CHECK(pool.pending() == 3);
            pool.run_all();
            CHECK(sim.events.count(event_kind::succeeded) == 3);
            CHECK(stops == 0);
        }
        SUBCASE("cancel running: the older runs see their stop token stopped") {
            auto s = run_with(overlap::cancel_running);
            CHECK(pool.pending() == 3);
            pool.run_all();
            CHECK(stops == 2);  // slots 0 and 1 were cancelled by their successors
        }
    }

    TEST_CASE("misfire: a stalled scheduler skips, runs the latest once, or runs each up to the cap") {
        const auto stalled = [](misfire policy, std::uint32_t cap = 100) {
            simulation sim;
            scheduler s{sim.options()};
            REQUIRE(s.add(every("minutely", 60s, nothing, {.on_misfire = policy, .max_catch_up = cap})));
            sim.run_until("2026-11-23T00:00:00Z", {&s});
            sim.clock.set(moment("2026-11-23T00:10:30Z"));  // 10 slots due, 30 s past the last
            s.run_due(sim.clock.now());
            return std::pair{sim.events.slots(event_kind::succeeded), sim.events.of(event_kind::skipped)};
        };
        SUBCASE("run_once (the default) runs 00:10 once and reports 00:01 to 00:09 as one skip") {
            auto [ran, skipped] = stalled(misfire::run_once);
            CHECK(ran == std::vector<std::string>{"2026-11-23T00:00:00Z", "2026-11-23T00:10:00Z"});
            REQUIRE(skipped.size() == 1);
            CHECK(skipped[0].reason == skip_reason::misfire);
            CHECK(skipped[0].message ==
                  "slots 2026-11-23T00:01:00Z to before 2026-11-23T00:10:00Z missed the 60 s grace window");
        }
        SUBCASE("skip: the latest slot is within grace (30 s late) so it runs; the rest are skipped") {
            auto [ran, skipped] = stalled(misfire::skip);
            CHECK(ran == std::vector<std::string>{"2026-11-23T00:00:00Z", "2026-11-23T00:10:00Z"});
            CHECK(skipped.size() == 1);
        }
        SUBCASE("run_each runs every missed slot in order") {
            auto [ran, skipped] = stalled(misfire::run_each);
            CHECK(ran.size() == 11);
            CHECK(std::is_sorted(ran.begin(), ran.end()));
            CHECK(skipped.empty());
        }
        SUBCASE("run_each with a cap of 3 runs the latest three") {
            auto [ran, skipped] = stalled(misfire::run_each, 3);
            CHECK(ran == std::vector<std::string>{"2026-11-23T00:00:00Z", "2026-11-23T00:08:00Z",
                                                  "2026-11-23T00:09:00Z", "2026-11-23T00:10:00Z"});
            CHECK(skipped.size() == 1);
        }
        SUBCASE("a start within the grace window is just late") {
            simulation sim;
            scheduler s{sim.options()};
            REQUIRE(s.add(every("minutely", 60s)));
            sim.clock.set(moment("2026-11-23T00:00:45Z"));
            s.run_due(sim.clock.now());
            REQUIRE(sim.events.of(event_kind::started).size() == 1);
            CHECK(sim.events.of(event_kind::started)[0].lateness == 45s);
            CHECK(sim.events.count(event_kind::skipped) == 0);
        }
    }

    TEST_CASE("after every replica was down, the missed slots are found from the backend's record") {
        memory_keys keys;
        const auto boot = [&](simulation& sim, misfire policy) {
            auto options = sim.options();
            options.backend = keys;
            auto s = std::make_unique<scheduler>(std::move(options));
            REQUIRE(s->add({"daily_reward", schedule::cron(must_parse("0 0 * * *")), nothing, {.on_misfire = policy}}));
            return s;
        };
        simulation first{"2026-11-22T23:00:00Z"};
        {
            auto s = boot(first, misfire::run_once);
            first.run_until("2026-11-23T12:00:00Z", {s.get()});
        }
        CHECK(first.events.slots(event_kind::succeeded) == std::vector<std::string>{"2026-11-23T00:00:00Z"});
        REQUIRE(keys.last_slot("daily_reward"));
        CHECK(utc(**keys.last_slot("daily_reward")) == "2026-11-23T00:00:00Z");
        SUBCASE("run_once: three days later, the latest missed midnight runs once") {
            simulation later{"2026-11-26T09:00:00Z"};
            auto s = boot(later, misfire::run_once);
            later.run_until("2026-11-26T10:00:00Z", {s.get()});
            CHECK(later.events.slots(event_kind::succeeded) == std::vector<std::string>{"2026-11-26T00:00:00Z"});
        }
        SUBCASE("run_each: each of the three missed midnights runs, in order, once") {
            simulation later{"2026-11-26T09:00:00Z"};
            auto s = boot(later, misfire::run_each);
            later.run_until("2026-11-26T10:00:00Z", {s.get()});
            CHECK(later.events.slots(event_kind::succeeded) ==
                  std::vector<std::string>{"2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z"});
        }
        SUBCASE("a restart the same day runs nothing again") {
            simulation later{"2026-11-23T18:00:00Z"};
            auto s = boot(later, misfire::run_each);
            later.run_until("2026-11-23T23:59:59Z", {s.get()});
            CHECK(later.events.count(event_kind::started) == 0);
        }
    }

    TEST_CASE("stagger offsets and jitter: deterministic, positive, below the next slot") {
        simulation sim;
        scheduler s{sim.options()};
        REQUIRE(s.add(every("fixed", 60s, nothing, {.offset = 15s})));
        REQUIRE(s.add(every("hashed", 60s, nothing, {.hashed_offset_within = 60s})));
        REQUIRE(s.add(every("jittered", 10s, nothing, {.max_jitter = 1h})));
        sim.run_until("2026-11-23T00:10:00Z", {&s});
        const auto expected_hash = static_cast<long>(spread("hashed", 1, 60));
        std::vector<std::chrono::milliseconds> jitters;
        for (const auto& e : sim.events.of(event_kind::started)) {
            const auto offset = e.at - instant{at(e.slot)};
            if (e.job == "fixed") CHECK(offset == 15s);
            if (e.job == "hashed") CHECK(offset == std::chrono::seconds{expected_hash});
            if (e.job == "jittered") {
                CHECK(offset >= 0ms);
                CHECK(offset < 10s);  // capped below the 10 s gap, though 1 h was allowed
                jitters.push_back(offset);
            }
        }
        REQUIRE(jitters.size() >= 50);
        CHECK(std::adjacent_find(jitters.begin(), jitters.end(), std::not_equal_to<>{}) != jitters.end());
        // Another replica computes the same starts.
        simulation again;
        scheduler t{again.options()};
        REQUIRE(t.add(every("jittered", 10s, nothing, {.max_jitter = 1h})));
        again.run_until("2026-11-23T00:10:00Z", {&t});
        std::vector<std::chrono::milliseconds> again_jitters;
        for (const auto& e : again.events.of(event_kind::started))
            again_jitters.push_back(e.at - instant{at(e.slot)});
        CHECK(again_jitters == jitters);
    }

    TEST_CASE("retries back off exponentially with bounded jitter, then give up") {
        simulation sim;
        scheduler s{sim.options()};
        int calls = 0;
        REQUIRE(s.add({"flaky",
                       schedule::once(at("2026-11-23T00:00:00Z")),
                       [&](const job_context& c) {
                           ++calls;
                           if (c.attempt < 3) throw std::runtime_error("database pool exhausted");
                       },
                       {.retry = {.max_attempts = 3, .initial_delay = 10s, .multiplier = 3}}}));
        sim.run_until("2026-11-23T01:00:00Z", {&s});
        CHECK(calls == 3);
        const auto failed = sim.events.of(event_kind::failed);
        REQUIRE(failed.size() == 2);
        CHECK(failed[0].message == "database pool exhausted");
        const auto retrying = sim.events.of(event_kind::retrying);
        REQUIRE(retrying.size() == 2);
        CHECK(retrying[0].duration >= 10s);
        CHECK(retrying[0].duration <= 12s);  // 10 s + up to 20 %
        CHECK(retrying[1].duration >= 30s);
        CHECK(retrying[1].duration <= 36s);
        const auto started = sim.events.of(event_kind::started);
        REQUIRE(started.size() == 3);
        CHECK(started[1].at - started[0].at == retrying[0].duration);
        CHECK(started[2].attempt == 3);
        CHECK(sim.events.count(event_kind::succeeded) == 1);

        simulation hopeless;
        scheduler h{hopeless.options()};
        REQUIRE(h.add({"hopeless",
                       schedule::once(at("2026-11-23T00:00:00Z")),
                       [](const job_context&) { throw 42; },
                       {.retry = {.max_attempts = 2}}}));
        hopeless.run_until("2026-11-23T01:00:00Z", {&h});
        CHECK(hopeless.events.count(event_kind::failed) == 2);
        CHECK(hopeless.events.count(event_kind::retrying) == 1);
        CHECK(hopeless.events.of(event_kind::failed)[1].message == "an exception not derived from std::exception");
    }

    TEST_CASE("a run past its timeout has stop requested and is reported as timed out") {
        simulation sim;
        manual_executor pool;
        auto options = sim.options();
        options.executor = pool.function();
        scheduler s{std::move(options)};
        bool saw_stop = false;
        REQUIRE(s.add({"slow",
                       schedule::once(at("2026-11-23T00:00:00Z")),
                       [&](const job_context& c) { saw_stop = c.stop_requested(); },
                       {.timeout = 30s}}));
        sim.run_until("2026-11-23T00:00:29Z", {&s});
        CHECK(sim.events.count(event_kind::timed_out) == 0);
        sim.run_until("2026-11-23T00:00:31Z", {&s});
        CHECK(sim.events.count(event_kind::timed_out) == 1);
        pool.run_all();
        CHECK(saw_stop);
        REQUIRE(sim.events.count(event_kind::failed) == 1);
        CHECK(sim.events.of(event_kind::failed)[0].message == "timed out");

        // Inline on a virtual clock, a run that moves time past its timeout is caught at the end.
        simulation inline_sim;
        scheduler t{inline_sim.options()};
        REQUIRE(t.add({"slow",
                       schedule::once(at("2026-11-23T00:00:00Z")),
                       [&](const job_context&) { inline_sim.clock.advance(45s); },
                       {.timeout = 30s}}));
        inline_sim.run_until("2026-11-23T00:01:00Z", {&t});
        CHECK(inline_sim.events.count(event_kind::failed) == 1);
        CHECK(t.status().jobs.at(0).stats.last_result == event_kind::timed_out);
    }

    TEST_CASE("calendars: only business hours in Manila, listed dates skipped, one-offs moved") {
        simulation sim{"2026-11-27T00:00:00Z"};  // a Friday
        scheduler s{sim.options()};
        auto office = calendar::business_hours(iana("Asia/Manila"));
        office.skip_dates = {
            std::chrono::year_month_day{std::chrono::year{2026}, std::chrono::month{11}, std::chrono::day{30}}};
        REQUIRE(s.add({"hourly", schedule::every(3600s), nothing, {.calendar = office}}));
        // Saturday 10:00 in Manila: moved to Tuesday 09:00 (Monday is skipped).
        REQUIRE(s.add({"campaign_timeout", schedule::once(at("2026-11-28T02:00:00Z")), nothing, {.calendar = office}}));
        sim.run_until("2026-12-02T00:00:00Z", {&s});
        std::vector<std::string> hourly;
        std::string moved;
        for (const auto& e : sim.events.of(event_kind::started)) {
            if (e.job == "hourly")
                hourly.push_back(e.slot);
            else
                moved = rfc3339(std::chrono::floor<std::chrono::seconds>(e.at)) + " slot " + e.slot;
        }
        // Friday 09:00-16:00 (01:00Z-08:00Z) and Tuesday 09:00-16:00 Manila: 8 + 8.
        REQUIRE(hourly.size() == 16);
        CHECK(hourly.front() == "2026-11-27T01:00:00Z");
        CHECK(hourly[7] == "2026-11-27T08:00:00Z");
        CHECK(hourly[8] == "2026-12-01T01:00:00Z");
        CHECK(moved == "2026-12-01T01:00:00Z slot 2026-11-28T02:00:00Z");
        CHECK(sim.events.count(event_kind::skipped, skip_reason::outside_calendar) ==
              24 * 5 + 1 - 16);  // 121 hourly slots in the range
    }

    TEST_CASE("three replicas sharing a backend: every slot runs exactly once, with a fencing token") {
        simulation sim;
        memory_keys keys{lease_time(sim.clock)};
        std::vector<std::unique_ptr<scheduler>> replicas;
        std::vector<scheduler*> drive;
        std::map<std::string, int> runs;
        for (const auto* name : {"a", "b", "c"}) {
            auto options = sim.options(name);
            options.backend = keys;
            replicas.push_back(std::make_unique<scheduler>(std::move(options)));
            drive.push_back(replicas.back().get());
            REQUIRE(replicas.back()->add(every("sweep", 1s, [&](const job_context& c) {
                CHECK(c.fence > 0);
                ++runs[c.run_key()];
            })));
        }
        sim.run_until("2026-11-23T00:16:39Z", drive);  // 1,000 slots
        CHECK(runs.size() == 1000);
        CHECK(std::all_of(runs.begin(), runs.end(), [](const auto& r) { return r.second == 1; }));
        CHECK(sim.events.count(event_kind::skipped, skip_reason::already_done) == 2000);
        std::set<std::string> replicas_that_ran;
        for (const auto& e : sim.events.of(event_kind::started))
            replicas_that_ran.insert(e.replica);
        CHECK(replicas_that_ran.size() == 1);  // inline and in order, the first replica wins each slot
    }

    TEST_CASE("single runner: one replica at a time runs the job, and each slot once") {
        simulation sim;
        memory_keys keys{lease_time(sim.clock)};
        scheduler a{sim.options("a", keys)};
        scheduler b{sim.options("b", keys)};
        // While a runs the 00:00 slot, b's 00:00 slot comes due.
        REQUIRE(a.add(every("expiry_sweep", 60s, [&](const job_context&) { b.run_due(sim.clock.now()); },
                            {.mode = distribution::single_runner})));
        REQUIRE(b.add(every("expiry_sweep", 60s, nothing, {.mode = distribution::single_runner})));
        sim.run_until("2026-11-23T00:00:00Z", {&a});
        // b cannot tell a live holder from one that died a moment ago: it looks again once
        // a live holder must have renewed (a third of the 30 s lease, and a margin), takes
        // the lease, and reads in the job's record that the slot ran.
        sim.run_until("2026-11-23T00:00:30Z", {&a, &b});
        const auto skipped = sim.events.of(event_kind::skipped);
        REQUIRE(skipped.size() == 1);
        CHECK(skipped[0].reason == skip_reason::already_done);
        CHECK(skipped[0].replica == "b");
        CHECK(skipped[0].at == moment("2026-11-23T00:00:11Z"));
        CHECK(skipped[0].message == "the slot ran at another replica");
        // One after the other, each slot still runs once: b goes first at 00:01, and a,
        // which takes the lease after it, finds the slot recorded.
        sim.run_until("2026-11-23T00:01:00Z", {&b, &a});
        const auto started = sim.events.of(event_kind::started);
        REQUIRE(started.size() == 2);
        CHECK(started[0].replica == "a");
        CHECK(started[1].replica == "b");
        CHECK(started[1].fence > started[0].fence);
        const auto later = sim.events.of(event_kind::skipped);
        REQUIRE(later.size() == 2);
        CHECK(later[1].replica == "a");
        CHECK(later[1].slot == "2026-11-23T00:01:00Z");
        CHECK(later[1].reason == skip_reason::already_done);
    }

    TEST_CASE("a lease that cannot be renewed stops the run -- the next holder's token is higher") {
        simulation sim;
        flaky_keys keys{lease_time(sim.clock)};
        manual_executor pool;
        auto options = sim.options();
        options.backend = keys;
        options.executor = pool.function();
        scheduler s{std::move(options)};
        bool stopped_mid_run = false;
        fence_token fence = 0;
        REQUIRE(s.add({"long_job",
                       schedule::once(at("2026-11-23T00:00:00Z")),
                       [&](const job_context& c) {
                           fence = c.fence;
                           sim.clock.advance(5s);
                           s.run_due(sim.clock.now());  // nothing due yet: renewal is at 10 s
                           CHECK_FALSE(c.stop_requested());
                           keys.renewals_taken = true;  // another holder has the key now
                           sim.clock.advance(6s);
                           s.run_due(sim.clock.now());
                           stopped_mid_run = c.stop_requested();
                       },
                       {.lease_ttl = 30s}}));
        sim.run_until("2026-11-23T00:00:00Z", {&s});
        pool.run_all();
        CHECK(keys.renewals == 1);
        CHECK(stopped_mid_run);
        REQUIRE(sim.events.count(event_kind::lease_lost) == 1);
        CHECK(sim.events.of(event_kind::lease_lost)[0].message == "lease on long_job@2026-11-23T00:00:00Z was taken");
        REQUIRE(sim.events.count(event_kind::failed) == 1);
        CHECK(sim.events.of(event_kind::failed)[0].message == "lease lost");
        // The run gave the key back, so the next holder gets it, with a higher token.
        auto next = keys.inner.claim("long_job@2026-11-23T00:00:00Z", 30s);
        REQUIRE(next);
        REQUIRE(next->acquired());
        CHECK(next->lease.fence > fence);
    }

    TEST_CASE("a backend blip at the slot: the claim is retried until it succeeds -- the slot runs once") {
        simulation sim;
        flaky_keys keys{lease_time(sim.clock)};
        keys.failing_claims = 3;
        scheduler s{sim.options({}, keys)};
        REQUIRE(s.add({"daily_reward", schedule::cron(must_parse("0 0 * * *")), nothing}));
        sim.run_until("2026-11-23T00:01:00Z", {&s});
        // Every failed claim is counted; the outage is told once when it begins, once when it ends.
        CHECK(s.status().jobs[0].stats.counts.skips[static_cast<int>(skip_reason::backend_unavailable)] == 3);
        CHECK(sim.events.count(event_kind::skipped) == 0);
        const auto begun = sim.events.of(event_kind::backend_error);
        REQUIRE(begun.size() == 1);
        CHECK(begun[0].message ==
              "backend unavailable: unreachable: redis at 127.0.0.1:1 refused the connection; claims are retried "
              "until each slot's grace ends, and further failures are counted, not logged, until it answers");
        const auto ended = sim.events.of(event_kind::backend_recovered);
        REQUIRE(ended.size() == 1);
        // Claims at 0, 1 and 3 s failed (retried after 1, 2, then 4 s: back-off); the one at 7 s got through.
        CHECK(ended[0].duration == 7s);
        CHECK(ended[0].message ==
              "3 calls failed during the outage; failed claims were retried until each slot's grace ended");
        CHECK(sim.events.slots(event_kind::succeeded) == std::vector<std::string>{"2026-11-23T00:00:00Z"});
        CHECK(sim.events.of(event_kind::started)[0].lateness == 7s);
        CHECK(keys.claims == 4);
    }

    TEST_CASE("an outage past the grace window: retries back off, stop at the grace, and the slot is a misfire") {
        simulation sim;
        flaky_keys keys{lease_time(sim.clock)};
        keys.failing_claims = 1'000'000;
        scheduler s{sim.options({}, keys)};
        REQUIRE(s.add({"daily_reward", schedule::cron(must_parse("0 0 * * *")), nothing}));
        sim.run_until("2026-11-23T00:30:00Z", {&s});
        // 0, 1, 3, 7, 15, 23, 31, 39, 47, 55 s; the one at 63 s finds the grace over.
        CHECK(keys.claims == 10);
        const auto missed = sim.events.of(event_kind::skipped);
        REQUIRE(missed.size() == 1);
        CHECK(missed[0].reason == skip_reason::misfire);
        CHECK(missed[0].at == moment("2026-11-23T00:01:03Z"));
        CHECK(missed[0].message == "the backend was unavailable, and the slot waited past its 60 s grace window");
        CHECK(sim.events.count(event_kind::backend_error) == 1);

        keys.failing_claims = 0;
        sim.run_until("2026-11-24T00:01:00Z", {&s});
        CHECK(sim.events.slots(event_kind::succeeded) == std::vector<std::string>{"2026-11-24T00:00:00Z"});
        CHECK(sim.events.count(event_kind::backend_recovered) == 1);
    }

    TEST_CASE("a completion the backend did not take is sent again while the lease lasts: the slot is done") {
        simulation sim;
        flaky_keys keys{lease_time(sim.clock)};
        keys.failing_settles = 2;
        scheduler s{sim.options({}, keys)};
        REQUIRE(s.add({"daily_reward", schedule::cron(must_parse("0 0 * * *")), nothing}));
        sim.run_until("2026-11-23T00:01:00Z", {&s});
        // At the end, then 1 s and 2 s later (the claim retries' back-off): the third took.
        CHECK(keys.settles == 3);
        const auto again = keys.inner.claim("daily_reward@2026-11-23T00:00:00Z", 30s);
        REQUIRE(again);
        CHECK(again->status == grant_status::already_done);
        const auto errors = sim.events.of(event_kind::backend_error);
        REQUIRE(errors.size() == 1);
        CHECK(errors[0].message ==
              "completing daily_reward@2026-11-23T00:00:00Z: unreachable: redis at 127.0.0.1:1 "
              "refused the connection (sent again while the run key's lease lasts)");
        CHECK(sim.events.count(event_kind::succeeded) == 1);
    }

    TEST_CASE("a completion the backend never takes is given up when the lease runs out, and says so") {
        simulation sim;
        flaky_keys keys{lease_time(sim.clock)};
        keys.failing_settles = 1'000'000;
        scheduler s{sim.options({}, keys)};
        REQUIRE(s.add({"daily_reward", schedule::cron(must_parse("0 0 * * *")), nothing}));
        sim.run_until("2026-11-23T00:05:00Z", {&s});
        // Tries at 0, 1, 3, 7, 15, 23 and 31 s; the last one finds the 30 s lease over.
        CHECK(keys.settles == 7);
        const auto errors = sim.events.of(event_kind::backend_error);
        REQUIRE(errors.size() == 2);
        CHECK(
            errors[1].message.starts_with("after 7 tries, completing daily_reward@2026-11-23T00:00:00Z: unreachable"));
        CHECK(errors[1].at == moment("2026-11-23T00:00:31Z"));
    }

    TEST_CASE("a slot whose holder died runs again after its lease, with a higher token -- a completed one does not") {
        simulation sim;
        memory_keys keys{lease_time(sim.clock)};
        scheduler s{sim.options("b", keys)};
        REQUIRE(s.add(every("tick", 60s, nothing, {.lease_ttl = 10s})));
        // Another replica claimed 00:00 and died; it also claimed and completed 00:01.
        auto dead = keys.claim("tick@2026-11-23T00:00:00Z", 10s);
        REQUIRE(dead);
        REQUIRE(dead->acquired());
        sim.run_until("2026-11-23T00:00:05Z", {&s});
        CHECK(sim.events.count(event_kind::skipped, skip_reason::held_elsewhere) == 1);
        CHECK(sim.events.count(event_kind::started) == 0);
        sim.run_until("2026-11-23T00:00:59Z", {&s});
        const auto started = sim.events.of(event_kind::started);
        REQUIRE(started.size() == 1);
        CHECK(started[0].slot == "2026-11-23T00:00:00Z");
        CHECK(started[0].fence > dead->lease.fence);
        CHECK(started[0].at == moment("2026-11-23T00:00:11Z"));  // lease (10 s) plus a margin of 1 s

        auto finished = keys.claim("tick@2026-11-23T00:01:00Z", 10s);
        REQUIRE(finished);
        REQUIRE(keys.complete(finished->lease, 1h));
        sim.run_until("2026-11-23T00:01:30Z", {&s});
        CHECK(sim.events.count(event_kind::started) == 1);
        CHECK(sim.events.count(event_kind::skipped, skip_reason::already_done) == 1);  // said once, no recheck
    }

    TEST_CASE("an abandoned run leaves its key to the lease: the slot runs again after it, here, with a higher token") {
        auto mode = distribution::exactly_once;
        SUBCASE("exactly_once") {}
        SUBCASE("exactly_once_serial") { mode = distribution::exactly_once_serial; }
        simulation sim;
        flaky_keys keys{lease_time(sim.clock)};
        scheduler s{sim.options("alone", keys)};
        std::vector<fence_token> fences;
        const auto job = [&](const job_context& run) {
            fences.push_back(run.fence);
            if (fences.size() == 1) {
                run.abandon();  // as a run whose connection was lost: nothing known to be written
                throw std::runtime_error("connection lost");
            }
        };
        REQUIRE(s.add(every("tick", 3600s, job, {.mode = mode, .retry = {.max_attempts = 3}, .lease_ttl = 10s})));
        sim.run_until("2026-11-23T00:00:05Z", {&s});
        REQUIRE(fences.size() == 1);
        // The key neither completed nor released: left to its lease. The job's lease is let go.
        CHECK(keys.settles == (mode == distribution::exactly_once_serial ? 1 : 0));
        const auto failed = sim.events.of(event_kind::failed);
        REQUIRE(failed.size() == 1);
        CHECK(failed[0].message ==
              "connection lost (abandoned: its run key is left to its lease; the slot runs "
              "again once that runs out)");
        CHECK(sim.events.count(event_kind::retrying) == 0);  // not an attempt that failed: no retry
        auto meanwhile = keys.inner.claim("tick@2026-11-23T00:00:00Z", 10s);
        REQUIRE(meanwhile);
        CHECK(meanwhile->status == grant_status::held_elsewhere);

        sim.run_until("2026-11-23T00:00:30Z", {&s});
        REQUIRE(fences.size() == 2);
        CHECK(fences[1] > fences[0]);
        const auto started = sim.events.of(event_kind::started);
        REQUIRE(started.size() == 2);
        CHECK(started[1].at == moment("2026-11-23T00:00:11Z"));  // the lease (10 s) and a margin of 1 s
        CHECK(started[1].attempt == 1);
        CHECK(sim.events.count(event_kind::succeeded) == 1);
        auto after = keys.inner.claim("tick@2026-11-23T00:00:00Z", 10s);
        REQUIRE(after);
        CHECK(after->status == grant_status::already_done);
    }

    TEST_CASE(
        "abandon() without a run key changes nothing: the run ends as it returned; outside a scheduler it is a no-op") {
        simulation sim;
        scheduler s{sim.options()};
        int runs = 0;
        REQUIRE(s.add(every("local", 3600s, [&](const job_context& run) {
            ++runs;
            run.abandon();
            CHECK(run.abandoned());
        })));
        sim.run_until("2026-11-23T00:01:00Z", {&s});
        CHECK(runs == 1);
        const auto failed = sim.events.of(event_kind::failed);
        CHECK(failed.empty());  // returned: a run with no key has nothing to leave to a lease
        CHECK(sim.events.count(event_kind::succeeded) == 1);
        const job_context outside{};
        outside.abandon();
        CHECK_FALSE(outside.abandoned());
    }
}

}  // namespace
}  // namespace sked::test

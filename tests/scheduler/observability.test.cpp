#include "sked/status_format.hpp"

#include <doctest/doctest.h>

#include <sked/log_hook.hpp>
#include <sked/memory_backend.hpp>

#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim.hpp"

namespace sked::test {
namespace {

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

TEST_SUITE("scheduler") {
    TEST_CASE("log lines: the familiar one-line forms, with job, slot, attempt and fence") {
        simulation sim;
        memory_keys keys;
        std::vector<std::string> lines;
        auto options = sim.options("replica-1");
        options.backend = keys;
        options.hooks.push_back(log_lines([&](std::string_view line) { lines.emplace_back(line); }));
        scheduler s{std::move(options)};
        REQUIRE(s.add({"daily_reward", schedule::once(at("2026-11-23T00:00:00Z")),
                       [&](const job_context&) { sim.clock.advance(1204ms); }}));
        REQUIRE(s.add({"broken", schedule::once(at("2026-11-23T00:00:05Z")),
                       [](const job_context&) { throw std::runtime_error("no \"db\"\nconnection"); }}));
        sim.run_until("2026-11-23T00:01:00Z", {&s});
        REQUIRE(lines.size() == 4);
        CHECK(lines[0].starts_with("job started job=daily_reward slot=2026-11-23T00:00:00Z attempt=1 fence="));
        CHECK(contains(lines[0], " late=0.000s replica=replica-1"));
        CHECK(lines[1].starts_with("job completed in 1.204s job=daily_reward slot=2026-11-23T00:00:00Z attempt=1"));
        CHECK(lines[3].starts_with("job failed after 0.000s job=broken"));
        CHECK(lines[3].ends_with(R"( error="no \"db\" connection")"));

        event skipped{.kind = event_kind::skipped,
                      .reason = skip_reason::held_elsewhere,
                      .job = "daily_reward",
                      .nominal = at("2026-11-23T00:00:00Z")};
        CHECK(log_line(skipped) == "skipped_lock job=daily_reward slot=2026-11-23T00:00:00Z");
        skipped.reason = skip_reason::already_done;
        CHECK(log_line(skipped) == "skipped_done job=daily_reward slot=2026-11-23T00:00:00Z");
        const event recovered{
            .kind = event_kind::backend_recovered, .duration = 3001ms, .message = "3 calls failed during the outage"};
        CHECK(log_line(recovered) == R"(backend recovered after 3.001s detail="3 calls failed during the outage")");
    }

    TEST_CASE("status: next run, last run and result, counts, lateness -- rendered as Prometheus and JSON") {
        simulation sim;
        scheduler s{sim.options("r1")};
        REQUIRE(s.add({"sweep", schedule::every(std::chrono::seconds{60}), nothing, {.offset = 5s}}));
        REQUIRE(s.add({"fails \"quoted\"", schedule::once(at("2026-11-23T00:00:30Z")),
                       [](const job_context&) { throw std::runtime_error("x"); }}));
        REQUIRE(s.add({"paused", schedule::every(std::chrono::seconds{60}), nothing}));
        s.pause("paused");
        sim.run_until("2026-11-23T00:02:10Z", {&s});
        const auto status = s.status();
        CHECK(status.running);
        CHECK(status.replica == "r1");
        REQUIRE(status.jobs.size() == 3);
        const auto& sweep = status.jobs[0];
        CHECK(sweep.name == "sweep");
        CHECK(sweep.schedule == "every 60s");
        CHECK(utc(*sweep.next_slot) == "2026-11-23T00:03:00Z");
        CHECK(*sweep.next_run == moment("2026-11-23T00:03:05Z"));
        CHECK(sweep.stats.counts.succeeded == 3);
        CHECK(sweep.stats.last_result == event_kind::succeeded);
        CHECK(utc(*sweep.stats.last_slot) == "2026-11-23T00:02:00Z");
        CHECK(status.jobs[1].stats.counts.failed == 1);
        CHECK(status.jobs[1].schedule == "once 2026-11-23T00:00:30Z");
        CHECK_FALSE(status.jobs[1].next_slot);
        CHECK(status.jobs[2].paused);
        CHECK(status.jobs[2].stats.counts.skipped(skip_reason::paused) == 3);

        const auto metrics = to_prometheus(status);
        CHECK(contains(metrics, "# TYPE sked_job_runs_total counter\n"));
        CHECK(contains(metrics, "sked_up 1\n"));
        CHECK(contains(metrics, "sked_job_runs_total{sked_job=\"sweep\",outcome=\"succeeded\"} 3\n"));
        CHECK(contains(metrics, "sked_job_runs_total{sked_job=\"fails \\\"quoted\\\"\",outcome=\"failed\"} 1\n"));
        CHECK(contains(metrics, "sked_job_skips_total{sked_job=\"paused\",reason=\"paused\"} 3\n"));
        CHECK(contains(metrics, "sked_job_duration_seconds_bucket{sked_job=\"sweep\",le=\"+Inf\"} 3\n"));
        CHECK(contains(metrics, "sked_job_next_run_timestamp_seconds{sked_job=\"sweep\"} 1795392185\n"));

        const auto json = to_json(status);
        CHECK(json.starts_with(
            R"({"running":true,"now":"2026-11-23T00:02:10Z","replica":"r1","stagger":true,)"
            R"("backend":{"reachable":true,"clock_offset_ms":null,"restarts":0},"jobs":[{"name":"sweep")"));
        CHECK(contains(json, R"("name":"fails \"quoted\"")"));
        CHECK(contains(json, R"("next_slot":"2026-11-23T00:03:00Z","next_run":"2026-11-23T00:03:05Z")"));
        CHECK(contains(json, R"("max_lateness_ms":0,"grace_ms":60000,)"));
        CHECK(contains(metrics, "sked_job_grace_seconds{sked_job=\"sweep\"} 60\n"));
        CHECK(contains(json, R"("skipped":{"held_elsewhere":0,"already_done":0,"overlap":0,"paused":3,)"));
        CHECK(json.ends_with("}}}]}"));
    }

    TEST_CASE("to_prometheus writes floats as Prometheus reads them: shortest digits, +Inf and NaN, escaped labels") {
        scheduler_status status;
        status.jobs.resize(1);
        auto& job = status.jobs[0];
        job.name = "a\\b\"c\nd";
        job.next_run = instant{std::chrono::milliseconds{1'795'392'185'123}};
        job.stats.last_lateness = std::chrono::milliseconds{1'500};
        job.stats.durations.add(std::chrono::milliseconds{250});
        auto metrics = to_prometheus(status);
        CHECK(contains(metrics, "sked_job_next_run_timestamp_seconds{sked_job=\"a\\\\b\\\"c\\nd\"} 1795392185.123\n"));
        CHECK(contains(metrics, "sked_job_lateness_seconds{sked_job=\"a\\\\b\\\"c\\nd\"} 1.5\n"));
        CHECK(contains(metrics, "sked_job_duration_seconds_bucket{sked_job=\"a\\\\b\\\"c\\nd\",le=\"0.001\"} 0\n"));
        CHECK(contains(metrics, "sked_job_duration_seconds_bucket{sked_job=\"a\\\\b\\\"c\\nd\",le=\"0.5\"} 1\n"));
        CHECK(contains(metrics, "sked_job_duration_seconds_sum{sked_job=\"a\\\\b\\\"c\\nd\"} 0.25\n"));

        job.stats.durations.sum = std::numeric_limits<double>::infinity();
        CHECK(contains(to_prometheus(status), "_sum{sked_job=\"a\\\\b\\\"c\\nd\"} +Inf\n"));
        job.stats.durations.sum = std::numeric_limits<double>::quiet_NaN();
        CHECK(contains(to_prometheus(status), "_sum{sked_job=\"a\\\\b\\\"c\\nd\"} NaN\n"));
    }

    TEST_CASE("status(summary): the scheduler's own fields as status() has them, without the jobs") {
        virtual_clock clock{instant{std::chrono::hours{24 * 20'000}}};
        scheduler s{{.clock = clock.source(), .steady = clock.steady_source(), .replica = "web-1"}};
        REQUIRE(s.add({"tick", schedule::every(std::chrono::seconds{1}), [](const job_context&) {}}));
        const auto full = s.status();
        const auto summary = s.status(status_detail::summary);
        CHECK(full.jobs.size() == 1);
        CHECK(summary.jobs.empty());
        CHECK(summary.one_offs.empty());
        CHECK(summary.running == full.running);
        CHECK(summary.replica == "web-1");
        CHECK(summary.now == full.now);
        CHECK(summary.backend.reachable == full.backend.reachable);
    }

    TEST_CASE("since_last_pass: none before the first run_due, then the steady time since the last one began") {
        virtual_clock clock{instant{std::chrono::hours{24 * 20'000}}};
        scheduler s{{.clock = clock.source(), .steady = clock.steady_source()}};
        CHECK_FALSE(s.since_last_pass().has_value());
        (void)s.run_due();
        CHECK(s.since_last_pass() == std::chrono::milliseconds{0});
        clock.advance(std::chrono::milliseconds{4'500});
        CHECK(s.since_last_pass() == std::chrono::milliseconds{4'500});
        clock.step(std::chrono::hours{-1});  // the wall clock is not what it measures
        CHECK(s.since_last_pass() == std::chrono::milliseconds{4'500});
        (void)s.run_due();
        CHECK(s.since_last_pass() == std::chrono::milliseconds{0});
    }
}

}  // namespace
}  // namespace sked::test

// The contract every sked::durable_jobs backend keeps (memory in sked_tests, Redis in
// sked_redis_tests, PostgreSQL in sked_postgres_tests). A fixture provides `keys`, `ttl` and `pass(duration)` as for
// contract.hpp; due times are instants the test passes in, so they need no clock.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <initializer_list>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "sked/one_off.hpp"

#include "contract.hpp"

namespace sked::test {

inline const instant jobs_t0 = instant{std::chrono::sys_days{std::chrono::year{2026} / 12 / 1}};

inline one_off_record job_at(std::string_view key, instant run_at, std::string_view payload = "p") {
    return {"expire_node", key, std::chrono::floor<std::chrono::seconds>(run_at), run_at, payload};
}

template <class Answer>
auto value_of(Answer&& answer) {
    REQUIRE_MESSAGE(answer.has_value(), (answer ? std::string{} : answer.error().message()));
    return *std::forward<Answer>(answer);
}

TEST_CASE_TEMPLATE_DEFINE("jobs contract: a job is created once, taken once when due, finished once", Fixture,
                          jobs_once_contract) {
    const auto before = wall_clock_us();
    Fixture f;
    const auto due = jobs_t0 + 10s;
    CHECK(value_of(f.keys.create_job(job_at("node-42", due, "campaign=7"))) == create_status::created);
    CHECK(value_of(f.keys.create_job(job_at("node-42", due + 1h, "other"))) == create_status::exists);

    auto early = value_of(f.keys.take_jobs("expire_node", due - 1s, 16, f.ttl));
    CHECK(early.jobs.empty());
    CHECK(early.left.pending == 1);
    REQUIRE(early.left.next_due.has_value());
    CHECK(*early.left.next_due == due);  // the first create's, unchanged by the second

    auto batch = value_of(f.keys.take_jobs("expire_node", due, 16, f.ttl));
    REQUIRE(batch.jobs.size() == 1);
    const auto& job = batch.jobs.front();
    CHECK(job.kind == "expire_node");
    CHECK(job.key == "node-42");
    CHECK(job.payload == "campaign=7");
    CHECK(job.slot == std::chrono::floor<std::chrono::seconds>(due));
    CHECK(job.run_at == due);
    CHECK(job.attempt == 1);
    CHECK(job.lease.fence >= before);
    CHECK(batch.left.pending == 0);
    CHECK(batch.left.in_flight == 1);
    CHECK(value_of(f.keys.take_jobs("expire_node", due + 1h, 16, f.ttl)).jobs.empty());  // it is taken

    CHECK(value_of(f.keys.finish_job(job, 1000ms)));
    CHECK_FALSE(value_of(f.keys.finish_job(job, 1000ms)));
    CHECK(value_of(f.keys.create_job(job_at("node-42", due))) == create_status::done);
    CHECK_FALSE(value_of(f.keys.cancel_job("expire_node", "node-42")));
    f.pass(1100ms);
    CHECK(value_of(f.keys.create_job(job_at("node-42", due))) == create_status::created);
    CHECK(value_of(f.keys.take_jobs("other_kind", due, 16, f.ttl)).jobs.empty());  // kinds are apart
}

TEST_CASE_TEMPLATE_DEFINE("jobs contract: a taker whose lease ran out loses the job to the next", Fixture,
                          jobs_lease_contract) {
    Fixture f;
    REQUIRE(value_of(f.keys.create_job(job_at("a", jobs_t0))) == create_status::created);
    auto first = value_of(f.keys.take_jobs("expire_node", jobs_t0, 16, f.ttl)).jobs.at(0);
    f.pass(f.ttl / 2);
    CHECK(value_of(f.keys.renew_job(first, f.ttl)));
    f.pass(f.ttl * 3 / 4);  // alive only thanks to the renewal
    CHECK(value_of(f.keys.take_jobs("expire_node", jobs_t0 + 1h, 16, f.ttl)).jobs.empty());
    f.pass(f.ttl);
    auto second = value_of(f.keys.take_jobs("expire_node", jobs_t0, 16, f.ttl)).jobs.at(0);
    CHECK(second.key == "a");
    CHECK(second.attempt == 1);  // the same attempt: its first taker never finished it
    CHECK(second.lease.fence > first.lease.fence);
    CHECK(second.lease.owner != first.lease.owner);
    CHECK_FALSE(value_of(f.keys.renew_job(first, f.ttl)));
    CHECK_FALSE(value_of(f.keys.finish_job(first, 1000ms)));
    CHECK_FALSE(value_of(f.keys.retry_job(first, jobs_t0, 2)));
    CHECK(value_of(f.keys.finish_job(second, 1000ms)));
}

TEST_CASE_TEMPLATE_DEFINE("jobs contract: a retry waits for its time as the next attempt -- a release as it was",
                          Fixture, jobs_retry_contract) {
    Fixture f;
    REQUIRE(value_of(f.keys.create_job(job_at("r", jobs_t0, "x"))) == create_status::created);
    auto first = value_of(f.keys.take_jobs("expire_node", jobs_t0, 16, f.ttl)).jobs.at(0);
    CHECK(value_of(f.keys.retry_job(first, jobs_t0 + 30s, 2)));
    auto waiting = value_of(f.keys.take_jobs("expire_node", jobs_t0 + 29s, 16, f.ttl));
    CHECK(waiting.jobs.empty());
    CHECK(waiting.left.next_due == jobs_t0 + 30s);
    auto second = value_of(f.keys.take_jobs("expire_node", jobs_t0 + 30s, 16, f.ttl)).jobs.at(0);
    CHECK(second.attempt == 2);
    CHECK(second.payload == "x");
    CHECK(second.slot == std::chrono::floor<std::chrono::seconds>(jobs_t0));  // the slot stays
    CHECK(value_of(f.keys.release_job(second)));
    auto third = value_of(f.keys.take_jobs("expire_node", jobs_t0 + 30s, 16, f.ttl)).jobs.at(0);
    CHECK(third.attempt == 2);
    CHECK(third.run_at == jobs_t0 + 30s);
}

TEST_CASE_TEMPLATE_DEFINE("jobs contract: cancel removes a pending or a running job", Fixture, jobs_cancel_contract) {
    Fixture f;
    REQUIRE(value_of(f.keys.create_job(job_at("p", jobs_t0))) == create_status::created);
    REQUIRE(value_of(f.keys.create_job(job_at("q", jobs_t0))) == create_status::created);
    CHECK(value_of(f.keys.cancel_job("expire_node", "p")));
    CHECK_FALSE(value_of(f.keys.cancel_job("expire_node", "p")));
    CHECK_FALSE(value_of(f.keys.cancel_job("expire_node", "never")));
    auto batch = value_of(f.keys.take_jobs("expire_node", jobs_t0, 16, f.ttl));
    REQUIRE(batch.jobs.size() == 1);
    CHECK(batch.jobs[0].key == "q");
    CHECK(value_of(f.keys.cancel_job("expire_node", "q")));  // running: removed, not stopped
    CHECK_FALSE(value_of(f.keys.finish_job(batch.jobs[0], 1000ms)));
    CHECK(value_of(f.keys.create_job(job_at("q", jobs_t0))) == create_status::created);  // not kept as done
}

TEST_CASE_TEMPLATE_DEFINE("jobs contract: one take hands out a batch of co-due jobs, each once", Fixture,
                          jobs_batch_contract) {
    Fixture f;
    for (int i = 0; i < 300; ++i) {
        const auto key = numbered("n", static_cast<std::size_t>(i));
        REQUIRE(value_of(f.keys.create_job(job_at(key, jobs_t0 + std::chrono::milliseconds{i}))) ==
                create_status::created);
    }
    auto first = value_of(f.keys.take_jobs("expire_node", jobs_t0 + 1s, 256, f.ttl));
    auto second = value_of(f.keys.take_jobs("expire_node", jobs_t0 + 1s, 256, f.ttl));
    CHECK(first.jobs.size() == 256);
    CHECK(second.jobs.size() == 44);
    CHECK(first.jobs.front().key == "n0");  // earliest first
    std::set<std::string> keys;
    std::set<fence_token> fences;
    for (const auto* b : {&first, &second})
        for (const auto& j : b->jobs)
            keys.insert(j.key), fences.insert(j.lease.fence);
    CHECK(keys.size() == 300);
    CHECK(fences.size() == 300);
    CHECK(second.jobs.front().lease.fence > first.jobs.back().lease.fence);
}

// For a backend with sked::batch_finishes (memory, PostgreSQL).
TEST_CASE_TEMPLATE_DEFINE("jobs contract: a batch of finishes answers each in order -- false for a job not the taker's",
                          Fixture, jobs_finish_batch_contract) {
    Fixture f;
    for (std::size_t i = 0; i < 5; ++i)
        REQUIRE(value_of(f.keys.create_job(job_at(numbered("n", i), jobs_t0))) == create_status::created);
    auto taken = value_of(f.keys.take_jobs("expire_node", jobs_t0, 16, f.ttl));
    REQUIRE(taken.jobs.size() == 5);
    CHECK(value_of(f.keys.cancel_job("expire_node", taken.jobs[1].key)));  // cancelled while it ran
    CHECK(value_of(f.keys.finish_job(taken.jobs[3], 1000ms)));  // finished on its own already
    std::vector<job_finish> batch;
    for (const auto& job : taken.jobs)
        batch.push_back({.job = &job, .keep = 1000ms});
    batch.push_back({.job = &taken.jobs[0], .keep = 1000ms});  // twice in one batch
    const auto answers = value_of(f.keys.finish_jobs(batch));
    REQUIRE(answers.size() == 6);
    const bool expected[] = {true, false, true, false, true, false};
    for (std::size_t i = 0; i < 6; ++i) {
        CAPTURE(i);
        REQUIRE(answers[i].has_value());
        CHECK(*answers[i] == expected[i]);
    }
    for (const std::size_t done : std::initializer_list<std::size_t>{0, 2, 3, 4})
        CHECK(value_of(f.keys.create_job(job_at(taken.jobs[done].key, jobs_t0))) == create_status::done);
    CHECK(value_of(f.keys.create_job(job_at(taken.jobs[1].key, jobs_t0))) == create_status::created);  // cancelled
    CHECK(value_of(f.keys.finish_jobs(std::span<const job_finish>{})).empty());
}

TEST_CASE_TEMPLATE_DEFINE("jobs contract: bad input is refused with what and where, and nothing is stored", Fixture,
                          jobs_input_contract) {
    Fixture f;
    const std::string big(max_payload_bytes + 1, 'x');
    auto too_big = f.keys.create_job(job_at("k", jobs_t0, big));
    REQUIRE_FALSE(too_big.has_value());
    CHECK(too_big.error().code == backend_errc::invalid_argument);
    CHECK(too_big.error().message().find("expire_node/k: payload of 65537 bytes is larger than the limit of 65536") !=
          std::string::npos);
    CHECK(value_of(f.keys.create_job(job_at("k", jobs_t0, std::string(max_payload_bytes, 'y')))) ==
          create_status::created);
    auto no_key = f.keys.create_job(job_at("", jobs_t0));
    REQUIRE_FALSE(no_key.has_value());
    CHECK(no_key.error().message().find("one-off key is empty") != std::string::npos);
    auto braces = f.keys.create_job({"a{b}", "k", {}, jobs_t0, ""});
    REQUIRE_FALSE(braces.has_value());
    CHECK(braces.error().message().find("contains '{'") != std::string::npos);
    CHECK(value_of(f.keys.take_jobs("expire_node", jobs_t0, 16, f.ttl)).jobs.at(0).payload.size() == max_payload_bytes);
}

}  // namespace sked::test

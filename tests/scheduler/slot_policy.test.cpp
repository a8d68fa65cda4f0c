// The job policies as pure functions: no scheduler, no clock, no lock.
#include "sked/detail/slot_policy.hpp"

#include <doctest/doctest.h>

#include <sked/detail/claim_protocol.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "../support/time.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;
using detail::calendar_decision;
using detail::overlap_action;
using std::chrono::milliseconds;
using std::chrono::sys_seconds;

instant moment(std::string_view text) { return instant{at(text)}; }

const schedule minutely = schedule::every(60s);

TEST_SUITE("slot policy") {
    TEST_CASE("first slot: the first at or after now to the second, or the one after the last handled") {
        CHECK(utc(detail::first_slot(minutely, std::nullopt, moment("2026-11-23T00:00:00Z") + 300ms)) ==
              "2026-11-23T00:00:00Z");
        CHECK(utc(detail::first_slot(minutely, std::nullopt, moment("2026-11-23T00:00:01Z"))) ==
              "2026-11-23T00:01:00Z");
        // After a restart, the slot after the recorded one, however long ago: it meets the misfire policy.
        CHECK(utc(detail::first_slot(minutely, at("2026-11-20T00:00:00Z"), moment("2026-11-23T00:00:00Z"))) ==
              "2026-11-20T00:01:00Z");
    }

    TEST_CASE("first slot of a one-off job: its instant, even past, unless it was handled") {
        const auto timeout = schedule::once(at("2026-11-22T00:00:00Z"));
        const auto now = moment("2026-11-23T00:00:00Z");
        CHECK(utc(detail::first_slot(timeout, std::nullopt, now)) == "2026-11-22T00:00:00Z");
        CHECK(utc(detail::first_slot(timeout, at("2026-11-21T00:00:00Z"), now)) == "2026-11-22T00:00:00Z");
        CHECK_FALSE(detail::first_slot(timeout, at("2026-11-22T00:00:00Z"), now));
    }

    TEST_CASE("planned start: slot + offset + jitter, the jitter fixed by name and slot and below the next slot") {
        const auto slot = at("2026-11-23T00:00:00Z");
        CHECK(detail::start_rule{"sweep", 15s, 0ms}.planned_start(minutely, slot) == instant{slot} + 15s);
        const detail::start_rule jittered{"sweep", 0s, 1h};
        std::set<milliseconds> seen;
        for (int k = 0; k < 100; ++k) {
            const auto s = slot + std::chrono::minutes{k};
            const auto jitter = jittered.planned_start(minutely, s) - instant{s};
            CHECK(jitter >= 0ms);
            CHECK(jitter < 60s);  // capped below the gap, though an hour was allowed
            CHECK(jitter == jittered.planned_start(minutely, s) - instant{s});
            seen.insert(jitter);
        }
        CHECK(seen.size() > 90);
        // A one-off has no next slot: the whole jitter is allowed.
        const auto once = schedule::once(slot);
        CHECK(detail::start_rule{"t", 0s, 5s}.planned_start(once, slot) - instant{slot} < 5'001ms);
        // Every second leaves 999 ms of room; a name and slot give the same jitter every time.
        const auto every_second = schedule::every(1s);
        CHECK(detail::start_rule{"t", 0s, 1h}.planned_start(every_second, slot) - instant{slot} < 1s);
    }

    TEST_CASE("misfire: run_once runs the latest and reports the rest as one skip") {
        const job_options run_once{};
        const auto d = detail::decide_misfire(minutely, {"m", 0s, 0ms}, run_once, at("2026-11-23T00:01:00Z"),
                                              moment("2026-11-23T00:10:30Z"));
        CHECK(utc(d.slot) == "2026-11-23T00:10:00Z");
        CHECK(d.due == moment("2026-11-23T00:10:00Z"));
        CHECK_FALSE(d.catching_up);
        REQUIRE(d.missed);
        CHECK(*d.missed == "slots 2026-11-23T00:01:00Z to before 2026-11-23T00:10:00Z missed the 60 s grace window");
        CHECK_FALSE(d.too_late);
    }

    TEST_CASE("misfire: skip keeps the latest when it is within grace, and skips it too when it is not") {
        const job_options skip{.on_misfire = misfire::skip};
        const auto within = detail::decide_misfire(minutely, {"m", 0s, 0ms}, skip, at("2026-11-23T00:01:00Z"),
                                                   moment("2026-11-23T00:10:30Z"));
        CHECK(utc(within.slot) == "2026-11-23T00:10:00Z");
        CHECK_FALSE(within.too_late);
        const auto daily = schedule::cron(must_parse("0 0 * * *"));
        const auto past = detail::decide_misfire(daily, {"d", 0s, 0ms}, skip, at("2026-11-20T00:00:00Z"),
                                                 moment("2026-11-23T00:02:00Z"));
        CHECK(utc(past.slot) == "2026-11-23T00:00:00Z");
        REQUIRE(past.too_late);
        CHECK(*past.too_late == "started 120000 ms late, grace 60 s");
    }

    TEST_CASE("misfire: run_each keeps the latest max_catch_up, oldest first, and catches up behind a run") {
        const job_options each{.on_misfire = misfire::run_each, .max_catch_up = 3};
        const auto d = detail::decide_misfire(minutely, {"m", 0s, 0ms}, each, at("2026-11-23T00:01:00Z"),
                                              moment("2026-11-23T00:10:30Z"));
        CHECK(utc(d.slot) == "2026-11-23T00:08:00Z");
        CHECK(d.catching_up);
        REQUIRE(d.missed);
        CHECK(d.missed->starts_with("slots 2026-11-23T00:01:00Z to before 2026-11-23T00:08:00Z"));
        const job_options all{.on_misfire = misfire::run_each};
        const auto every = detail::decide_misfire(minutely, {"m", 0s, 0ms}, all, at("2026-11-23T00:01:00Z"),
                                                  moment("2026-11-23T00:10:30Z"));
        CHECK(utc(every.slot) == "2026-11-23T00:01:00Z");
        CHECK_FALSE(every.missed);
    }

    TEST_CASE("overlap: what a slot does while its job runs here") {
        using detail::decide_overlap;
        for (const auto policy : {overlap::skip, overlap::queue_one, overlap::allow, overlap::cancel_running})
            CHECK(decide_overlap(0, policy, false, false) == overlap_action::start);
        CHECK(decide_overlap(1, overlap::skip, false, false) == overlap_action::skip);
        CHECK(decide_overlap(1, overlap::allow, false, false) == overlap_action::start);
        CHECK(decide_overlap(1, overlap::cancel_running, false, false) == overlap_action::cancel_then_start);
        CHECK(decide_overlap(1, overlap::queue_one, false, false) == overlap_action::queue);
        CHECK(decide_overlap(1, overlap::queue_one, false, true) == overlap_action::skip);  // one waits already
        // Catching up queues behind the run, whatever the policy.
        CHECK(decide_overlap(2, overlap::skip, true, false) == overlap_action::queue);
        CHECK(decide_overlap(2, overlap::allow, true, true) == overlap_action::skip);
    }

    TEST_CASE("calendar: a recurring slot outside is skipped, a one-off is moved, no calendar lets all go") {
        using action = calendar_decision::action;
        const auto office = calendar::business_hours({});  // Mon-Fri 09:00-17:00 UTC
        const auto saturday = moment("2026-11-28T10:00:00Z");
        CHECK(detail::decide_calendar(std::nullopt, schedule::kind::every, saturday).what == action::go);
        CHECK(detail::decide_calendar(office, schedule::kind::every, moment("2026-11-27T10:00:00Z")).what ==
              action::go);
        CHECK(detail::decide_calendar(office, schedule::kind::cron, saturday).what == action::skip);
        const auto moved = detail::decide_calendar(office, schedule::kind::once, saturday);
        CHECK(moved.what == action::move);
        CHECK(moved.moved_to == moment("2026-11-30T09:00:00Z"));
        // A fraction of a second into a closed minute moves to the next allowed second, never earlier.
        const auto evening =
            detail::decide_calendar(office, schedule::kind::once, moment("2026-11-27T17:00:00Z") + 1ms);
        CHECK(evening.moved_to == moment("2026-11-30T09:00:00Z"));
    }

    TEST_CASE("a slot whose claim keeps failing is given up at the end of its grace, or when a later slot is due") {
        const auto daily = schedule::cron(cron::parse("0 0 * * *").value());
        const auto slot = at("2026-11-23T00:00:00Z");
        const detail::start_rule rule{.name = "daily"};
        const auto given_up = [&](const schedule& s, std::string_view now, const job_options& with,
                                  milliseconds plus = 0ms) {
            return detail::claim_given_up(s, rule, with, slot, moment(now) + plus);
        };
        const job_options o{.grace = 60s};
        CHECK_FALSE(given_up(daily, "2026-11-23T00:01:00Z", o));  // 60 s: still within grace
        const auto late = given_up(daily, "2026-11-23T00:01:00Z", o, 1ms);
        REQUIRE(late);
        CHECK(*late == "the slot waited past its 60 s grace window");
        // A one-off has no later slot: only the grace ends it.
        CHECK(given_up(schedule::once(slot), "2026-11-23T00:01:01Z", o));
        // A later slot that came due ends it, whatever the grace.
        const job_options patient{.grace = std::chrono::hours{48}};
        CHECK_FALSE(given_up(daily, "2026-11-23T23:59:59Z", patient));
        const auto superseded = given_up(daily, "2026-11-24T00:00:00Z", patient);
        REQUIRE(superseded);
        CHECK(*superseded == "a later slot, 2026-11-24T00:00:00Z, came due while the slot waited");
        // run_each keeps the slot until max_catch_up later slots have come due.
        const job_options each{.on_misfire = misfire::run_each, .grace = 60s, .max_catch_up = 2};
        CHECK_FALSE(given_up(daily, "2026-11-24T12:00:00Z", each));
        const auto behind = given_up(daily, "2026-11-25T00:00:00Z", each);
        REQUIRE(behind);
        CHECK(*behind == "the slot waited while 2 later slots came due (max_catch_up)");
    }

    TEST_CASE("retry delay: initial * multiplier^(attempt-1), capped, plus up to the jitter, the same every time") {
        const retry_policy r{.max_attempts = 10, .initial_delay = 10s, .multiplier = 3, .max_delay = 5min};
        const auto slot = at("2026-11-23T00:00:00Z");
        const auto first = detail::retry_delay(r, "flaky", slot, 1);
        CHECK(first >= 10s);
        CHECK(first <= 12s);
        const auto second = detail::retry_delay(r, "flaky", slot, 2);
        CHECK(second >= 30s);
        CHECK(second <= 36s);
        const auto late = detail::retry_delay(r, "flaky", slot, 9);
        CHECK(late >= 5min);
        CHECK(late <= 6min);
        CHECK(detail::retry_delay(r, "flaky", slot, 2) == second);
        CHECK(detail::retry_delay({.jitter = 0}, "x", slot, 1) == 1s);
    }

    TEST_CASE("lease timing: renewals follow lease_guard's rule (a third of the ttl), retries and rechecks bounded") {
        for (milliseconds ttl{1}; ttl <= 200'000ms; ttl += 1ms) {
            if (detail::claim_protocol::renew_interval(ttl) != ttl / 3) {
                FAIL("renew_interval(" << ttl.count() << " ms) is not a third of it");
            }
        }
        CHECK(detail::claim_protocol::claim_retry_delay(30s) == 1s);
        CHECK(detail::claim_protocol::claim_retry_delay(2s) == 666ms);
        // Back-off through an outage: doubling, at most 8 s.
        CHECK(detail::claim_protocol::claim_retry_delay(30s, 1) == 2s);
        CHECK(detail::claim_protocol::claim_retry_delay(30s, 3) == 8s);
        CHECK(detail::claim_protocol::claim_retry_delay(30s, 60) == 8s);
        CHECK(detail::claim_protocol::claim_retry_delay(2s, 2) == 2'664ms);
        CHECK(detail::claim_protocol::recheck_delay(30s) == 31s);
        CHECK(detail::claim_protocol::recheck_delay(2s) == 2'200ms);
    }

    TEST_CASE("lease timing: a queue_one wait looks at the lease in a different phase each time, within 0.5-1 s") {
        // A fixed period beside a per-second job met its runs every time (never free).
        // Over 20 looks the phases modulo a second spread over most of it.
        milliseconds at{0};
        std::vector<bool> tenth_seen(10, false);
        for (std::uint16_t looks = 1; looks <= 20; ++looks) {
            const auto wait = detail::claim_protocol::lock_wait_delay(30s, looks);
            CHECK(wait >= 500ms);
            CHECK(wait < 1s);
            at += wait;
            tenth_seen[static_cast<std::size_t>(at.count() % 1000 / 100)] = true;
        }
        CHECK(std::count(tenth_seen.begin(), tenth_seen.end(), true) >= 8);
        CHECK(detail::claim_protocol::lock_wait_delay(2s, 1) >= 333ms);
    }
}

}  // namespace
}  // namespace sked::test

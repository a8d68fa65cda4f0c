// The contract every lock backend and key store keeps, written once and run against
// each backend (memory in sked_tests, Redis in sked_redis_tests), so they stay
// interchangeable. A fixture provides `locks`, `keys`, `ttl` and `pass(duration)`,
// which moves time on (a test clock, or a real sleep for a real server).
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "sked/idempotency.hpp"
#include "sked/lock.hpp"

#include "../support/numbered.hpp"

namespace sked::test {

using namespace std::chrono_literals;

inline std::uint64_t wall_clock_us() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

template <class Grant>
const lease& acquired_lease(const Grant& answer) {
    REQUIRE_MESSAGE(answer.has_value(), (answer ? std::string{} : answer.error().message()));
    REQUIRE(answer->status == grant_status::acquired);
    return answer->lease;
}

template <class Grant>
grant_status status_of(const Grant& answer) {
    REQUIRE_MESSAGE(answer.has_value(), (answer ? std::string{} : answer.error().message()));
    return answer->status;
}

template <class Flag>
bool flag_of(const Flag& answer) {
    REQUIRE_MESSAGE(answer.has_value(), (answer ? std::string{} : answer.error().message()));
    return *answer;
}

TEST_CASE_TEMPLATE_DEFINE("lock contract: one holder at a time, fencing tokens grow", Fixture, lock_contract) {
    const auto before = wall_clock_us();
    Fixture f;
    const lease first = acquired_lease(f.locks.try_lock("sweep", f.ttl));
    CHECK(first.name == "sweep");
    CHECK(first.fence >= before);  // tokens start at the backend's clock in µs
    CHECK(first.valid_until > lease_clock::now() - 1h);
    CHECK(status_of(f.locks.try_lock("sweep", f.ttl)) == grant_status::held_elsewhere);
    CHECK(status_of(f.locks.try_lock("other", f.ttl)) == grant_status::acquired);

    CHECK(flag_of(f.locks.unlock(first)));
    CHECK_FALSE(flag_of(f.locks.unlock(first)));  // no longer ours
    const lease second = acquired_lease(f.locks.try_lock("sweep", f.ttl));
    CHECK(second.fence > first.fence);
    CHECK(second.owner != first.owner);
    lease stale = first;
    CHECK_FALSE(flag_of(f.locks.renew(stale, f.ttl)));  // a stale lease cannot renew
    CHECK_FALSE(flag_of(f.locks.unlock(first)));  // nor release the new holder's lock
    CHECK(status_of(f.locks.try_lock("sweep", f.ttl)) == grant_status::held_elsewhere);
}

TEST_CASE_TEMPLATE_DEFINE("lock contract: a lease expires unless renewed", Fixture, lock_expiry_contract) {
    Fixture f;
    lease held = acquired_lease(f.locks.try_lock("expiry", f.ttl));
    f.pass(f.ttl * 6 / 10);
    const auto previous_validity = held.valid_until;
    CHECK(flag_of(f.locks.renew(held, f.ttl)));
    CHECK(held.valid_until > previous_validity);
    f.pass(f.ttl * 6 / 10);  // 1.2 ttl after the claim, 0.6 after the renewal: still held
    CHECK(status_of(f.locks.try_lock("expiry", f.ttl)) == grant_status::held_elsewhere);

    f.pass(f.ttl * 6 / 10);  // now expired
    const lease next = acquired_lease(f.locks.try_lock("expiry", f.ttl));
    CHECK(next.fence > held.fence);
    CHECK_FALSE(flag_of(f.locks.renew(held, f.ttl)));
    CHECK_FALSE(flag_of(f.locks.unlock(held)));
    CHECK(flag_of(f.locks.unlock(next)));
}

TEST_CASE_TEMPLATE_DEFINE("key contract: claim, complete, already done, retention", Fixture, key_contract) {
    Fixture f;
    const auto key = run_key("daily_reward", std::chrono::sys_days{std::chrono::year{2026} / 11 / 23});
    const lease claimed = acquired_lease(f.keys.claim(key, f.ttl));
    CHECK(claimed.name == key);
    CHECK(status_of(f.keys.claim(key, f.ttl)) == grant_status::held_elsewhere);
    CHECK(flag_of(f.keys.complete(claimed, f.ttl * 2)));
    CHECK(status_of(f.keys.claim(key, f.ttl)) == grant_status::already_done);
    f.pass(f.ttl * 3 / 2);
    CHECK(status_of(f.keys.claim(key, f.ttl)) == grant_status::already_done);  // kept for 2 ttl
    f.pass(f.ttl);
    const lease again = acquired_lease(f.keys.claim(key, f.ttl));  // retention over
    CHECK(again.fence > claimed.fence);
}

TEST_CASE_TEMPLATE_DEFINE("key contract: release for a retry, and a holder that died", Fixture, key_failure_contract) {
    Fixture f;
    const lease first = acquired_lease(f.keys.claim("drop@14:05", f.ttl));
    CHECK(flag_of(f.keys.release(first)));  // the run failed: give the key back
    const lease retry = acquired_lease(f.keys.claim("drop@14:05", f.ttl));
    CHECK(retry.fence > first.fence);
    CHECK_FALSE(flag_of(f.keys.complete(first, f.ttl)));  // the first holder is not the holder

    f.pass(f.ttl * 3 / 2);  // the retry's holder died without completing
    const lease third = acquired_lease(f.keys.claim("drop@14:05", f.ttl));
    CHECK(third.fence > retry.fence);
    CHECK_FALSE(flag_of(f.keys.complete(retry, f.ttl)));  // too late: a new holder has it
    CHECK_FALSE(flag_of(f.keys.release(retry)));
    CHECK(flag_of(f.keys.complete(third, f.ttl)));
    CHECK(status_of(f.keys.claim("drop@14:05", f.ttl)) == grant_status::already_done);

    // A holder whose lease ran out while nobody else claimed may still record the work.
    const lease slow = acquired_lease(f.keys.claim("slow@1", f.ttl));
    f.pass(f.ttl * 3 / 2);
    CHECK(flag_of(f.keys.complete(slow, f.ttl)));
    CHECK(status_of(f.keys.claim("slow@1", f.ttl)) == grant_status::already_done);
}

TEST_CASE_TEMPLATE_DEFINE("key contract: a claim abandoned by a dead holder is told apart from a free or settled one",
                          Fixture, abandoned_contract) {
    Fixture f;
    const std::vector<std::string> names{"job@1", "job@2", "job@3", "job@4", "job@5"};
    const lease dead = acquired_lease(f.keys.claim(names[0], f.ttl));
    const lease done = acquired_lease(f.keys.claim(names[1], f.ttl));
    const lease failed = acquired_lease(f.keys.claim(names[2], f.ttl));
    const lease alive = acquired_lease(f.keys.claim(names[3], f.ttl));  // names[4]: never claimed
    CHECK(flag_of(f.keys.complete(done, 1h)));
    CHECK(flag_of(f.keys.release(failed)));
    const auto before = f.keys.abandoned(names);
    REQUIRE(before);
    CHECK(*before == std::vector<bool>{false, false, false, false, false});  // dead's lease still runs
    f.pass(f.ttl / 2);
    auto renewed = alive;
    CHECK(flag_of(f.keys.renew(renewed, f.ttl)));
    f.pass(f.ttl * 3 / 4);
    const auto after = f.keys.abandoned(names);
    REQUIRE(after);
    CHECK(*after == std::vector<bool>{true, false, false, false, false});
    // Claimed again by a live holder: no longer abandoned.
    (void)acquired_lease(f.keys.claim(names[0], f.ttl));
    CHECK(*f.keys.abandoned(names) == std::vector<bool>{false, false, false, false, false});
    (void)dead;
}

TEST_CASE_TEMPLATE_DEFINE("backend contract: bad names and durations are refused before anything happens", Fixture,
                          input_contract) {
    Fixture f;
    const auto refused = [](const auto& answer, std::string_view mentions) {
        REQUIRE_FALSE(answer.has_value());
        CHECK(answer.error().code == backend_errc::invalid_argument);
        CHECK_MESSAGE(answer.error().detail.find(mentions) != std::string::npos, answer.error().message());
    };
    refused(f.locks.try_lock("", f.ttl), "lock name is empty");
    refused(f.keys.claim(std::string(1025, 'k'), f.ttl), "1025 bytes; the limit is 1024");
    refused(f.keys.claim(std::string("bin\0ary", 7), f.ttl), "control byte 0 at offset 3");
    refused(f.keys.claim("line\nbreak", f.ttl), "control byte 10 at offset 4");
    refused(f.locks.try_lock("zero", 0ms), "ttl of 0 ms");
    refused(f.keys.claim("long", std::chrono::hours{24 * 31}), "outside 1 ms to 30 days");
    // Nothing was half-applied: each name is still free.
    CHECK(status_of(f.locks.try_lock("zero", f.ttl)) == grant_status::acquired);
    CHECK(status_of(f.keys.claim("long", f.ttl)) == grant_status::acquired);
    CHECK(status_of(f.keys.claim(std::string(1024, 'k'), f.ttl)) == grant_status::acquired);
    CHECK(status_of(f.keys.claim("ünïcode-päth@2026", f.ttl)) == grant_status::acquired);
}

TEST_CASE_TEMPLATE_DEFINE("backend contract: tokens of one name strictly increase over many holders", Fixture,
                          fence_contract) {
    Fixture f;
    fence_token last = 0;
    for (int round = 0; round < 200; ++round) {
        const lease held = acquired_lease(f.locks.try_lock("counter", f.ttl));
        REQUIRE(held.fence > last);
        last = held.fence;
        REQUIRE(flag_of(f.locks.unlock(held)));
    }
}

TEST_CASE_TEMPLATE_DEFINE("key contract: claims and settlements in batches answer each item as alone", Fixture,
                          batch_contract) {
    Fixture f;
    const std::vector<std::string> names{"batch@1", "batch@2", "batch@3", "batch@1"};
    const auto grants = f.keys.claim_many(names, f.ttl);
    REQUIRE_MESSAGE(grants.has_value(), (grants ? std::string{} : grants.error().message()));
    REQUIRE(grants->size() == 4);
    CHECK((*grants)[0].acquired());
    CHECK((*grants)[1].acquired());
    CHECK((*grants)[2].acquired());
    CHECK((*grants)[3].status == grant_status::held_elsewhere);  // the first item took it
    CHECK(status_of(f.keys.claim("batch@2", f.ttl)) == grant_status::held_elsewhere);

    const auto slot = std::chrono::sys_seconds{std::chrono::seconds{1'795'392'000}};
    lease stale = (*grants)[2].lease;
    stale.owner += "-not-mine";
    const std::vector<key_settlement> ends{
        {.key = &(*grants)[0].lease, .completed = true, .keep = f.ttl * 2, .job = "batch", .record = slot},
        {.key = &(*grants)[1].lease, .completed = false},
        {.key = &stale, .completed = true, .keep = f.ttl * 2}};
    const auto settled = f.keys.settle_many(ends);
    REQUIRE_MESSAGE(settled.has_value(), (settled ? std::string{} : settled.error().message()));
    REQUIRE(settled->size() == 3);
    CHECK(flag_of((*settled)[0].key));
    CHECK(flag_of((*settled)[0].recorded));
    CHECK(flag_of((*settled)[1].key));
    CHECK_FALSE(flag_of((*settled)[1].recorded));  // nothing to record
    CHECK_FALSE(flag_of((*settled)[2].key));  // not the holder's lease
    CHECK(status_of(f.keys.claim("batch@1", f.ttl)) == grant_status::already_done);
    CHECK(status_of(f.keys.claim("batch@2", f.ttl)) == grant_status::acquired);  // released
    CHECK(status_of(f.keys.claim("batch@3", f.ttl)) == grant_status::held_elsewhere);  // still the holder's
    const auto recorded = f.keys.last_slot("batch");
    REQUIRE(recorded.has_value());
    CHECK(*recorded == std::optional{slot});

    // A bad item refuses the whole batch, naming it, before anything is claimed.
    const std::vector<std::string> with_bad{"batch@4", ""};
    const auto refused = f.keys.claim_many(with_bad, f.ttl);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == backend_errc::invalid_argument);
    CHECK(refused.error().detail.find("item 1 of the batch") != std::string::npos);
    CHECK(status_of(f.keys.claim("batch@4", f.ttl)) == grant_status::acquired);
}

}  // namespace sked::test

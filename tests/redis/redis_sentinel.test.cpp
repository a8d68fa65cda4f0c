// sked::redis through Redis Sentinel, against real servers on loopback: a master, a
// replica and three sentinels (tests/support/sentinel_fleet.hpp). The contracts every
// backend keeps, run through the sentinels with WAIT; finding the master and the errors
// when it cannot be found; and failovers, by SIGKILL and by the sentinels' own command.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../lock/contract.hpp"
#include "../lock/jobs_contract.hpp"
#include "../support/sentinel_fleet.hpp"
#include "sked/redis/store.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;

sentinel_fleet& shared_fleet() {
    static sentinel_fleet fleet;
    return fleet;
}

redis::options waiting(redis::options settings) {
    settings.wait_replicas = 1;
    return settings;
}

// The contracts, each call through the sentinels' master and acknowledged by the replica.
struct sentinel_fixture {
    std::string prefix = fresh_prefix();
    redis::locks locks{waiting(shared_fleet().client(prefix))};
    redis::keys keys{waiting(shared_fleet().client(prefix))};
    std::chrono::milliseconds ttl{150};
    void pass(std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); }
};

TEST_CASE_TEMPLATE_INVOKE(lock_contract, sentinel_fixture);
TEST_CASE_TEMPLATE_INVOKE(key_contract, sentinel_fixture);
TEST_CASE_TEMPLATE_INVOKE(key_failure_contract, sentinel_fixture);
TEST_CASE_TEMPLATE_INVOKE(batch_contract, sentinel_fixture);
TEST_CASE_TEMPLATE_INVOKE(fence_contract, sentinel_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_once_contract, sentinel_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_retry_contract, sentinel_fixture);

// What a server holds under `key`, asked directly ("" when nothing).
std::string value_on(const redis_server& server, const std::string& key) {
    redis::detail::connection link{server.client()};
    auto reply = link.run({"GET", key});
    REQUIRE_MESSAGE(reply.has_value(), (reply ? std::string{} : reply.error().message()));
    return (*reply)->type == REDIS_REPLY_STRING ? std::string(redis::detail::text_of(**reply)) : std::string{};
}

// A claim made while the replica acknowledges nothing (SIGSTOP): the master applies it,
// the WAIT after it falls short, and the caller gets a timeout instead of the answer.
template <class Claim>
auto claim_unacknowledged(sentinel_fleet& fleet, Claim claim) {
    fleet.first_replica().pause();
    auto answer = claim();
    fleet.first_replica().resume();
    REQUIRE_FALSE(answer);
    CHECK(answer.error().code == backend_errc::timeout);
    return answer;
}

std::string role_of(const redis_server& server) {
    redis::detail::connection link{server.client()};
    auto reply = link.run({"ROLE"});
    if (!reply || (*reply)->type != REDIS_REPLY_ARRAY || (*reply)->elements == 0) return {};
    return std::string(redis::detail::text_of(*(*reply)->element[0]));
}

TEST_SUITE("redis sentinel") {
    TEST_CASE("the master is found through the sentinels, past one that is down; WAIT puts each claim on the replica") {
        auto& fleet = shared_fleet();
        auto settings = waiting(fleet.client(fresh_prefix()));
        settings.sentinels.insert(settings.sentinels.begin(), {"127.0.0.1", free_loopback_port()});
        redis::keys keys{settings};
        const auto claimed = acquired_lease(keys.claim("daily@1", 10s));
        const auto key = settings.prefix + ":key:{daily@1}";
        CHECK(value_on(fleet.first_master(), key).starts_with("r|" + std::to_string(claimed.fence) + "|"));
        // WAIT 1 answered before the claim did: the replica has it already.
        CHECK(value_on(fleet.first_replica(), key) == value_on(fleet.first_master(), key));
    }

    TEST_CASE("a master name no sentinel knows is a settings error naming each sentinel") {
        auto settings = shared_fleet().client(fresh_prefix());
        settings.master_name = "nope";
        redis::keys keys{settings};
        const auto answer = keys.claim("daily@1", 10s);
        REQUIRE_FALSE(answer);
        CHECK(answer.error().code == backend_errc::server_error);
        for (const auto& sentinel : settings.sentinels)
            CHECK_MESSAGE(answer.error().detail.find("sentinel " + sentinel.text() + " knows no master named 'nope'") !=
                              std::string::npos,
                          answer.error().detail);
    }

    TEST_CASE("no sentinel answering is an outage, naming what each said") {
        redis::options settings;
        settings.sentinels = {{"127.0.0.1", free_loopback_port()}, {"127.0.0.1", free_loopback_port()}};
        settings.master_name = "sked";
        settings.connect_timeout = 200ms;
        redis::keys keys{settings};
        const auto answer = keys.claim("daily@1", 10s);
        REQUIRE_FALSE(answer);
        CHECK(answer.error().code == backend_errc::unreachable);
        CHECK_MESSAGE(answer.error().detail.starts_with("no sentinel led to a master named 'sked': cannot connect to "),
                      answer.error().detail);
        CHECK(answer.error().detail.find(settings.sentinels[1].text()) != std::string::npos);
    }

    TEST_CASE("WAIT for more replicas than answer fails the call as a timeout, saying how many had it") {
        auto settings = waiting(shared_fleet().client(fresh_prefix()));
        settings.wait_replicas = 2;
        settings.wait_timeout = 50ms;
        redis::keys keys{settings};
        const auto answer = keys.claim("daily@1", 10s);
        REQUIRE_FALSE(answer);
        CHECK(answer.error().code == backend_errc::timeout);
        CHECK_MESSAGE(answer.error().detail.find("1 of 2 replicas had the writes within 50 ms") != std::string::npos,
                      answer.error().detail);
    }

    TEST_CASE(
        "a claim whose WAIT fell short is the same claim when sent again: the retry gets the key, with its "
        "token, and nobody else does") {
        auto& fleet = shared_fleet();
        auto settings = waiting(fleet.client(fresh_prefix()));
        settings.wait_timeout = 100ms;
        redis::keys keys{settings};
        redis::keys other{settings};
        claim_unacknowledged(fleet, [&] { return keys.claim("daily@1", 60s); });
        const auto record = value_on(fleet.first_master(), settings.prefix + ":key:{daily@1}");
        REQUIRE(record.starts_with("r|"));  // the master applied it

        CHECK(status_of(other.claim("daily@1", 60s)) == grant_status::held_elsewhere);
        const auto again = acquired_lease(keys.claim("daily@1", 60s));
        CHECK(record.starts_with("r|" + std::to_string(again.fence) + "|"));
        CHECK(flag_of(keys.complete(again, 1h)));
        CHECK(status_of(other.claim("daily@1", 60s)) == grant_status::already_done);
    }

    TEST_CASE(
        "a batch sent again with new names among the lost ones: each lost claim is recognised by its owner, "
        "the new ones are claimed fresh") {
        auto& fleet = shared_fleet();
        auto settings = waiting(fleet.client(fresh_prefix()));
        settings.wait_timeout = 100ms;
        redis::keys keys{settings};
        redis::keys other{settings};
        const std::vector<std::string> first{"a@1", "b@1"};
        claim_unacknowledged(fleet, [&] { return keys.claim_many(first, 60s); });
        // "c@1" leads the chunk, so the chunk's owner is new and the lost two are sent
        // with their own owners after it.
        const std::vector<std::string> again{"c@1", "a@1", "b@1"};
        auto grants = keys.claim_many(again, 60s);
        REQUIRE(grants);
        for (std::size_t i = 0; i < again.size(); ++i) {
            CAPTURE(again[i]);
            REQUIRE((*grants)[i].acquired());
            const auto record = value_on(fleet.first_master(), settings.prefix + ":key:{" + again[i] + "}");
            CHECK(record.starts_with("r|" + std::to_string((*grants)[i].lease.fence) + "|"));
            CHECK(record.ends_with("|" + (*grants)[i].lease.owner));
            CHECK(status_of(other.claim(again[i], 60s)) == grant_status::held_elsewhere);
        }
        CHECK((*grants)[1].lease.owner == (*grants)[2].lease.owner);  // the lost chunk's
        CHECK((*grants)[0].lease.owner != (*grants)[1].lease.owner);
    }

    TEST_CASE("a WAIT timeout of 0 or not below the command timeout is refused before anything is sent") {
        for (const auto wait : {0ms, 500ms, 2000ms}) {
            auto settings = waiting(shared_fleet().client(fresh_prefix()));
            settings.command_timeout = 500ms;
            settings.wait_timeout = wait;
            redis::keys keys{settings};
            const auto answer = keys.claim("daily@1", 10s);
            REQUIRE_FALSE(answer);
            CHECK(answer.error().code == backend_errc::invalid_argument);
            CHECK_MESSAGE(answer.error().detail.find("wait_timeout must be above 0 and below command_timeout") !=
                              std::string::npos,
                          answer.error().detail);
            CHECK(value_on(shared_fleet().first_master(), settings.prefix + ":key:{daily@1}").empty());
        }
    }

    // Two replicas: with one, WAIT 1 fails every call once it is promoted, until the old
    // master is back as a replica (what a fleet gets for asking for WAIT).
    TEST_CASE(
        "master SIGKILLed: calls fail as an outage until the sentinels promote a replica; claims "
        "acknowledged by WAIT survive, and fencing tokens keep growing") {
        sentinel_fleet fleet{2};
        redis::keys keys{waiting(fleet.client())};
        const auto before = acquired_lease(keys.claim("daily@1", 60s));

        fleet.first_master().kill();
        const auto killed_at = std::chrono::steady_clock::now();
        auto during = keys.claim("daily@2", 60s);
        REQUIRE_FALSE(during);
        CHECK(during.error().code == backend_errc::unreachable);
        while (!during && std::chrono::steady_clock::now() - killed_at < 20s) {
            std::this_thread::sleep_for(50ms);
            during = keys.claim("daily@2", 60s);
        }
        const auto after = acquired_lease(during);
        MESSAGE("claims failed for " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - killed_at)
                                            .count()
                                     << " ms after the master died");
        const int promoted = fleet.named_master_port();
        CHECK((promoted == fleet.first_replica(0).port() || promoted == fleet.first_replica(1).port()));
        CHECK(after.fence > before.fence);
        // The claim from before the failover is still held, by its first holder.
        const auto again = keys.claim("daily@1", 60s);
        CHECK(status_of(again) == grant_status::held_elsewhere);
        CHECK(flag_of(keys.complete(before, 1h)));
        CHECK(status_of(keys.claim("daily@1", 60s)) == grant_status::already_done);
    }

    // The old master runs on, and takes writes until the sentinels reconfigure it (they
    // look at it every 10 s): the connection's check with a sentinel moves it first.
    TEST_CASE(
        "a failover the sentinels are told to make: the next call after a check goes to the new master, while "
        "the old one still takes writes") {
        sentinel_fleet fleet;
        auto settings = fleet.client();
        settings.sentinel_check = 100ms;
        redis::keys keys{settings};
        const auto before = acquired_lease(keys.claim("daily@1", 60s));
        fleet.fail_over();
        std::this_thread::sleep_for(settings.sentinel_check);
        const bool old_master_still_master = role_of(fleet.first_master()) == "master";

        const auto after = acquired_lease(keys.claim("daily@2", 60s));
        CHECK(after.fence > before.fence);
        CHECK(status_of(keys.claim("daily@1", 60s)) == grant_status::held_elsewhere);
        CHECK(value_on(fleet.first_replica(), "test:key:{daily@2}").starts_with("r|"));
        MESSAGE("the old master was " << std::string(old_master_still_master ? "still" : "no longer") << " a master");
    }

    TEST_CASE(
        "with sentinel_check 0, a connection to a master that a failover demoted is dropped at its READONLY "
        "answer, and the call goes again to the new master") {
        sentinel_fleet fleet;
        auto settings = fleet.client();
        settings.sentinel_check = 0ms;
        redis::keys keys{settings};
        (void)acquired_lease(keys.claim("daily@1", 60s));
        fleet.fail_over();
        // What the sentinels do to the old master when they next look at it (within 10 s).
        redis::detail::connection to_old{fleet.first_master().client()};
        REQUIRE(to_old.run({"REPLICAOF", "127.0.0.1", std::to_string(fleet.first_replica().port())}));
        REQUIRE(role_of(fleet.first_master()) == "slave");
        (void)acquired_lease(keys.claim("daily@2", 60s));
        CHECK(value_on(fleet.first_replica(), "test:key:{daily@2}").starts_with("r|"));
    }
}

}  // namespace
}  // namespace sked::test

// sked::redis on Redis Cluster, against real servers on loopback: three masters and
// their replicas (tests/support/redis_cluster.hpp). Key slots as the server computes
// them; the contracts every backend keeps; batches that span masters; a slot migrating
// (ASK) and migrated (MOVED); a master SIGKILLed and its replica promoted.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../lock/contract.hpp"
#include "../lock/jobs_contract.hpp"
#include "../support/redis_cluster.hpp"
#include "sked/idempotency.hpp"
#include "sked/redis/store.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;

redis_cluster& shared_cluster() {
    static redis_cluster cluster;
    return cluster;
}

struct cluster_fixture {
    std::string prefix = fresh_prefix();
    redis::locks locks{shared_cluster().client(prefix)};
    redis::keys keys{shared_cluster().client(prefix)};
    std::chrono::milliseconds ttl{150};
    void pass(std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); }
};

TEST_CASE_TEMPLATE_INVOKE(lock_contract, cluster_fixture);
TEST_CASE_TEMPLATE_INVOKE(key_contract, cluster_fixture);
TEST_CASE_TEMPLATE_INVOKE(key_failure_contract, cluster_fixture);
TEST_CASE_TEMPLATE_INVOKE(batch_contract, cluster_fixture);
TEST_CASE_TEMPLATE_INVOKE(fence_contract, cluster_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_once_contract, cluster_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_retry_contract, cluster_fixture);

std::vector<std::string> run_keys(std::size_t count) {
    std::vector<std::string> names;
    const auto slot = std::chrono::sys_seconds{std::chrono::seconds{1'780'000'000}};
    for (std::size_t i = 0; i < count; ++i)
        names.push_back(run_key("job" + std::to_string(i), slot));
    return names;
}

std::set<std::size_t> masters_holding(const std::vector<std::string>& names, const std::string& prefix) {
    std::set<std::size_t> masters;
    for (const auto& name : names)
        masters.insert(shared_cluster().master_of(redis::detail::key_slot(prefix + ":key:{" + name + "}")));
    return masters;
}

TEST_CASE("a key's cluster slot is the one the server computes") {
    std::vector<std::string> keys{"",
                                  "a",
                                  "foo",
                                  "123456789",
                                  "{user1000}.following",
                                  "{user1000}.followers",
                                  "foo{}{bar}",
                                  "foo{{bar}}zap",
                                  "foo{bar}{zap}",
                                  "{",
                                  "}{",
                                  "{}",
                                  "x{y"};
    for (int i = 0; i < 200; ++i)
        keys.push_back("sked:key:{job" + std::to_string(i) + "@2026-12-05T10:00:00Z}");
    for (const auto& key : keys) {
        auto answer = shared_cluster().ask(0, {"CLUSTER", "KEYSLOT", key});
        REQUIRE(answer->type == REDIS_REPLY_INTEGER);
        CHECK_MESSAGE(redis::detail::key_slot(key) == answer->integer, key);
    }
    CHECK(redis::detail::key_slot("{user1000}.following") == redis::detail::key_slot("{user1000}.followers"));
}

TEST_CASE("a batch of claims spans the masters, and each answer lands on its own name") {
    const auto prefix = fresh_prefix();
    redis::keys one{shared_cluster().client(prefix)}, other{shared_cluster().client(prefix)};
    const auto names = run_keys(300);
    REQUIRE(masters_holding(names, prefix).size() == redis_cluster::masters);

    auto first = one.claim_many(names, 5s);
    REQUIRE_MESSAGE(first.has_value(), (first ? std::string{} : first.error().message()));
    REQUIRE(first->size() == names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        REQUIRE((*first)[i].acquired());
        CHECK((*first)[i].lease.name == names[i]);
    }

    auto second = other.claim_many(names, 5s);
    REQUIRE(second.has_value());
    for (const auto& answer : *second)
        CHECK(answer.status == grant_status::held_elsewhere);

    // The ends of every run in one settle_many: completions on all three masters, and
    // each job's slot record where its own slot is.
    std::vector<key_settlement> ends;
    std::vector<std::string> jobs;
    const auto slot = std::chrono::sys_seconds{std::chrono::seconds{1'780'000'000}};
    for (std::size_t i = 0; i < names.size(); ++i)
        jobs.push_back("job" + std::to_string(i));
    for (std::size_t i = 0; i < names.size(); ++i)
        ends.push_back({.key = &(*first)[i].lease, .completed = true, .keep = 1h, .job = jobs[i], .record = slot});
    auto settled = one.settle_many(ends);
    REQUIRE(settled.has_value());
    for (const auto& end : *settled) {
        CHECK(end.key.has_value());
        CHECK(*end.key);
        CHECK(end.recorded.has_value());
    }
    auto third = other.claim_many(names, 5s);
    REQUIRE(third.has_value());
    for (const auto& answer : *third)
        CHECK(answer.status == grant_status::already_done);
    auto last = other.last_slot("job7");
    REQUIRE(last.has_value());
    CHECK(*last == slot);
    auto abandoned = other.abandoned(names);
    REQUIRE(abandoned.has_value());
    CHECK(std::count(abandoned->begin(), abandoned->end(), true) == 0);
}

TEST_CASE("the cluster's clock and identity come from one master") {
    redis::keys keys{shared_cluster().client(fresh_prefix())};
    auto facts = keys.facts();
    REQUIRE(facts.has_value());
    CHECK(facts->instance.size() == 40);
    CHECK(std::chrono::abs(facts->time - std::chrono::system_clock::now()) < 5s);
}

TEST_CASE("settings that cannot be a cluster are refused before anything is sent") {
    auto both = shared_cluster().client(fresh_prefix());
    both.sentinels = {{"127.0.0.1", 26379}};
    both.master_name = "sked";
    auto refused = redis::keys{both}.claim("k", 1s);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == backend_errc::invalid_argument);
    CHECK(refused.error().detail.find("both sentinels and cluster") != std::string::npos);

    auto database = shared_cluster().client(fresh_prefix());
    database.database = 2;
    auto wrong = redis::keys{database}.claim("k", 1s);
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error().code == backend_errc::invalid_argument);
    CHECK(wrong.error().detail.find("database 2") != std::string::npos);

    auto nowhere = shared_cluster().client(fresh_prefix());
    nowhere.cluster = {{"127.0.0.1", free_loopback_port()}};
    auto lost = redis::keys{nowhere}.claim("k", 1s);
    REQUIRE_FALSE(lost.has_value());
    CHECK(lost.error().code == backend_errc::unreachable);
    CHECK(lost.error().detail.find("no node of the cluster gave its slot map") != std::string::npos);
}

std::string node_id(std::size_t i) {
    return std::string(redis::detail::text_of(*shared_cluster().ask(i, {"CLUSTER", "MYID"})));
}

// Moves `slot` from master `from` to master `to`, in the order Redis documents: the
// target imports, the source migrates, the keys move, every master learns the owner.
void begin_migration(std::uint16_t slot, std::size_t from, std::size_t to) {
    shared_cluster().ask(to, {"CLUSTER", "SETSLOT", std::to_string(slot), "IMPORTING", node_id(from)});
    shared_cluster().ask(from, {"CLUSTER", "SETSLOT", std::to_string(slot), "MIGRATING", node_id(to)});
}

void end_migration(std::uint16_t slot, std::size_t from, std::size_t to) {
    auto keys = shared_cluster().ask(from, {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "1000"});
    for (std::size_t k = 0; k < keys->elements; ++k)
        shared_cluster().ask(from, {"MIGRATE", "127.0.0.1", std::to_string(shared_cluster().node(to).port()),
                                    std::string(redis::detail::text_of(*keys->element[k])), "0", "5000"});
    for (std::size_t i = 0; i < redis_cluster::masters; ++i)
        shared_cluster().ask(i, {"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", node_id(to)});
}

TEST_CASE("a slot in migration is followed by ASK, a migrated one by MOVED") {
    const auto prefix = fresh_prefix();
    redis::keys keys{shared_cluster().client(prefix)}, other{shared_cluster().client(prefix)};
    const auto names = run_keys(40);
    REQUIRE(keys.claim(names[0], 5s).has_value());  // both clients have read the map
    REQUIRE(other.claim(names[1], 5s).has_value());

    const auto slot = redis::detail::key_slot(prefix + ":key:{" + names[2] + "}");
    const auto from = shared_cluster().master_of(slot);
    REQUIRE(from < redis_cluster::masters);
    const auto to = (from + 1) % redis_cluster::masters;
    begin_migration(slot, from, to);

    // A name with no record in the migrating slot: the source answers ASK, the target
    // takes the claim after ASKING.
    auto claimed = keys.claim(names[2], 5s);
    REQUIRE_MESSAGE(claimed.has_value(), (claimed ? std::string{} : claimed.error().message()));
    REQUIRE(claimed->acquired());
    auto again = other.claim(names[2], 5s);
    REQUIRE(again.has_value());
    CHECK(again->status == grant_status::held_elsewhere);

    end_migration(slot, from, to);
    // Both clients' maps are old now: MOVED sends them to the new owner.
    auto renewed = keys.renew(claimed->lease, 5s);
    REQUIRE_MESSAGE(renewed.has_value(), (renewed ? std::string{} : renewed.error().message()));
    CHECK(*renewed);
    auto still = other.claim(names[2], 5s);
    REQUIRE(still.has_value());
    CHECK(still->status == grant_status::held_elsewhere);
    auto done = keys.complete(claimed->lease, 1h);
    REQUIRE(done.has_value());
    CHECK(*done);
    CHECK(shared_cluster().master_of(slot) == to);
}

// Last: it kills a master. The replica takes over within a bound the cluster's node
// timeout sets; a completion acknowledged by the replica (WAIT) survives, and tokens
// issued after the failover are above every one issued before. The killed node comes
// back as a replica of its successor, and calls that wait for a replica work again.
TEST_CASE("a master SIGKILLed is replaced by its replica, and the keys follow") {
    const auto prefix = fresh_prefix();
    auto settings = shared_cluster().client(prefix);
    redis::keys plain{settings};
    settings.wait_replicas = 1;
    redis::keys waiting{settings};
    const auto names = run_keys(30);
    auto claimed = waiting.claim_many(names, 30s);
    REQUIRE_MESSAGE(claimed.has_value(), (claimed ? std::string{} : claimed.error().message()));
    fence_token highest = 0;
    std::vector<key_settlement> ends;
    for (const auto& answer : *claimed) {
        REQUIRE(answer.acquired());
        highest = std::max(highest, answer.lease.fence);
        ends.push_back({.key = &answer.lease, .completed = true, .keep = 1h});
    }
    REQUIRE(waiting.settle_many(ends).has_value());

    const auto slot = redis::detail::key_slot(prefix + ":key:{" + names[0] + "}");
    const auto victim = shared_cluster().master_of(slot);
    REQUIRE(victim < shared_cluster().size());
    const auto killed_at = std::chrono::steady_clock::now();
    shared_cluster().node(victim).kill();

    // Claims in the victim's slot fail until its replica is promoted (a replica alone
    // cannot acknowledge WAIT then: the plain client asks).
    const auto fresh = "fresh:" + names[0];
    REQUIRE(redis::detail::key_slot(prefix + ":key:{" + fresh + "}") != slot);
    std::optional<grant> after;
    while (std::chrono::steady_clock::now() - killed_at < 20s) {
        auto answer = plain.claim_many(std::vector<std::string>{names[0], fresh}, 30s);
        if (answer) {
            CHECK((*answer)[0].status == grant_status::already_done);
            after = (*answer)[1];
            break;
        }
        CHECK_MESSAGE(
            (answer.error().code == backend_errc::unreachable || answer.error().code == backend_errc::timeout),
            answer.error().message());
        std::this_thread::sleep_for(100ms);
    }
    const auto resumed = std::chrono::steady_clock::now() - killed_at;
    MESSAGE("claims resumed " << std::chrono::duration_cast<std::chrono::milliseconds>(resumed).count()
                              << " ms after the master was killed");
    REQUIRE(after.has_value());
    REQUIRE(after->acquired());
    CHECK(after->lease.fence > highest);
    CHECK(resumed < 10s);

    shared_cluster().node(victim).start();
    shared_cluster().wait_until_ok();
    auto done = waiting.claim_many(names, 30s);
    REQUIRE_MESSAGE(done.has_value(), (done ? std::string{} : done.error().message()));
    for (const auto& answer : *done)
        CHECK(answer.status == grant_status::already_done);
}

}  // namespace
}  // namespace sked::test

#include "sked/redis/store.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

#include "../lock/contract.hpp"
#include "../lock/jobs_contract.hpp"
#include "../support/fake_server.hpp"
#include "../support/redis_server.hpp"

namespace sked::test {
namespace {

// Real time on a real server: pass() sleeps, so the ttl is short.
struct redis_fixture {
    std::string prefix = fresh_prefix();
    redis::locks locks{shared_redis_server().client(prefix)};
    redis::keys keys{shared_redis_server().client(prefix)};
    std::chrono::milliseconds ttl{150};
    void pass(std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); }
};

TEST_CASE_TEMPLATE_INVOKE(lock_contract, redis_fixture);
TEST_CASE_TEMPLATE_INVOKE(lock_expiry_contract, redis_fixture);
TEST_CASE_TEMPLATE_INVOKE(key_contract, redis_fixture);
TEST_CASE_TEMPLATE_INVOKE(key_failure_contract, redis_fixture);
TEST_CASE_TEMPLATE_INVOKE(batch_contract, redis_fixture);
TEST_CASE_TEMPLATE_INVOKE(abandoned_contract, redis_fixture);
TEST_CASE_TEMPLATE_INVOKE(input_contract, redis_fixture);
TEST_CASE_TEMPLATE_INVOKE(fence_contract, redis_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_once_contract, redis_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_lease_contract, redis_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_retry_contract, redis_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_cancel_contract, redis_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_batch_contract, redis_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_input_contract, redis_fixture);

redis::detail::reply_ptr raw(redis::detail::connection& link, redis::detail::command args) {
    auto reply = link.run(std::move(args));
    REQUIRE_MESSAGE(reply.has_value(), (reply ? std::string{} : reply.error().message()));
    return std::move(*reply);
}

// EVALSHA calls the server has run (INFO commandstats), 0 before the first.
long long script_calls(redis::detail::connection& link) {
    const auto info = raw(link, {"INFO", "commandstats"});
    const auto text = std::string(redis::detail::text_of(*info));
    const auto at = text.find("cmdstat_evalsha:calls=");
    return at == std::string::npos ? 0 : std::stoll(text.substr(at + std::strlen("cmdstat_evalsha:calls=")));
}

TEST_SUITE("redis") {
    TEST_CASE("redis: one string per name, under the prefix, with the name as the cluster hash tag") {
        redis_fixture f;
        const auto held = acquired_lease(f.locks.try_lock("sweep", 10s));
        const auto claimed = acquired_lease(f.keys.claim("daily@2026-11-23T00:00:00Z", 10s));
        redis::detail::connection link{shared_redis_server().client()};
        const auto value_of = [&](const std::string& key) {
            auto reply = raw(link, {"GET", key});
            REQUIRE(reply->type == REDIS_REPLY_STRING);
            return std::string(redis::detail::text_of(*reply));
        };
        // state|fence|until|owner
        const auto lock_record = value_of(f.prefix + ":lock:{sweep}");
        CHECK(lock_record.starts_with("r|" + std::to_string(held.fence) + "|"));
        CHECK(lock_record.ends_with("|" + held.owner));
        const auto key_record = value_of(f.prefix + ":key:{daily@2026-11-23T00:00:00Z}");
        CHECK(key_record.ends_with("|" + claimed.owner));
        REQUIRE(flag_of(f.keys.complete(claimed, 1h)));
        CHECK(value_of(f.prefix + ":key:{daily@2026-11-23T00:00:00Z}").starts_with("d|"));
        REQUIRE(flag_of(f.locks.unlock(held)));
        CHECK(value_of(f.prefix + ":lock:{sweep}") == "f|" + std::to_string(held.fence) + "|0|");
        auto ttl = raw(link, {"PTTL", f.prefix + ":key:{daily@2026-11-23T00:00:00Z}"});
        CHECK(ttl->integer > 3'600'000);  // the retention plus the fence memory
        CHECK(ttl->integer <= 3'600'000 + 24 * 3600 * 1000);
    }

    TEST_CASE("redis: scripts load once, and again only after the server forgot them") {
        redis_fixture f;
        REQUIRE(f.keys.claim("a", 10s));
        REQUIRE(f.keys.claim("b", 10s));
        CHECK(f.keys.script_loads() == 1);
        redis::detail::connection link{shared_redis_server().client()};
        raw(link, {"SCRIPT", "FLUSH"});
        CHECK(status_of(f.keys.claim("c", 10s)) == grant_status::acquired);  // NOSCRIPT, reload, retry
        CHECK(status_of(f.keys.claim("a", 10s)) == grant_status::held_elsewhere);
        CHECK(f.keys.script_loads() == 2);
    }

    TEST_CASE("redis: a pipelined batch claims each key once, in order") {
        redis_fixture f;
        std::vector<std::string> batch;
        for (std::size_t i = 0; i < 100; ++i)
            batch.push_back(numbered("batch@", i));
        REQUIRE(f.keys.claim("batch@7", 10s));
        const auto grants = f.keys.claim_many(batch, 10s);
        REQUIRE(grants);
        REQUIRE(grants->size() == 100);
        for (std::size_t i = 0; i < 100; ++i) {
            CHECK((*grants)[i].status == (i == 7 ? grant_status::held_elsewhere : grant_status::acquired));
            if (i != 7) CHECK((*grants)[i].lease.name == batch[i]);
        }
        batch.push_back("");  // one bad key refuses the whole batch before anything is sent
        batch.push_back("unsent@1");
        const auto refused = f.keys.claim_many(batch, 10s);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().detail == "key is empty (item 100 of the batch)");
        CHECK(status_of(f.keys.claim("unsent@1", 10s)) == grant_status::acquired);
    }

    TEST_CASE("redis: AUTH with a password and with an ACL user -- wrong credentials are 'auth' errors") {
        redis_server guarded{{"--requirepass", "s3cret"}};
        redis::detail::connection admin{[&] {
            auto settings = guarded.client();
            settings.password = "s3cret";
            return settings;
        }()};
        raw(admin, {"ACL", "SETUSER", "scheduler", "on", ">pw", "~*", "+@all"});

        auto settings = guarded.client();
        settings.password = "s3cret";
        CHECK(status_of(redis::keys{settings}.claim("k", 10s)) == grant_status::acquired);
        settings.user = "scheduler";
        settings.password = "pw";
        CHECK(status_of(redis::keys{settings}.claim("k2", 10s)) == grant_status::acquired);

        settings.password = "wrong";
        auto refused = redis::keys{settings}.claim("k3", 10s);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().code == backend_errc::auth);
        CHECK_MESSAGE(refused.error().detail.find("WRONGPASS") != std::string::npos, refused.error().message());

        settings.user.clear();
        settings.password.clear();
        auto anonymous = redis::locks{settings}.try_lock("k4", 10s);
        REQUIRE_FALSE(anonymous);
        CHECK(anonymous.error().code == backend_errc::auth);
        CHECK_MESSAGE(anonymous.error().detail.find("NOAUTH") != std::string::npos, anonymous.error().message());
    }

    TEST_CASE("redis: a server that is not Redis is a protocol error, a silent one a timeout") {
        auto http = fake_server::sending("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        auto settings = shared_redis_server().client();
        settings.port = http.port();
        auto answer = redis::keys{settings}.claim("k", 10s);
        REQUIRE_FALSE(answer);
        CHECK(answer.error().code == backend_errc::protocol);
        CHECK_MESSAGE(answer.error().detail.find("not a Redis reply") != std::string::npos, answer.error().message());

        auto silent = fake_server::silent();
        settings.port = silent.port();
        settings.command_timeout = std::chrono::milliseconds{200};
        const auto started = std::chrono::steady_clock::now();
        auto waited = redis::locks{settings}.try_lock("k", 10s);
        REQUIRE_FALSE(waited);
        CHECK(waited.error().code == backend_errc::timeout);
        CHECK(waited.error().detail.find("no reply within 200 ms") != std::string::npos);
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds{5});  // bounded, never hangs

        settings.port = free_loopback_port();  // nobody listens
        auto refused = redis::locks{settings}.try_lock("k", 10s);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().code == backend_errc::unreachable);
        CHECK_MESSAGE(refused.error().detail.find("Connection refused") != std::string::npos,
                      refused.error().message());
    }

    TEST_CASE("redis: replies of the wrong type are protocol errors that say what was expected") {
        // Speaks RESP, but answers every script with a bare integer or a short array.
        std::atomic<int> evals{0};
        auto odd = fake_server::speaking([&](const std::vector<std::string>& command) -> std::string {
            if (command[0] == "PING") return "+PONG\r\n";
            if (command[0] == "SCRIPT") return "$40\r\n" + std::string(40, 'a') + "\r\n";
            if (command[0] == "EVAL") return "$6\r\n7.0.15\r\n";  // redis.REDIS_VERSION
            return ++evals == 1 ? ":7\r\n" : "*2\r\n:1\r\n:1\r\n";
        });
        auto settings = shared_redis_server().client();
        settings.port = odd.port();
        redis::keys keys{settings};
        auto first = keys.claim("k", 10s);
        REQUIRE_FALSE(first);
        CHECK(first.error().code == backend_errc::protocol);
        CHECK(first.error().detail ==
              "claim on test:key:{k} answered an integer where an array of integers, the first the server's clock, "
              "then 1 or 3 per key (1 keys), was expected");
        auto second = keys.claim("k", 10s);
        REQUIRE_FALSE(second);
        CHECK(second.error().detail == "claim on test:key:{k} answered status 1 for key 1 of 1");
    }

    TEST_CASE("redis: a server older than Redis 7.0 is refused with a message that says so") {
        // Redis 6 scripts have no redis.REDIS_VERSION: the version EVAL answers nil.
        std::atomic<int> evalshas{0};
        auto old = fake_server::speaking([&](const std::vector<std::string>& command) -> std::string {
            if (command[0] == "PING") return "+PONG\r\n";
            if (command[0] == "EVAL") return "$-1\r\n";
            if (command[0] == "SCRIPT") return "$40\r\n" + std::string(40, 'a') + "\r\n";
            ++evalshas;
            return "-ERR syntax error\r\n";
        });
        auto settings = shared_redis_server().client();
        settings.port = old.port();
        auto answer = redis::keys{settings}.claim("k", 10s);
        REQUIRE_FALSE(answer);
        CHECK(answer.error().code == backend_errc::protocol);
        CHECK_MESSAGE(answer.error().detail.find("older than 7.0") != std::string::npos, answer.error().message());
        CHECK(evalshas == 0);  // nothing was run
    }

    TEST_CASE("redis: a name used by something else is a clear server error, never overwritten") {
        redis_fixture f;
        redis::detail::connection link{shared_redis_server().client()};
        raw(link, {"SET", f.prefix + ":key:{taken}", "a string"});
        auto answer = f.keys.claim("taken", 10s);
        REQUIRE_FALSE(answer);
        CHECK(answer.error().code == backend_errc::server_error);
        CHECK_MESSAGE(answer.error().detail.find("holds a value sked did not write") != std::string::npos,
                      answer.error().message());
        CHECK(std::string(redis::detail::text_of(*raw(link, {"GET", f.prefix + ":key:{taken}"}))) == "a string");

        raw(link, {"LPUSH", f.prefix + ":lock:{list}", "x"});
        auto other_type = f.locks.try_lock("list", 10s);
        REQUIRE_FALSE(other_type);
        CHECK(other_type.error().code == backend_errc::server_error);
        CHECK_MESSAGE(other_type.error().detail.find("WRONGTYPE") != std::string::npos, other_type.error().message());
    }

    // settle_many is one round trip: each item still gets what complete, release and
    // record_slot would have answered alone, its errors included, and the others go on.
    TEST_CASE("redis: a batch of settlements answers each item as alone, its errors included") {
        redis_fixture f;
        redis::detail::connection link{shared_redis_server().client()};
        const auto slot = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        std::vector<std::string> names, jobs;
        for (int i = 0; i < 72; ++i) {
            names.push_back("run" + std::to_string(i));
            jobs.push_back("job" + std::to_string(i));
        }
        auto claimed = f.keys.claim_many(names, 10s);
        REQUIRE(claimed.has_value());
        std::vector<lease> leases;
        for (const auto& g : *claimed)
            leases.push_back(g.lease);
        raw(link, {"SET", f.prefix + ":key:{run68}", "not sked's"});  // a completion that must fail
        raw(link, {"SET", f.prefix + ":slot:{job71}", "not sked's"});  // a record that must fail
        raw(link, {"DEL", f.prefix + ":key:{run70}"});
        raw(link, {"LPUSH", f.prefix + ":key:{run70}", "x"});  // another type
        std::vector<key_settlement> ends;
        for (int i = 0; i < 72; ++i)
            ends.push_back({.key = &leases[static_cast<std::size_t>(i)],
                            .completed = i != 67,  // 67: a release
                            .keep = 1h,
                            .job = jobs[static_cast<std::size_t>(i)],
                            .record = i == 69 ? slot + 60s : slot});
        const auto scripts_before = script_calls(link);
        auto settled = f.keys.settle_many(ends);
        REQUIRE_MESSAGE(settled.has_value(), (settled ? std::string{} : settled.error().message()));
        REQUIRE(settled->size() == 72);
        CHECK(script_calls(link) - scripts_before == 2);  // one settle script per 64 runs
        for (int i = 0; i < 67; ++i) {
            CHECK(flag_of((*settled)[static_cast<std::size_t>(i)].key));
            CHECK(flag_of((*settled)[static_cast<std::size_t>(i)].recorded));
        }
        CHECK(flag_of((*settled)[67].key));  // released
        CHECK(status_of(f.keys.claim("run67", 10s)) == grant_status::acquired);
        CHECK(status_of(f.keys.claim("run0", 10s)) == grant_status::already_done);
        auto last = f.keys.last_slot("job0");
        REQUIRE(last.has_value());
        CHECK(*last == slot);

        const auto alone = f.keys.complete(leases[68], 1h);
        REQUIRE_FALSE(alone);
        REQUIRE_FALSE((*settled)[68].key);
        CHECK((*settled)[68].key.error().code == backend_errc::server_error);
        CHECK((*settled)[68].key.error().detail == alone.error().detail);
        CHECK(flag_of((*settled)[68].recorded));
        REQUIRE_FALSE((*settled)[69].recorded);
        CHECK_MESSAGE((*settled)[69].recorded.error().detail.find(" s ahead of the server clock; this replica's clock "
                                                                  "is fast") != std::string::npos,
                      (*settled)[69].recorded.error().detail);
        CHECK(flag_of((*settled)[69].key));
        REQUIRE_FALSE((*settled)[70].key);
        CHECK((*settled)[70].key.error().code == backend_errc::server_error);
        CHECK_MESSAGE((*settled)[70].key.error().detail.find("WRONGTYPE") != std::string::npos,
                      (*settled)[70].key.error().detail);
        const auto record_alone = f.keys.record_slot("job71", slot);
        REQUIRE_FALSE(record_alone);
        REQUIRE_FALSE((*settled)[71].recorded);
        CHECK((*settled)[71].recorded.error().detail == record_alone.error().detail);
        CHECK(flag_of((*settled)[71].key));
    }
}

}  // namespace
}  // namespace sked::test

#include <doctest/doctest.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../lock/contract.hpp"
#include "../support/redis_server.hpp"
#include "sked/log_hook.hpp"
#include "sked/redis/redlock.hpp"
#include "sked/redis/store.hpp"
#include "sked/scheduler.hpp"
#include "sked/status_format.hpp"

#ifndef SKED_LEASE_HOLDER
#error "SKED_LEASE_HOLDER must name the lease holder program"
#endif

namespace sked::test {
namespace {

using namespace std::chrono_literals;

TEST_SUITE("redis faults") {
    TEST_CASE("redis stopped mid-test: calls fail with a clear error, then recover on their own") {
        redis_server server;
        redis::keys keys{server.client()};
        redis::locks locks{server.client()};
        const lease before = acquired_lease(locks.try_lock("sweep", 10s));

        server.stop();
        for (int i = 0; i < 3; ++i) {
            auto down = keys.claim("during@1", 10s);
            REQUIRE_FALSE(down);
            CHECK(down.error().code == backend_errc::unreachable);
            CHECK_MESSAGE(down.error().detail.find(std::to_string(server.port())) != std::string::npos,
                          down.error().message());
            lease stale = before;
            CHECK_FALSE(locks.renew(stale, 10s).has_value());
        }

        server.start();  // same port, empty: no persistence in this test
        const lease after = acquired_lease(locks.try_lock("sweep", 10s));
        CHECK(after.fence > before.fence);  // the counter was lost; the clock floor keeps order
        CHECK(locks.script_loads() == 2);  // the restarted server answered NOSCRIPT once
        CHECK(status_of(keys.claim("during@1", 10s)) == grant_status::acquired);
        CHECK(keys.script_loads() == 1);  // the server's script cache is shared: loaded already
    }

    TEST_CASE("redis restarted without persistence: the scheduler says so once, with what may run again") {
        redis_server server;
        redis::keys keys{server.client()};
        std::vector<std::string> lines;
        std::mutex guard;
        scheduler s{{.backend = keys,
                     .hooks = {log_lines([&](std::string_view line) {
                         std::lock_guard hold{guard};
                         lines.emplace_back(line);
                     })},
                     .backend_check_every = 50ms}};
        s.run_due();
        const auto first = keys.facts();
        REQUIRE(first);
        CHECK(first->instance.size() == 40);  // INFO's run_id
        server.stop();
        server.start();  // same port, empty
        for (int i = 0; i < 5; ++i) {
            std::this_thread::sleep_for(60ms);
            s.run_due();
        }
        std::lock_guard hold{guard};
        REQUIRE(lines.size() == 1);
        CHECK_MESSAGE(lines[0].starts_with("backend error error=\"the backend restarted or failed over (instance "),
                      lines[0]);
        CHECK(lines[0].find("completed slots within keep_done may run again") != std::string::npos);
        CHECK(s.status().backend.restarts == 1);
    }

    // A scheduler with a per-second job on `server`, its log lines kept.
    struct logged_scheduler {
        redis::keys keys;
        std::mutex guard;
        std::vector<std::string> lines;
        scheduler engine;

        explicit logged_scheduler(const redis_server& server)
            : keys{server.client()}, engine{{.backend = keys, .hooks = {log_lines([this](std::string_view line) {
                                                                  std::lock_guard hold{guard};
                                                                  lines.emplace_back(line);
                                                              })}}} {
            REQUIRE(engine.add({"tick", schedule::every(1s), [](const job_context&) {}}));
        }
        // Drives it in real time for `how_long`.
        void run_for(std::chrono::milliseconds how_long) {
            const auto until = std::chrono::steady_clock::now() + how_long;
            while (std::chrono::steady_clock::now() < until) {
                engine.run_due();
                std::this_thread::sleep_for(20ms);
            }
        }
        std::size_t count(std::string_view start) {
            std::lock_guard hold{guard};
            return static_cast<std::size_t>(
                std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.starts_with(start); }));
        }
        std::string first(std::string_view start) {
            std::lock_guard hold{guard};
            for (const auto& l : lines)
                if (l.starts_with(start)) return l;
            return {};
        }
    };

    TEST_CASE("redis SIGSTOPped for 3 s: one line when the outage begins, one when it ends -- every failure counted") {
        redis_server server;
        logged_scheduler s{server};
        s.run_for(1500ms);
        server.pause();
        s.run_for(3s);
        server.resume();
        s.run_for(2500ms);
        CHECK(s.count("backend error") == 1);
        CHECK_MESSAGE(s.first("backend error").find("backend unavailable: timeout") != std::string::npos,
                      s.first("backend error"));
        CHECK(s.count("backend recovered after ") == 1);
        CHECK(s.count("skipped_backend") == 0);  // counted, not logged
        const auto counts = s.engine.status().jobs[0].stats.counts;
        CHECK(counts.skipped(skip_reason::backend_unavailable) >= 1);
        CHECK(counts.skipped(skip_reason::misfire) >= 1);  // the slots of the outage, given up and said so
        CHECK(s.engine.status().backend.reachable);
    }

    TEST_CASE("redis at maxmemory (noeviction): claims fail with the server's OOM error, told once, counted") {
        redis_server server;
        logged_scheduler s{server};
        s.run_for(1500ms);
        redis::detail::connection admin{server.client()};
        REQUIRE(
            admin.pipeline({{"CONFIG", "SET", "maxmemory-policy", "noeviction"}, {"CONFIG", "SET", "maxmemory", "1"}}));
        s.run_for(2500ms);
        CHECK(s.count("backend error") == 1);
        CHECK_MESSAGE(s.first("backend error").find("OOM") != std::string::npos, s.first("backend error"));
        REQUIRE(admin.pipeline({{"CONFIG", "SET", "maxmemory", "0"}}));
        s.run_for(2s);
        CHECK(s.count("backend recovered after ") == 1);
        CHECK(s.engine.status().jobs[0].stats.counts.skipped(skip_reason::backend_unavailable) >= 1);
    }

    TEST_CASE("a replica whose clock is an hour fast: reported, and the slot record never moves past the server") {
        redis_server server;
        redis::keys keys{server.client()};
        std::vector<std::string> lines;
        scheduler s{{.clock = [] { return system_now() + std::chrono::hours{1}; },
                     .backend = keys,
                     .hooks = {log_lines([&](std::string_view line) { lines.emplace_back(line); })}}};
        s.run_due();
        REQUIRE(lines.size() == 1);
        CHECK_MESSAGE(lines[0].starts_with("backend error error=\"this replica's clock is 3"),
                      lines[0]);  // 3599.9 or 3600.0
        CHECK(lines[0].find(" s ahead of the backend's (more than 5 s): slots are due by this replica's clock") !=
              std::string::npos);
        const auto offset = s.status().backend.clock_offset;
        REQUIRE(offset);
        CHECK(*offset > std::chrono::minutes{59});
        CHECK(to_prometheus(s.status()).find("sked_backend_clock_offset_seconds 3") != std::string::npos);

        const auto ahead = std::chrono::floor<std::chrono::seconds>(system_now() + std::chrono::hours{1});
        const auto refused = keys.record_slot("reward", ahead);
        REQUIRE_FALSE(refused);
        CHECK_MESSAGE(refused.error().message().find(" s ahead of the server clock; this replica's clock is fast") !=
                          std::string::npos,
                      refused.error().message());
        CHECK(flag_of(keys.record_slot("reward", std::chrono::floor<std::chrono::seconds>(system_now()) + 3s)));
        CHECK_FALSE(keys.last_slot("reward")->value() == ahead);
    }

    TEST_CASE("a process holding a lease is killed with SIGKILL: its lease expires, the next fence is higher") {
        redis_server server;
        int out[2];
        REQUIRE(::pipe(out) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, out[0]);
        std::string program = SKED_LEASE_HOLDER, port = std::to_string(server.port()), prefix = "test",
                    name = "trade_sweep", ttl = "600";
        char* argv[] = {program.data(), port.data(), prefix.data(), name.data(), ttl.data(), nullptr};
        pid_t child = 0;
        REQUIRE(::posix_spawn(&child, program.c_str(), &actions, nullptr, argv, environ) == 0);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        char line[64] = {};
        FILE* from_child = ::fdopen(out[0], "r");
        REQUIRE(std::fgets(line, sizeof line, from_child) != nullptr);
        std::fclose(from_child);
        const fence_token child_fence = std::stoull(line);

        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        CHECK(WIFSIGNALED(status));

        redis::locks locks{server.client()};
        CHECK(status_of(locks.try_lock("trade_sweep", 10s)) == grant_status::held_elsewhere);
        std::this_thread::sleep_for(700ms);  // past the dead holder's 600 ms
        const lease next = acquired_lease(locks.try_lock("trade_sweep", 10s));
        CHECK(next.fence > child_fence);
    }

    TEST_CASE("redis restarted with AOF: no completed key is forgotten, tokens keep growing") {
        redis_server server{{"--appendonly", "yes", "--appendfsync", "always"}};
        fence_token last = 0;
        {
            redis::keys keys{server.client()};
            for (int i = 0; i < 50; ++i) {
                const lease claimed = acquired_lease(keys.claim(numbered("reward@", static_cast<std::size_t>(i)), 10s));
                REQUIRE(flag_of(keys.complete(claimed, 24h)));
                last = std::max(last, claimed.fence);
            }
        }
        server.kill();  // a crash, not a clean shutdown: appendfsync always kept every write
        server.start();
        redis::keys keys{server.client()};
        for (int i = 0; i < 50; ++i) {
            CHECK(status_of(keys.claim(numbered("reward@", static_cast<std::size_t>(i)), 10s)) ==
                  grant_status::already_done);
        }
        CHECK(acquired_lease(keys.claim("reward@50", 10s)).fence > last);
    }

    TEST_CASE("redlock: 3 servers with 1 down and 5 with 2 down still lock -- a majority down fails cleanly") {
        for (const auto& shape : {std::pair{3, 1}, std::pair{5, 2}}) {
            const int count = shape.first, down = shape.second;  // (structured bindings cannot be captured in C++20)
            CAPTURE(count);
            std::vector<std::unique_ptr<redis_server>> servers;
            std::vector<redis::options> settings;
            for (int i = 0; i < count; ++i) {
                servers.push_back(std::make_unique<redis_server>());
                settings.push_back(servers.back()->client());
            }
            redis::redlock first{settings}, second{settings};
            CHECK(first.quorum() == static_cast<std::size_t>(count / 2 + 1));
            for (int i = 0; i < down; ++i)
                servers[static_cast<std::size_t>(i)]->stop();

            lease held = acquired_lease(first.try_lock("drop", 2s));
            CHECK(status_of(second.try_lock("drop", 2s)) == grant_status::held_elsewhere);
            CHECK(flag_of(first.renew(held, 2s)));
            CHECK(flag_of(first.unlock(held)));
            const lease next = acquired_lease(second.try_lock("drop", 2s));
            CHECK(next.fence > held.fence);
            CHECK(flag_of(second.unlock(next)));

            servers[static_cast<std::size_t>(down)]->stop();  // now a majority is down
            auto refused = first.try_lock("drop", 2s);
            REQUIRE_FALSE(refused);
            CHECK(refused.error().code == backend_errc::no_quorum);
            CHECK_MESSAGE(refused.error().detail.find(std::to_string(down + 1) + " of " + std::to_string(count) +
                                                      " servers failed") != std::string::npos,
                          refused.error().message());
            // Nothing was left half-locked on the servers still up.
            for (std::size_t i = static_cast<std::size_t>(down) + 1; i < servers.size(); ++i) {
                redis::locks single{settings[i]};
                CHECK(status_of(single.try_lock("drop", 2s)) == grant_status::acquired);
            }
        }
    }

    TEST_CASE("redlock: fencing tokens stay monotonic while different servers fail and come back empty") {
        std::vector<std::unique_ptr<redis_server>> servers;
        std::vector<redis::options> settings;
        for (int i = 0; i < 3; ++i) {
            servers.push_back(std::make_unique<redis_server>());
            settings.push_back(servers.back()->client());
        }
        redis::redlock a{settings}, b{settings};
        fence_token last = 0;
        for (std::size_t round = 0; round < 6; ++round) {
            auto& client = round % 2 == 0 ? a : b;
            servers[round % 3]->stop();  // a different server is missing each round
            const lease held = acquired_lease(client.try_lock("expiry", 2s));
            CHECK(held.fence > last);
            last = held.fence;
            REQUIRE(flag_of(client.unlock(held)));
            servers[round % 3]->start();  // back, with nothing in memory
        }
    }
}

}  // namespace
}  // namespace sked::test

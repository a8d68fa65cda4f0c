#include "sked/postgres/store.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../lock/contract.hpp"
#include "../lock/jobs_contract.hpp"
#include "../support/fake_server.hpp"
#include "../support/postgres_server.hpp"

namespace sked::test {
namespace {

// Real time on a real server: pass() sleeps, so the ttl is short.
struct postgres_fixture {
    postgres::options settings = migrated_schema();
    postgres::locks locks{settings};
    postgres::keys keys{settings};
    std::chrono::milliseconds ttl{150};
    void pass(std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); }
};

static_assert(lock_backend<postgres::locks> && key_store<postgres::keys>);
static_assert(batch_claims<postgres::keys> && batch_settles<postgres::keys> && slot_progress<postgres::keys> &&
              abandoned_claims<postgres::keys> && reports_facts<postgres::keys> && durable_jobs<postgres::keys>);

TEST_CASE_TEMPLATE_INVOKE(lock_contract, postgres_fixture);
TEST_CASE_TEMPLATE_INVOKE(lock_expiry_contract, postgres_fixture);
TEST_CASE_TEMPLATE_INVOKE(key_contract, postgres_fixture);
TEST_CASE_TEMPLATE_INVOKE(key_failure_contract, postgres_fixture);
TEST_CASE_TEMPLATE_INVOKE(batch_contract, postgres_fixture);
TEST_CASE_TEMPLATE_INVOKE(abandoned_contract, postgres_fixture);
TEST_CASE_TEMPLATE_INVOKE(input_contract, postgres_fixture);
TEST_CASE_TEMPLATE_INVOKE(fence_contract, postgres_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_once_contract, postgres_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_lease_contract, postgres_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_retry_contract, postgres_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_cancel_contract, postgres_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_batch_contract, postgres_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_finish_batch_contract, postgres_fixture);
TEST_CASE_TEMPLATE_INVOKE(jobs_input_contract, postgres_fixture);

}  // namespace
}  // namespace sked::test

namespace sked::test {
namespace {

template <class Answer>
backend_error error_of(const Answer& answer) {
    REQUIRE_FALSE(answer.has_value());
    return answer.error();
}

TEST_SUITE("postgres") {
    TEST_CASE("migrate creates the schema once, from every replica at once, and says what it did") {
        auto settings = shared_postgres_server().client(fresh_schema());
        std::vector<result<postgres::migrated, backend_error>> answers(4, backend_error{});
        {
            std::vector<std::jthread> replicas;
            for (auto& answer : answers)
                replicas.emplace_back([&] { answer = postgres::migrate(settings); });
        }
        int created = 0;
        for (const auto& answer : answers) {
            REQUIRE_MESSAGE(answer.has_value(), (answer ? std::string{} : answer.error().message()));
            CHECK(answer->to == postgres::detail::latest_version);
            created += answer->from == 0 ? 1 : 0;
        }
        CHECK(created == 1);  // the others found it done
        const auto again = postgres::migrate(settings);
        REQUIRE(again);
        CHECK(again->from == postgres::detail::latest_version);
    }

    TEST_CASE("a store refuses a schema that was never migrated, naming what to run, before anything is written") {
        postgres::keys keys{shared_postgres_server().client(fresh_schema())};
        const auto error = error_of(keys.claim("daily@1", 10s));
        CHECK(error.code == backend_errc::protocol);
        CHECK_MESSAGE(error.detail.find("has no sked tables: run sked::postgres::migrate()") != std::string::npos,
                      error.message());
    }

    TEST_CASE("a schema from a newer sked is refused by the store and by migrate, and left as it was") {
        auto settings = migrated_schema();
        postgres::detail::connection admin{settings};
        const auto newer = std::to_string(postgres::detail::latest_version + 1);
        REQUIRE(admin.run_script("INSERT INTO \"" + settings.schema + "\".sked_schema (version, summary) VALUES (" +
                                 newer + ", 'from the future')"));
        postgres::keys keys{settings};
        const auto error = error_of(keys.claim("daily@1", 10s));
        CHECK(error.code == backend_errc::protocol);
        CHECK_MESSAGE(error.detail.find("is at version " + newer + ", made by a newer sked") != std::string::npos,
                      error.message());
        const auto refused = error_of(postgres::migrate(settings));
        CHECK(refused.detail.find("made by a newer sked") != std::string::npos);
        auto rows = admin.run_script("SELECT count(*) FROM \"" + settings.schema + "\".sked_schema");
        REQUIRE(rows);
        CHECK(postgres::detail::text_at(**rows, 0, 0) == std::to_string(postgres::detail::latest_version + 1));
    }

    TEST_CASE("a wrong password is an auth error that does not echo the password") {
        auto settings = shared_postgres_server().client(fresh_schema());
        settings.url = shared_postgres_server().url("not-the-password");
        const auto error = error_of(postgres::migrate(settings));
        CHECK(error.code == backend_errc::auth);
        CHECK_MESSAGE(error.detail.find("password authentication failed") != std::string::npos, error.message());
        CHECK(error.detail.find("127.0.0.1:" + std::to_string(shared_postgres_server().port())) != std::string::npos);
        CHECK(error.detail.find("not-the-password") == std::string::npos);
    }

    TEST_CASE("a server that is not PostgreSQL is a protocol error; one that never answers, a timeout") {
        const auto on_port = [](int port) {
            postgres::options settings;
            settings.url = "postgresql://sked:x@127.0.0.1:" + std::to_string(port) + "/postgres?sslmode=disable";
            settings.connect_timeout = 300ms;
            return settings;
        };
        const auto redis = fake_server::sending("-ERR unknown command\r\n");
        const auto foreign = error_of(postgres::migrate(on_port(redis.port())));
        CHECK_MESSAGE(foreign.code == backend_errc::protocol, foreign.message());
        CHECK(foreign.detail.ends_with("(is that port a PostgreSQL server's?)"));
        const auto http = fake_server::sending("HTTP/1.1 400 Bad Request\r\n\r\n");
        const auto web = error_of(postgres::migrate(on_port(http.port())));
        CHECK_MESSAGE(web.code == backend_errc::protocol, web.message());

        const auto silent = fake_server::silent();
        const auto started = std::chrono::steady_clock::now();
        const auto hung = error_of(postgres::migrate(on_port(silent.port())));
        CHECK_MESSAGE(hung.code == backend_errc::timeout, hung.message());
        CHECK(hung.detail.find("no answer within 300 ms") != std::string::npos);
        CHECK(std::chrono::steady_clock::now() - started < 5s);

        const auto refused = error_of(postgres::migrate(on_port(free_loopback_port())));
        CHECK_MESSAGE(refused.code == backend_errc::unreachable, refused.message());
    }

#ifdef SKED_TOOL
    TEST_CASE("sked migrate URL SCHEMA: from a shell, once, then already done; a wrong password exits 2 saying so") {
        const auto run = [](const std::string& arguments) {
            const auto command = std::string(SKED_TOOL) + " migrate " + arguments + " 2>&1";
            std::FILE* pipe = ::popen(command.c_str(), "r");
            REQUIRE(pipe != nullptr);
            std::string output;
            char buffer[512];
            while (std::fgets(buffer, sizeof buffer, pipe) != nullptr)
                output += buffer;
            const int status = ::pclose(pipe);
            return std::pair{WEXITSTATUS(status), output};
        };
        const auto schema = fresh_schema();
        const auto url = "'" + shared_postgres_server().url() + "'";
        const auto first = run(url + " " + schema);
        CHECK(first.first == 0);
        CHECK(first.second ==
              "schema " + schema + ": version 0 -> " + std::to_string(postgres::detail::latest_version) + "\n");
        const auto again = run(url + " " + schema);
        CHECK(again.first == 0);
        CHECK(again.second ==
              "schema " + schema + ": already at version " + std::to_string(postgres::detail::latest_version) + "\n");
        const auto refused = run("'" + shared_postgres_server().url("wrong") + "' " + schema);
        CHECK(refused.first == 2);
        CHECK_MESSAGE(refused.second.starts_with("sked: migrate: auth: "), refused.second);
    }
#endif

    TEST_CASE("a bad schema name is refused before anything is sent") {
        auto settings = shared_postgres_server().client(std::string(64, 's'));
        const auto error = error_of(postgres::migrate(settings));
        CHECK(error.code == backend_errc::invalid_argument);
        CHECK(error.detail.find("is not 1 to 63 bytes") != std::string::npos);
    }

    TEST_CASE("a schema name with quotes and spaces is quoted, not interpreted") {
        auto settings = shared_postgres_server().client("odd \"name\"; DROP SCHEMA x");
        REQUIRE(postgres::migrate(settings));
        postgres::keys keys{settings};
        CHECK(status_of(keys.claim("daily@1", 10s)) == grant_status::acquired);
        CHECK(status_of(keys.claim("daily@1", 10s)) == grant_status::held_elsewhere);
    }

    // store_connections: a call that waits at the server (here on a row lock) holds up
    // only its own connection; with one connection, every other call waited behind it.
    TEST_CASE("a store's calls go on several connections: one held up at the server does not hold up the rest") {
        auto settings = migrated_schema();
        settings.store_connections = 2;
        settings.command_timeout = 10s;  // the held call waits for the test, not for its deadline
        postgres::keys keys{settings};
        const auto blocked = acquired_lease(keys.claim("blocked", 10s));
        postgres::detail::connection holder{settings}, watcher{settings};
        const auto table = postgres::detail::quoted_identifier(settings.schema) + ".leases";
        REQUIRE(holder.run_script("BEGIN; SELECT 1 FROM " + table + " WHERE name = 'blocked' FOR UPDATE"));
        std::atomic<bool> renewed{false};
        std::thread held{[&] {
            auto copy = blocked;
            (void)keys.renew(copy, 10s);  // waits for the row lock
            renewed = true;
        }};
        const auto waiting = [&] {
            auto rows = watcher.run_script("SELECT count(*) FROM pg_locks WHERE NOT granted");
            return rows && postgres::detail::text_at(**rows, 0, 0) != "0";
        };
        for (int i = 0; i < 500 && !waiting(); ++i)
            std::this_thread::sleep_for(10ms);
        REQUIRE(waiting());
        CHECK(status_of(keys.claim("free", 10s)) == grant_status::acquired);  // on the other connection
        CHECK_FALSE(renewed.load());  // answered while the first call still waited
        REQUIRE(holder.run_script("ROLLBACK"));
        held.join();
        CHECK(renewed.load());
    }

    // A batch goes to the server as array literals (detail::array_literal); the server
    // parses them, so it is the judge of their quoting: every name comes back as it went.
    TEST_CASE("names with quotes, backslashes, braces, commas and the word NULL pass through a batch intact") {
        postgres::keys keys{migrated_schema()};
        std::vector<std::string> names{"a\"b", "c\\d", "{e}", "f,g",  "NULL",      "null",
                                       " h ",  "",     "'i'", "\\\"", "ünï{,}\"\\"};
        std::mt19937 random{20261205};  // fixed: a failure is the same failure again
        for (int i = 0; i < 200; ++i) {
            std::string name(1 + random() % 24, ' ');
            for (auto& c : name)
                c = static_cast<char>(32 + random() % 95);  // printable ASCII, quotes and all
            names.push_back(name + "#" + std::to_string(i));  // distinct
        }
        names.erase(names.begin() + 7);  // the empty name is refused (input_contract); not a quoting case
        const auto grants = keys.claim_many(names, 10s);
        REQUIRE_MESSAGE(grants.has_value(), (grants ? std::string{} : grants.error().message()));
        REQUIRE(grants->size() == names.size());
        for (std::size_t i = 0; i < names.size(); ++i) {
            CAPTURE(names[i]);
            CHECK((*grants)[i].acquired());
            CHECK((*grants)[i].lease.name == names[i]);
            CHECK(status_of(keys.claim(names[i], 10s)) ==
                  grant_status::held_elsewhere);  // the server's row is that name
        }
    }
}

TEST_SUITE("postgres faults") {
    // These stop and pause a server of their own, so the shared one stays up.
    TEST_CASE("a server that hangs is a timeout within command_timeout; once it answers, calls work again") {
        postgres_server server;
        auto settings = server.client(fresh_schema());
        settings.command_timeout = 300ms;
        REQUIRE(postgres::migrate(settings));
        postgres::keys keys{settings};
        const auto held = acquired_lease(keys.claim("daily@1", 10s));
        server.pause();
        const auto started = std::chrono::steady_clock::now();
        const auto hung = error_of(keys.claim("daily@2", 10s));
        const auto waited = std::chrono::steady_clock::now() - started;
        server.resume();
        CHECK_MESSAGE(hung.code == backend_errc::timeout, hung.message());
        CHECK(hung.detail.find("no answer within 300 ms") != std::string::npos);
        CHECK(waited >= 300ms);
        CHECK(waited < 2s);
        CHECK(status_of(keys.claim("daily@1", 10s)) == grant_status::held_elsewhere);
        CHECK(flag_of(keys.complete(held, 1h)));
    }

    TEST_CASE("a server that restarts: the next call connects again, and what was committed is still there") {
        postgres_server server;
        auto settings = server.client(fresh_schema());
        REQUIRE(postgres::migrate(settings));
        postgres::keys keys{settings};
        postgres::keys other{settings};
        const auto done = acquired_lease(keys.claim("daily@1", 10s));
        REQUIRE(flag_of(keys.complete(done, 1h)));
        const auto held = acquired_lease(keys.claim("daily@2", 10s));
        const auto before = keys.facts();
        REQUIRE(before);

        server.kill();  // a crash: the next start recovers from the write-ahead log
        const auto down = error_of(keys.claim("daily@3", 10s));
        CHECK_MESSAGE(down.code == backend_errc::unreachable, down.message());
        server.start();

        CHECK(status_of(other.claim("daily@1", 10s)) == grant_status::already_done);
        CHECK(status_of(other.claim("daily@2", 10s)) == grant_status::held_elsewhere);
        const auto after = keys.facts();
        REQUIRE(after);
        CHECK(after->instance != before->instance);  // a restart is told apart
        const auto next = acquired_lease(keys.claim("daily@3", 10s));
        CHECK(next.fence > held.fence);
    }
}

}  // namespace
}  // namespace sked::test

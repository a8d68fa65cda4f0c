// Reward replicas as processes on a real PostgreSQL, with the defaults a user gets (the
// 30 s lease): each run writes one reward per player for its slot in the run's
// transaction. One replica is SIGKILLed between its writes and COMMIT (and started
// again), or the server itself is killed and restarted mid-run; once the killed slots
// have run again (a lease later), the replicas are stopped and the database itself is
// asked: every player holds exactly one reward per slot, and no slot is missing.
#include <signal.h>
#include <sys/wait.h>

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sked/postgres/connection.hpp>

#include "../support/postgres_server.hpp"
#include "../support/spawn.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr int players = 50;
constexpr int seconds = 120;  // longer than any case: the test stops them when it has seen enough

struct reward_fleet {
    postgres::options settings = migrated_schema();
    std::string table = postgres::detail::quoted_identifier(settings.schema) + ".rewards";
    std::filesystem::path directory =
        std::filesystem::temp_directory_path() / ("sked-rewards-" + settings.schema + "-" + std::to_string(::getpid()));
    long long first_slot = now_seconds() + 2;  // replicas are up by then
    std::vector<pid_t> pids;

    reward_fleet() {
        std::filesystem::create_directories(directory);
        postgres::detail::connection admin{settings};
        REQUIRE(admin.run_script("CREATE TABLE " + table + " (player int NOT NULL, slot bigint NOT NULL)"));
    }
    ~reward_fleet() {
        for (const pid_t pid : pids)
            ::kill(pid, SIGKILL), ::waitpid(pid, nullptr, 0);
        std::error_code ignored;
        std::filesystem::remove_all(directory, ignored);
    }

    static long long now_seconds() {
        return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    [[nodiscard]] std::string audit(const std::string& name) const { return (directory / name).string(); }

    pid_t spawn(const std::string& name, int run_for) {
        std::vector<std::string> args{SKED_POSTGRES_REWARD_REPLICA,
                                      settings.url,
                                      settings.schema,
                                      name,
                                      audit(name),
                                      std::to_string(run_for),
                                      "players=" + std::to_string(players),
                                      "hold=300"};
        const pid_t child = spawn_process(std::move(args));
        REQUIRE(child > 0);
        pids.push_back(child);
        return child;
    }

    // Waits for `name` to have made a run's writes (and not yet committed them), then
    // SIGKILLs it. Answers the slot whose writes it made.
    long long kill_between_writes_and_commit(const std::string& name, pid_t pid) {
        const auto deadline = steady::now() + 20s;
        std::size_t seen = lines(name).size();
        while (steady::now() < deadline) {
            const auto now = lines(name);
            if (now.size() > seen) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
                std::istringstream last{now.back()};
                std::string what;
                long long slot = 0;
                last >> what >> slot;
                return slot;
            }
            seen = now.size();
            std::this_thread::sleep_for(5ms);
        }
        FAIL("replica " << name << " made no writes within 20 s");
        return 0;
    }

    [[nodiscard]] std::vector<std::string> lines(const std::string& name) const {
        std::ifstream in{audit(name)};
        std::vector<std::string> out;
        for (std::string line; std::getline(in, line);)
            out.push_back(line);
        return out;
    }

    // Waits until every slot from first_slot through `through` holds its rewards (a
    // killed run's slot runs again once its 30 s lease has run out), at most 60 s; then
    // stops the replicas. Answers the last slot every replica had time to finish.
    long long stop_when_complete(long long through) {
        postgres::detail::connection admin{settings};
        const std::string params[] = {std::to_string(first_slot), std::to_string(through), std::to_string(players)};
        const auto sql = "SELECT count(*) FROM generate_series($1::bigint, $2::bigint) s WHERE (SELECT count(*) FROM " +
                         table + " r WHERE r.slot = s) < $3::int";
        for (const auto deadline = steady::now() + 60s; steady::now() < deadline;) {
            auto missing = admin.run(sql.c_str(), params);
            if (missing && postgres::detail::text_at(**missing, 0, 0) == "0") break;
            std::this_thread::sleep_for(500ms);
        }
        const auto stopped = now_seconds();
        for (const pid_t pid : pids)
            ::kill(pid, SIGKILL), ::waitpid(pid, nullptr, 0);
        pids.clear();
        return stopped - 3;  // a slot that began then had 2 s to commit its 300 ms run
    }

    // The database's own answer: for each slot of [first_slot, last_slot], how many
    // rewards and how many players got one.
    void check_each_player_once_per_slot(long long last_slot) {
        postgres::detail::connection admin{settings};
        const std::string params[] = {std::to_string(first_slot), std::to_string(last_slot)};
        auto rows = admin.run(("SELECT s, count(r.player), count(DISTINCT r.player) FROM generate_series($1::bigint, "
                               "$2::bigint) s LEFT JOIN " +
                               table + " r ON r.slot = s GROUP BY s ORDER BY s")
                                  .c_str(),
                              params);
        REQUIRE_MESSAGE(rows.has_value(), (rows ? std::string{} : rows.error().message()));
        const int slots = PQntuples(rows->get());
        CHECK(slots == last_slot - first_slot + 1);
        int wrong = 0;
        for (int i = 0; i < slots; ++i) {
            const auto slot = postgres::detail::text_at(**rows, i, 0);
            const auto rewards = postgres::detail::text_at(**rows, i, 1);
            const auto distinct = postgres::detail::text_at(**rows, i, 2);
            if (rewards != std::to_string(players) || distinct != std::to_string(players)) {
                ++wrong;
                MESSAGE("slot " << slot << ": " << rewards << " rewards to " << distinct << " players");
            }
        }
        CHECK(wrong == 0);
    }
};

TEST_SUITE("postgres processes") {
    TEST_CASE("three replicas, one SIGKILLed twice between its writes and COMMIT: one reward per player per slot") {
        reward_fleet f;
        f.spawn("r1", seconds);
        f.spawn("r2", seconds);
        const auto victim = f.spawn("r3", seconds);
        std::this_thread::sleep_for(3s);
        const auto first_killed = f.kill_between_writes_and_commit("r3", victim);
        const auto again = f.spawn("r3-again", seconds);
        std::this_thread::sleep_for(3s);
        const auto second_killed = f.kill_between_writes_and_commit("r3-again", again);
        MESSAGE("killed with writes made: slots " << first_killed << " and " << second_killed);
        f.check_each_player_once_per_slot(f.stop_when_complete(second_killed + 3));
    }

    TEST_CASE("two replicas, one SIGKILLed between its writes and COMMIT: one reward per player per slot") {
        reward_fleet f;
        f.spawn("r1", seconds);
        const auto victim = f.spawn("r2", seconds);
        std::this_thread::sleep_for(4s);
        const auto killed = f.kill_between_writes_and_commit("r2", victim);
        MESSAGE("killed with writes made: slot " << killed);
        f.spawn("r2-again", seconds);
        f.check_each_player_once_per_slot(f.stop_when_complete(killed + 3));
    }

    TEST_CASE("two replicas, the server SIGKILLed mid-run and started again: one reward per player per slot") {
        reward_fleet f;  // on the shared server of this process, which only this case uses
        f.spawn("r1", seconds);
        f.spawn("r2", seconds);
        std::this_thread::sleep_for(5s);
        shared_postgres_server().kill();  // every server process: transactions in flight are lost
        std::this_thread::sleep_for(1s);
        shared_postgres_server().start();  // recovers from the write-ahead log
        f.check_each_player_once_per_slot(f.stop_when_complete(reward_fleet::now_seconds() + 3));
    }
}

}  // namespace
}  // namespace sked::test

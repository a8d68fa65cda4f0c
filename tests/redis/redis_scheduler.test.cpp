// Three scheduler processes share a real Redis; one is killed with SIGKILL mid-run and
// restarted. Every slot must have run to completion exactly once, none missed; a slot
// whose runner died ran again under a higher fencing token.
#include <doctest/doctest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/redis_server.hpp"

#ifndef SKED_REPLICA
#error "SKED_REPLICA must name the replica program"
#endif

namespace sked::test {
namespace {

using namespace std::chrono_literals;

pid_t spawn_replica(int port, const std::string& name, const std::string& audit, int seconds) {
    std::string program = SKED_REPLICA, port_text = std::to_string(port), replica = name, file = audit,
                duration = std::to_string(seconds);
    char* argv[] = {program.data(), port_text.data(), replica.data(), file.data(), duration.data(), nullptr};
    pid_t child = 0;
    REQUIRE(::posix_spawn(&child, program.c_str(), nullptr, nullptr, argv, environ) == 0);
    return child;
}

struct audit_line {
    std::string what;
    long long slot;
    unsigned long long fence;
    std::string replica;
};

std::vector<audit_line> read_audit(const std::string& path) {
    std::vector<audit_line> lines;
    std::ifstream in(path);
    audit_line l;
    while (in >> l.what >> l.slot >> l.fence >> l.replica)
        lines.push_back(l);
    return lines;
}

// Waits (at most 15 s) until the replica's audit ends in a start: it is mid-run.
bool wait_mid_run(const std::string& path) {
    const auto until = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < until) {
        const auto lines = read_audit(path);
        if (!lines.empty() && lines.back().what == "start") return true;
        std::this_thread::sleep_for(2ms);
    }
    return false;
}

TEST_SUITE("redis scheduler") {
    TEST_CASE("3 replica processes, one killed mid-run and restarted: every slot ran to completion once") {
        redis_server server;
        const auto dir = std::filesystem::temp_directory_path() / ("sked-replicas-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        const auto path = [&](const char* name) { return (dir / (std::string(name) + ".audit")).string(); };
        std::vector<pid_t> survivors{spawn_replica(server.port(), "a", path("a"), 30),
                                     spawn_replica(server.port(), "b", path("b"), 30)};
        const pid_t victim = spawn_replica(server.port(), "c", path("c"), 30);
        std::this_thread::sleep_for(8s);
        REQUIRE(wait_mid_run(path("c")));
        ::kill(victim, SIGKILL);
        int status = 0;
        ::waitpid(victim, &status, 0);
        CHECK(WIFSIGNALED(status));
        const auto killed_slot = read_audit(path("c")).back().slot;
        std::this_thread::sleep_for(4s);
        survivors.push_back(spawn_replica(server.port(), "c2", path("c2"), 14));
        for (auto pid : survivors) {
            ::waitpid(pid, &status, 0);
            CHECK(WIFEXITED(status));
            CHECK(WEXITSTATUS(status) == 0);
        }

        std::map<long long, std::vector<audit_line>> starts, dones;
        for (const char* name : {"a", "b", "c", "c2"}) {
            for (const auto& l : read_audit(path(name)))
                (l.what == "start" ? starts : dones)[l.slot].push_back(l);
        }
        REQUIRE(dones.size() >= 20);
        const long long first = dones.begin()->first, last = dones.rbegin()->first;
        std::size_t rerun = 0;
        for (long long slot = first; slot <= last; ++slot) {
            INFO("slot " << slot);
            REQUIRE(dones.count(slot) == 1);  // none missed
            CHECK(dones[slot].size() == 1);  // completed once
            for (const auto& s : starts[slot]) {
                if (s.fence != dones[slot][0].fence) {
                    CHECK(s.fence < dones[slot][0].fence);  // the dead run's token was lower
                    ++rerun;
                }
            }
        }
        CHECK(starts[killed_slot].size() == 2);
        CHECK(dones[killed_slot][0].replica != "c");
        CHECK(rerun == 1);
        MESSAGE("slots " << (last - first + 1) << ", killed mid-run at slot " << killed_slot << ", re-run by "
                         << dones[killed_slot][0].replica);
        std::filesystem::remove_all(dir);
    }
}

}  // namespace
}  // namespace sked::test

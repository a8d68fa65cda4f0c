// Three scheduler processes share a real Redis; one is killed with SIGKILL mid-run and
// restarted. Every slot must have run to completion exactly once, none missed; a slot
// whose runner died ran again under a higher fencing token.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/redis_server.hpp"
#include "../support/spawn.hpp"

#ifndef SKED_REPLICA
#error "SKED_REPLICA must name the replica program"
#endif

namespace sked::test {
namespace {

using namespace std::chrono_literals;

// A replica process: `settings` are its key=value arguments (mode, lease, overlap,
// misfire, work); `environment` is added to ours (libfaketime).
pid_t spawn_replica(int port, const std::string& name, const std::string& audit, int seconds,
                    std::vector<std::string> settings = {}, std::vector<std::string> environment = {}) {
    std::vector<std::string> args{SKED_REPLICA, std::to_string(port), name, audit, std::to_string(seconds)};
    args.insert(args.end(), settings.begin(), settings.end());
    const pid_t child = spawn_process(std::move(args), std::move(environment));
    REQUIRE(child > 0);
    return child;
}

struct audit_line {
    std::string what;
    long long slot;
    std::string detail;  // the fencing token, or a skip's reason
    std::string replica;
    long long steady_ms;
};

std::vector<audit_line> read_audit(const std::string& path) {
    std::vector<audit_line> lines;
    std::ifstream in(path);
    audit_line l;
    while (in >> l.what >> l.slot >> l.detail >> l.replica >> l.steady_ms)
        lines.push_back(l);
    return lines;
}

// The slot of the replica's last start.
long long last_start(const std::string& path) {
    const auto lines = read_audit(path);
    for (auto line = lines.rbegin(); line != lines.rend(); ++line)
        if (line->what == "start") return line->slot;
    return -1;
}

// Whether the replica's last start has not finished: it is mid-run.
bool mid_run(const std::string& path) {
    const auto lines = read_audit(path);
    for (auto line = lines.rbegin(); line != lines.rend(); ++line) {
        if (line->what == "done") return false;
        if (line->what == "start") return true;
    }
    return false;
}

// Waits (at most 15 s) until the replica is mid-run.
bool wait_mid_run(const std::string& path) {
    const auto until = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < until) {
        if (mid_run(path)) return true;
        std::this_thread::sleep_for(2ms);
    }
    return false;
}

// The audit directory of one test, and what its replicas wrote.
struct audits {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("sked-replicas-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::vector<std::string> names;

    audits() { std::filesystem::create_directories(dir); }
    ~audits() { std::filesystem::remove_all(dir); }
    audits(const audits&) = delete;
    audits& operator=(const audits&) = delete;
    std::string path(const std::string& name) {
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
        return (dir / (name + ".audit")).string();
    }
    // Every line of every replica, by what, by slot.
    std::map<std::string, std::map<long long, std::vector<audit_line>>> by_slot() {
        std::map<std::string, std::map<long long, std::vector<audit_line>>> out;
        for (const auto& name : names)
            for (const auto& l : read_audit(path(name)))
                out[l.what][l.slot].push_back(l);
        return out;
    }
};

void kill_mid_run(pid_t victim, const std::string& audit) {
    REQUIRE(wait_mid_run(audit));
    ::kill(victim, SIGKILL);
    int status = 0;
    ::waitpid(victim, &status, 0);
    CHECK(WIFSIGNALED(status));
}

void wait_clean_exit(const std::vector<pid_t>& pids) {
    for (auto pid : pids) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
}

struct replica {
    pid_t pid;
    std::string name;
};

// Waits (at most 15 s) until one of `fleet` is mid-run (in the serial modes only the
// job's holder ever is), SIGKILLs it and takes it out of `fleet`.
replica kill_one_mid_run(std::vector<replica>& fleet, audits& a) {
    const auto until = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < until) {
        for (auto one = fleet.begin(); one != fleet.end(); ++one) {
            if (!mid_run(a.path(one->name))) continue;
            const auto victim = *one;
            fleet.erase(one);
            ::kill(victim.pid, SIGKILL);
            int status = 0;
            ::waitpid(victim.pid, &status, 0);
            CHECK(WIFSIGNALED(status));
            return victim;
        }
        std::this_thread::sleep_for(2ms);
    }
    FAIL("no replica was mid-run within 15 s");
    return {};
}

void wait_clean_exit(const std::vector<replica>& fleet) {
    std::vector<pid_t> pids;
    for (const auto& one : fleet)
        pids.push_back(one.pid);
    wait_clean_exit(pids);
}

// Three replicas with a per-second job; two are SIGKILLed mid-run at different moments
// (whichever runs the job then) and restarted. Returns the audits' lines by slot.
std::map<std::string, std::map<long long, std::vector<audit_line>>> two_kills_of_three(
    redis_server& server, audits& a, const std::vector<std::string>& settings) {
    std::vector<replica> fleet;
    for (const char* name : {"a", "b", "c"})
        fleet.push_back({spawn_replica(server.port(), name, a.path(name), 22, settings), name});
    std::this_thread::sleep_for(4s);
    const auto first = kill_one_mid_run(fleet, a);
    std::this_thread::sleep_for(1500ms);
    const auto first_again = first.name + "2";
    fleet.push_back({spawn_replica(server.port(), first_again, a.path(first_again), 15, settings), first_again});
    std::this_thread::sleep_for(2s);
    const auto second = kill_one_mid_run(fleet, a);
    std::this_thread::sleep_for(700ms);
    const auto second_again = second.name + "2";
    fleet.push_back({spawn_replica(server.port(), second_again, a.path(second_again), 12, settings), second_again});
    wait_clean_exit(fleet);
    return a.by_slot();
}

// The slots from the first done to the last, less the last few (a shutdown drops the
// slots still waiting for the job's lease).
std::pair<long long, long long> span_of(const std::map<long long, std::vector<audit_line>>& done) {
    REQUIRE(done.size() >= 10);
    return {done.begin()->first, done.rbegin()->first - 3};
}

// The serial modes: never two runs of the job at once, fleet-wide; each ok run's start
// follows the previous one's end.
void check_one_run_at_a_time(std::map<std::string, std::map<long long, std::vector<audit_line>>>& lines) {
    std::vector<std::pair<long long, long long>> runs;  // (start, end), steady ms
    for (const auto& [slot, ends] : lines["done"])
        for (const auto& end : ends)
            for (const auto& start : lines["start"][slot])
                if (start.detail == end.detail) runs.emplace_back(start.steady_ms, end.steady_ms);
    std::sort(runs.begin(), runs.end());
    for (std::size_t i = 1; i < runs.size(); ++i)
        CHECK(runs[i].first >= runs[i - 1].second);
}

// Two replicas with the replica's policies (queue_one, run_each) and `lease` ms; one is
// SIGKILLed mid-run and restarted: every slot ran once, the killed one on the survivor,
// once the dead lease ran out. In the serial modes the slots that came due meanwhile are
// caught up one at a time, fleet-wide, after the dead lease: 100 ms runs and 8 s after
// it leave time for that (with 300 ms runs and 30 s of backlog a slot could still be
// waiting for the lease when the run ended, and was counted as never run).
void one_killed_of_two(const std::string& mode, int lease_ms) {
    redis_server server;
    audits a;
    const std::vector<std::string> settings{"mode=" + mode, "lease=" + std::to_string(lease_ms), "work=100"};
    const int seconds = 14 + lease_ms / 1000;
    std::vector<replica> fleet;
    for (const char* name : {"a", "b"})
        fleet.push_back({spawn_replica(server.port(), name, a.path(name), seconds, settings), name});
    std::this_thread::sleep_for(4s);
    const auto victim = kill_one_mid_run(fleet, a);
    const auto killed_slot = last_start(a.path(victim.name));
    std::this_thread::sleep_for(2s);
    const auto again = victim.name + "2";
    fleet.push_back({spawn_replica(server.port(), again, a.path(again), seconds - 6, settings), again});
    wait_clean_exit(fleet);
    auto lines = a.by_slot();
    auto& done = lines["done"];
    const auto [first, last] = span_of(done);
    REQUIRE(done[killed_slot].size() == 1);  // recovered once the dead lease ran out
    REQUIRE(lines["start"][killed_slot].size() == 2);
    const auto& killed = lines["start"][killed_slot];
    const auto& dead = killed[0].replica == victim.name ? killed[0] : killed[1];
    CHECK(done[killed_slot][0].replica != victim.name);
    CHECK(done[killed_slot][0].steady_ms - dead.steady_ms >= lease_ms - lease_ms / 30);
    for (long long slot = first; slot <= last; ++slot) {
        INFO("slot " << slot);
        CHECK(done[slot].size() == 1);
    }
    if (mode != "exactly_once") check_one_run_at_a_time(lines);
    MESSAGE(mode << ", " << lease_ms << " ms lease: " << (last - first + 1) << " slots, each ran once; slot "
                 << killed_slot << " re-run " << (done[killed_slot][0].steady_ms - dead.steady_ms) << " ms after");
}

TEST_SUITE("redis scheduler processes") {
    TEST_CASE("3 replica processes, one killed mid-run and restarted: every slot ran to completion once") {
        redis_server server;
        audits a;
        const std::vector<std::string> settings{"overlap=skip"};
        std::vector<pid_t> survivors{spawn_replica(server.port(), "a", a.path("a"), 20, settings),
                                     spawn_replica(server.port(), "b", a.path("b"), 20, settings)};
        const pid_t victim = spawn_replica(server.port(), "c", a.path("c"), 20, settings);
        std::this_thread::sleep_for(5s);
        kill_mid_run(victim, a.path("c"));
        const auto killed_slot = last_start(a.path("c"));
        std::this_thread::sleep_for(3s);
        survivors.push_back(spawn_replica(server.port(), "c2", a.path("c2"), 10, settings));
        wait_clean_exit(survivors);

        auto lines = a.by_slot();
        auto& done = lines["done"];
        const auto [first, last] = span_of(done);
        std::size_t rerun = 0;
        for (long long slot = first; slot <= last; ++slot) {
            INFO("slot " << slot);
            REQUIRE(done[slot].size() == 1);  // completed once, none missed
            for (const auto& start : lines["start"][slot]) {
                if (start.detail != done[slot][0].detail) {
                    CHECK(std::stoull(start.detail) < std::stoull(done[slot][0].detail));  // the dead run's was lower
                    ++rerun;
                }
            }
        }
        CHECK(lines["start"][killed_slot].size() == 2);
        CHECK(done[killed_slot][0].replica != "c");
        CHECK(rerun == 1);
        MESSAGE("slots " << (last - first + 1) << ", killed mid-run at slot " << killed_slot << ", re-run by "
                         << done[killed_slot][0].replica);
    }

    TEST_CASE("queue_one and run_each, 3 processes, two SIGKILLed mid-run and restarted: every slot ran exactly once") {
        for (const std::string mode : {"exactly_once", "exactly_once_serial", "single_runner"}) {
            CAPTURE(mode);
            redis_server server;
            audits a;
            auto lines = two_kills_of_three(server, a, {"mode=" + mode});
            auto& done = lines["done"];
            const auto [first, last] = span_of(done);
            for (long long slot = first; slot <= last; ++slot) {
                INFO("slot " << slot);
                CHECK(done[slot].size() == 1);
            }
            if (mode != "exactly_once") check_one_run_at_a_time(lines);
            MESSAGE(mode << ": " << (last - first + 1) << " slots, each ran once");
        }
    }

    TEST_CASE(
        "the defaults (overlap skip, misfire run_once), serial, two SIGKILLs: each slot ran once or was reported") {
        for (const std::string mode : {"exactly_once_serial", "single_runner"}) {
            CAPTURE(mode);
            redis_server server;
            audits a;
            auto lines = two_kills_of_three(server, a, {"mode=" + mode, "overlap=skip", "misfire=run_once"});
            auto& done = lines["done"];
            const auto [first, last] = span_of(done);
            std::size_t skipped = 0;
            for (long long slot = first; slot <= last; ++slot) {
                INFO("slot " << slot);
                CHECK(done[slot].size() <= 1);
                if (done[slot].size() == 1) continue;
                ++skipped;
                bool reported = false;
                for (const auto& skip : lines["skip"][slot])
                    reported = reported || skip.detail == "misfire" || skip.detail == "held_elsewhere";
                CHECK(reported);
            }
            check_one_run_at_a_time(lines);
            MESSAGE(mode << ": " << (last - first + 1) << " slots, " << skipped << " skipped with a reason");
        }
    }

    // One case each, so that CTest runs them side by side.
    TEST_CASE("2 processes, the default 30 s lease, exactly_once, one SIGKILLed and restarted: each slot ran once") {
        one_killed_of_two("exactly_once", 30'000);
    }
    TEST_CASE("2 processes, the default 30 s lease, exactly_once_serial, one SIGKILLed: each slot ran once") {
        one_killed_of_two("exactly_once_serial", 30'000);
    }
    TEST_CASE("2 processes, the default 30 s lease, single_runner, one SIGKILLed: each slot ran once") {
        one_killed_of_two("single_runner", 30'000);
    }
    TEST_CASE("2 processes, a 2 s lease, each mode, one SIGKILLed and restarted: each slot ran once") {
        for (const std::string mode : {"exactly_once", "exactly_once_serial", "single_runner"}) {
            CAPTURE(mode);
            one_killed_of_two(mode, 2'000);
        }
    }

    TEST_CASE("a SIGSTOP longer than the lease: the other replica runs the slot, the paused one never reports ok") {
        redis_server server;
        audits a;
        // queue_one: each replica claims every slot (a 1.5 s run on a 1 s schedule would
        // otherwise skip every other slot here, and never see the paused one's).
        const std::vector<std::string> settings{"work=1500", "overlap=queue_one"};
        std::vector<pid_t> running{spawn_replica(server.port(), "a", a.path("a"), 16, settings)};
        const pid_t paused = spawn_replica(server.port(), "b", a.path("b"), 16, settings);
        std::this_thread::sleep_for(4s);
        REQUIRE(wait_mid_run(a.path("b")));
        ::kill(paused, SIGSTOP);
        const auto paused_slot = last_start(a.path("b"));
        std::this_thread::sleep_for(5s);  // the 2 s lease runs out; a recovers the slot
        ::kill(paused, SIGCONT);
        running.push_back(paused);
        wait_clean_exit(running);
        auto lines = a.by_slot();
        for (const auto& [slot, ends] : lines["done"]) {
            const long long at = slot;  // clang 14 cannot capture a structured binding in INFO's lambda
            INFO("slot " << at);
            CHECK(ends.size() == 1);  // no duplicate ok
        }
        REQUIRE(lines["done"][paused_slot].size() == 1);
        CHECK(lines["done"][paused_slot][0].replica == "a");
        REQUIRE(lines["lost"][paused_slot].size() == 1);
        CHECK(lines["lost"][paused_slot][0].replica == "b");
    }

    TEST_CASE(
        "libfaketime: a step back on the holder never runs its slot twice -- a step forward is acted on at once") {
        const std::string faketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
        REQUIRE_MESSAGE(std::filesystem::exists(faketime), "install Debian's faketime (tools/install-deps.sh)");
        redis_server server;
        audits a;
        const auto offset_file = (a.dir / "offset").string();
        const auto set_offset = [&](const char* text) { std::ofstream{offset_file} << text << "\n"; };
        set_offset("+0");
        // Under AddressSanitizer the preloaded libfaketime comes before the ASan runtime,
        // which ASan refuses unless told that this order is meant.
        const std::vector<std::string> env{"LD_PRELOAD=" + faketime, "FAKETIME_TIMESTAMP_FILE=" + offset_file,
                                           "FAKETIME_NO_CACHE=1", "DONT_FAKE_MONOTONIC=1",
                                           "ASAN_OPTIONS=verify_asan_link_order=0"};
        const std::vector<std::string> settings{"work=3000", "overlap=skip", "stop=5000"};
        const pid_t stepped = spawn_replica(server.port(), "stepped", a.path("stepped"), 14, settings, env);
        std::this_thread::sleep_for(1s);
        const pid_t other = spawn_replica(server.port(), "other", a.path("other"), 13, settings);
        std::this_thread::sleep_for(3s);
        REQUIRE(wait_mid_run(a.path("stepped")));
        const auto held = read_audit(a.path("stepped")).back().slot;
        set_offset("-3600");  // the holder's clock is set back an hour, mid-run
        std::this_thread::sleep_for(5s);
        set_offset("+3600");  // and then an hour forward
        const auto stepped_at = std::chrono::steady_clock::now();
        wait_clean_exit({stepped, other});
        auto lines = a.by_slot();
        // The held slot ran once, on the holder, its renewals unaffected by the step back.
        REQUIRE(lines["done"][held].size() == 1);
        CHECK(lines["done"][held][0].replica == "stepped");
        CHECK(lines["start"][held].size() == 1);
        CHECK(lines["lost"].empty());
        for (const auto& [slot, ends] : lines["done"]) {
            const long long at = slot;  // clang 14 cannot capture a structured binding in INFO's lambda
            INFO("slot " << at);
            CHECK(ends.size() == 1);
        }
        // After the forward step the holder starts slots an hour ahead within the 1 s cap.
        const auto step_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(stepped_at.time_since_epoch()).count();
        long long first_ahead = -1;
        for (const auto& [slot, starts] : lines["start"])
            for (const auto& start : starts)
                if (start.replica == "stepped" && slot > held + 3000 &&
                    (first_ahead < 0 || start.steady_ms < first_ahead))
                    first_ahead = start.steady_ms;
        REQUIRE(first_ahead >= 0);
        CHECK(first_ahead - step_ms < 2'500);
        MESSAGE("a slot an hour ahead started " << (first_ahead - step_ms) << " ms after the forward step");
    }
}

}  // namespace
}  // namespace sked::test

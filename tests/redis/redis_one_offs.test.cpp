// Durable one-offs and stored retries across processes on a real Redis, with the default
// lease (30 s): the process that created the jobs, or failed their first attempts, is
// SIGKILLed for good, and the others carry on.
#include <doctest/doctest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "../support/redis_server.hpp"

#ifndef SKED_ONE_OFF_REPLICA
#error "SKED_ONE_OFF_REPLICA must name the replica program"
#endif

namespace sked::test {
namespace {

using namespace std::chrono_literals;

struct line {
    std::string what, id;
    std::uint32_t attempt;
    unsigned long long fence;
    std::string replica;
};

class fleet {
public:
    fleet() { std::filesystem::create_directories(dir_); }
    ~fleet() {
        for (auto pid : pids_) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        std::filesystem::remove_all(dir_);
    }
    fleet(const fleet&) = delete;
    fleet& operator=(const fleet&) = delete;

    pid_t spawn(const std::string& name, std::vector<std::string> settings) {
        std::vector<std::string> args{
            SKED_ONE_OFF_REPLICA, std::to_string(shared_redis_server().port()), prefix_, name, audit_, "90"};
        args.insert(args.end(), settings.begin(), settings.end());
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t child = 0;
        REQUIRE(::posix_spawn(&child, args[0].c_str(), nullptr, nullptr, argv.data(), environ) == 0);
        pids_.push_back(child);
        return child;
    }
    static void kill(pid_t pid) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    std::vector<line> lines() const {
        std::vector<line> out;
        std::ifstream in(audit_);
        line l;
        while (in >> l.what >> l.id >> l.attempt >> l.fence >> l.replica)
            out.push_back(l);
        return out;
    }
    std::size_t count(const std::string& what) const {
        std::size_t n = 0;
        for (const auto& l : lines())
            n += l.what == what;
        return n;
    }
    /// Waits until `replica` has started a job it has not finished, or `limit` passes.
    bool wait_mid_run(const std::string& replica, std::chrono::seconds limit) const {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < until) {
            std::map<std::string, int> open;
            for (const auto& l : lines())
                if (l.replica == replica) open[l.id] += l.what == "start" ? 1 : -1;
            for (const auto& [id, n] : open)
                if (n > 0) return true;
            std::this_thread::sleep_for(1ms);
        }
        return false;
    }
    /// Waits until `n` lines say `what`, or `limit` passes.
    bool wait_for(const std::string& what, std::size_t n, std::chrono::seconds limit) const {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < until) {
            if (count(what) >= n) return true;
            std::this_thread::sleep_for(20ms);
        }
        return false;
    }

private:
    std::filesystem::path dir_ = std::filesystem::temp_directory_path() /
                                 ("sked-one-offs-" + std::to_string(::getpid()) + "-" +
                                  std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::string audit_ = (dir_ / "audit").string();
    std::string prefix_ = fresh_prefix();
    std::vector<pid_t> pids_;
};

TEST_SUITE("redis one-offs") {
    TEST_CASE("500 one-offs due within 20 s -- their creator is SIGKILLed 2 s later: each runs to completion once") {
        fleet f;
        f.spawn("b", {});
        f.spawn("c", {});
        const auto creator = f.spawn("a", {"create=500", "within=20000"});
        std::this_thread::sleep_for(2s);
        REQUIRE(f.wait_mid_run("a", 5s));
        fleet::kill(creator);  // for good, in the middle of a job
        // A job the creator was running comes back when its 30 s lease runs out.
        REQUIRE_MESSAGE(f.wait_for("done", 500, 60s), "done: " << f.count("done"));
        std::this_thread::sleep_for(1s);  // nothing more may come
        std::map<std::string, std::vector<line>> done, started;
        for (const auto& l : f.lines())
            (l.what == "done" ? done : started)[l.id].push_back(l);
        CHECK(done.size() == 500);
        std::size_t by_creator = 0, taken_again = 0;
        for (const auto& [id, lines] : done) {
            CHECK_MESSAGE(lines.size() == 1, id << " completed " << lines.size() << " times");
            by_creator += lines[0].replica == "a";
            if (started[id].size() > 1) {
                ++taken_again;  // started by the creator, which died mid-run
                CHECK(lines[0].replica != "a");
                CHECK(lines[0].fence > started[id][0].fence);
            }
        }
        CHECK(by_creator < 100);  // the creator lived 2 s of the 20
        CHECK(taken_again >= 1);  // the job it was running when it died
        MESSAGE("completed by the creator " << by_creator << ", taken again after its lease " << taken_again);
    }

    TEST_CASE("a process fails attempt 1 of 100 slots and is SIGKILLed: the others run attempt 2 of each, once") {
        fleet f;
        const auto at = std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now()) + 2s;
        const auto at_text = "at=" + std::to_string(at.time_since_epoch().count());
        const auto failer = f.spawn("f", {"jobs=100", at_text, "fail=1"});
        REQUIRE_MESSAGE(f.wait_for("fail", 100, 15s), "failed: " << f.count("fail"));
        fleet::kill(failer);  // before the retries are due (5 s after each failure)
        f.spawn("b", {"jobs=100", at_text});
        f.spawn("c", {"jobs=100", at_text});
        REQUIRE_MESSAGE(f.wait_for("done", 100, 30s), "done: " << f.count("done"));
        std::this_thread::sleep_for(1s);
        std::map<std::string, std::vector<line>> done;
        for (const auto& l : f.lines()) {
            if (l.what == "done") done[l.id].push_back(l);
            if (l.replica != "f")
                CHECK_MESSAGE(l.attempt == 2, l.id << " attempt " << l.attempt << " on " << l.replica);
        }
        CHECK(done.size() == 100);
        for (const auto& [id, lines] : done) {
            CHECK_MESSAGE(lines.size() == 1, id << " completed " << lines.size() << " times");
            CHECK(lines[0].attempt == 2);
            CHECK(lines[0].replica != "f");
        }
    }
}

}  // namespace
}  // namespace sked::test

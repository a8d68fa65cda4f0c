// A scheduler replica for the multi-process tests: runs the job "tick" every second on
// Redis and appends what it does to an audit file.
//     sked_replica PORT NAME AUDIT_FILE SECONDS [mode=M] [lease=MS] [overlap=P] [misfire=P] [work=MS]
// mode: exactly_once (default), exactly_once_serial or single_runner; lease: the lease
// ttl (2000); overlap: skip or queue_one (queue_one); misfire: run_once or run_each
// (run_each); work: how long the body takes (300); stop: the shutdown deadline (2000).
// Audit lines, one write each: "<what> <slot> <fence or reason> <name> <steady ms>", what
// being "start" when the body begins, "done" when sked reports the run succeeded, "skip"
// for a skipped slot (the reason's name), "lost" for a lease lost; the slot is seconds
// since the epoch, the time CLOCK_MONOTONIC (shared by the processes) in ms.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <thread>

#include "../support/append_file.hpp"
#include "sked/redis/store.hpp"
#include "sked/runner.hpp"
#include "sked/scheduler.hpp"
#include "sked/thread_pool.hpp"

namespace {

class audit_file {
public:
    audit_file(const char* path, std::string name) : file_(path), name_(std::move(name)) {}
    [[nodiscard]] bool open() const { return file_.open(); }

    void write(std::string_view what, std::chrono::sys_seconds slot, std::string_view detail) const {
        using namespace std::chrono;
        const auto ms = duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
        char line[200];
        const int n =
            std::snprintf(line, sizeof line, "%.*s %lld %.*s %s %lld\n", static_cast<int>(what.size()), what.data(),
                          static_cast<long long>(slot.time_since_epoch().count()), static_cast<int>(detail.size()),
                          detail.data(), name_.c_str(), static_cast<long long>(ms));
        if (n > 0) file_.write({line, static_cast<std::size_t>(n)});
    }

private:
    sked::test::append_file file_;
    std::string name_;
};

// "key=value" arguments after the fixed ones.
std::map<std::string, std::string, std::less<>> settings(int argc, char** argv) {
    std::map<std::string, std::string, std::less<>> out;
    for (int i = 5; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto eq = arg.find('=');
        if (eq != std::string_view::npos) out[std::string(arg.substr(0, eq))] = std::string(arg.substr(eq + 1));
    }
    return out;
}

sked::job_options options_from(const std::map<std::string, std::string, std::less<>>& s) {
    const auto get = [&](const char* key, const char* fallback) {
        const auto found = s.find(key);
        return found == s.end() ? std::string(fallback) : found->second;
    };
    sked::job_options o;
    const auto mode = get("mode", "exactly_once");
    o.mode = mode == "exactly_once_serial" ? sked::distribution::exactly_once_serial
             : mode == "single_runner"     ? sked::distribution::single_runner
                                           : sked::distribution::exactly_once;
    o.lease_ttl = std::chrono::milliseconds{std::atoi(get("lease", "2000").c_str())};
    o.on_overlap = get("overlap", "queue_one") == "skip" ? sked::overlap::skip : sked::overlap::queue_one;
    o.on_misfire = get("misfire", "run_each") == "run_once" ? sked::misfire::run_once : sked::misfire::run_each;
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: sked_replica PORT NAME AUDIT_FILE SECONDS [key=value...]\n");
        return 2;
    }
    using namespace std::chrono_literals;
    const std::string name = argv[2];
    const audit_file audit{argv[3], name};
    if (!audit.open()) return 2;
    const auto s = settings(argc, argv);
    const auto work = std::chrono::milliseconds{std::atoi(s.contains("work") ? s.at("work").c_str() : "300")};
    sked::redis::keys keys{{.port = std::atoi(argv[1]), .prefix = "replicas"}};
    sked::thread_pool pool{4};
    // What sked reported: a run ok ("done", with its fencing token), a skip, a lost lease.
    const auto record = [&](const sked::event& e) {
        if (e.kind == sked::event_kind::succeeded) audit.write("done", e.nominal, std::to_string(e.fence));
        if (e.kind == sked::event_kind::skipped) audit.write("skip", e.nominal, sked::to_string(e.reason));
        if (e.kind == sked::event_kind::lease_lost) audit.write("lost", e.nominal, "-");
    };
    sked::scheduler engine{{.backend = keys, .replica = name, .executor = pool.executor(), .hooks = {record}}};
    const auto added = engine.add({"tick", sked::schedule::every(1s),
                                   [&](const sked::job_context& c) {
                                       audit.write("start", c.nominal, std::to_string(c.fence));
                                       // The work ignores a stop request: a shutdown lets it finish.
                                       std::this_thread::sleep_for(work);
                                   },
                                   options_from(s)});
    if (!added) {
        std::fprintf(stderr, "%s\n", added.error().message.c_str());
        return 1;
    }
    sked::runner r{engine};
    std::this_thread::sleep_for(std::chrono::seconds{std::atoi(argv[4])});
    const auto deadline = std::chrono::milliseconds{std::atoi(s.contains("stop") ? s.at("stop").c_str() : "2000")};
    const auto report = r.stop(deadline);
    return report.clean() ? 0 : 1;
}

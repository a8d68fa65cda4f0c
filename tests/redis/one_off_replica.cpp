// A replica for the multi-process one-off tests, on Redis with the default lease (30 s):
//     sked_one_off_replica PORT PREFIX NAME AUDIT_FILE SECONDS [key=value...]
//   create=N within=MS   create N one-offs "expire/node-<i>" due within MS from now
//   jobs=N at=EPOCH_S    register N jobs "charge-<i>", each once at EPOCH_S, exactly_once,
//                        3 attempts 5 s apart; fail=1: attempt 1 throws
// Every replica handles kind "expire" (each run takes 100 ms). Audit lines, one write
// each: "<what> <id> <attempt> <fence> <name>", what being "start", "done" (the body
// returned), "fail" (the body threw) or "retrying" (its next attempt is stored).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
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
    void write(std::string_view what, std::string_view id, std::uint32_t attempt, sked::fence_token fence) const {
        char line[300];
        const int n = std::snprintf(line, sizeof line, "%.*s %.*s %u %llu %s\n", static_cast<int>(what.size()),
                                    what.data(), static_cast<int>(id.size()), id.data(), attempt,
                                    static_cast<unsigned long long>(fence), name_.c_str());
        if (n > 0) file_.write({line, static_cast<std::size_t>(n)});
    }

private:
    sked::test::append_file file_;
    std::string name_;
};

long setting(const std::map<std::string, std::string, std::less<>>& s, const char* key, long fallback) {
    const auto found = s.find(key);
    return found == s.end() ? fallback : std::atol(found->second.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: sked_one_off_replica PORT PREFIX NAME AUDIT_FILE SECONDS [key=value...]\n");
        return 2;
    }
    using namespace std::chrono_literals;
    std::map<std::string, std::string, std::less<>> s;
    for (int i = 6; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto eq = arg.find('=');
        if (eq != std::string_view::npos) s[std::string(arg.substr(0, eq))] = std::string(arg.substr(eq + 1));
    }
    const std::string name = argv[3];
    const audit_file audit{argv[4], name};
    if (!audit.open()) return 2;
    sked::redis::keys keys{{.port = std::atoi(argv[1]), .prefix = argv[2]}};
    sked::thread_pool pool{8};
    // Written once the failed attempt's retry is stored in Redis: a process SIGKILLed
    // between its "fail" and this line leaves the slot to its lease, not to the retry.
    const auto stored = [&](const sked::event& e) {
        if (e.kind == sked::event_kind::retrying && e.key.empty()) audit.write("retrying", e.job, e.attempt, e.fence);
    };
    sked::scheduler engine{{.backend = keys, .replica = name, .executor = pool.executor(), .hooks = {stored}}};
    const auto on = engine.on("expire", [&](const sked::one_off_context& c) {
        audit.write("start", c.key, c.attempt, c.fence);
        std::this_thread::sleep_for(100ms);
        audit.write("done", c.key, c.attempt, c.fence);
    });
    if (!on) {
        std::fprintf(stderr, "%s\n", on.error().message.c_str());
        return 1;
    }
    const bool fail_first = setting(s, "fail", 0) == 1;
    const std::chrono::sys_seconds at{std::chrono::seconds{setting(s, "at", 0)}};
    for (long i = 0; i < setting(s, "jobs", 0); ++i) {
        auto added = engine.add({"charge-" + std::to_string(i),
                                 sked::schedule::once(at),
                                 [&, fail_first](const sked::job_context& c) {
                                     audit.write("start", c.job, c.attempt, c.fence);
                                     if (fail_first && c.attempt == 1) {
                                         audit.write("fail", c.job, c.attempt, c.fence);
                                         throw std::runtime_error("payment service unavailable");
                                     }
                                     audit.write("done", c.job, c.attempt, c.fence);
                                 },
                                 {.retry = {.max_attempts = 3, .initial_delay = 5s, .jitter = 0.0}}});
        if (!added) {
            std::fprintf(stderr, "%s\n", added.error().message.c_str());
            return 1;
        }
    }
    sked::runner r{engine};
    const auto now = std::chrono::floor<std::chrono::milliseconds>(sked::system_now());
    const auto within = setting(s, "within", 20'000);
    for (long i = 0; i < setting(s, "create", 0); ++i) {
        const auto due = std::chrono::ceil<std::chrono::seconds>(
            now + std::chrono::milliseconds{within * i / setting(s, "create", 1)});
        auto made = engine.create({.kind = "expire", .key = "node-" + std::to_string(i), .due = due});
        if (!made || *made != sked::create_status::created) {
            std::fprintf(stderr, "create node-%ld: %s\n", i, made ? "not created" : made.error().message().c_str());
            return 1;
        }
    }
    std::this_thread::sleep_for(std::chrono::seconds{std::atoi(argv[5])});
    return r.stop(5s).clean() ? 0 : 1;
}

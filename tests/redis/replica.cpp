// A scheduler replica for the multi-process test: runs the job "tick" every second,
// exactly once across replicas, on Redis; appends what it does to an audit file.
//     sked_replica PORT NAME AUDIT_FILE SECONDS
// Audit lines: "start <slot> <fence> <name>" when the job body begins, "done ..." when
// it returns; the slot is in seconds since the epoch.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "sked/redis/store.hpp"
#include "sked/runner.hpp"
#include "sked/scheduler.hpp"
#include "sked/thread_pool.hpp"

namespace {

void audit(int fd, const char* what, const sked::job_context& c, const std::string& name) {
    char line[160];
    const int n = std::snprintf(line, sizeof line, "%s %lld %llu %s\n", what,
                                static_cast<long long>(c.nominal.time_since_epoch().count()),
                                static_cast<unsigned long long>(c.fence), name.c_str());
    if (n > 0) (void)::write(fd, line, static_cast<std::size_t>(n));  // O_APPEND: one line, one write
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: sked_replica PORT NAME AUDIT_FILE SECONDS\n");
        return 2;
    }
    using namespace std::chrono_literals;
    const std::string name = argv[2];
    const int fd = ::open(argv[3], O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return 2;
    sked::redis::keys keys{{.port = std::atoi(argv[1]), .prefix = "replicas"}};
    sked::thread_pool pool{2};
    sked::scheduler s{{.backend = keys, .replica = name, .executor = pool.executor()}};
    const auto added =
        s.add({"tick",
               sked::schedule::every(1s),
               [&](const sked::job_context& c) {
                   audit(fd, "start", c, name);
                   for (int i = 0; i < 30 && !c.stop_requested(); ++i)
                       std::this_thread::sleep_for(10ms);  // 300 ms of work
                   audit(fd, "done", c, name);
               },
               {.mode = sked::distribution::exactly_once, .on_misfire = sked::misfire::run_each, .lease_ttl = 2s}});
    if (!added) {
        std::fprintf(stderr, "%s\n", added.error().message.c_str());
        return 1;
    }
    sked::runner r{s};
    std::this_thread::sleep_for(std::chrono::seconds{std::atoi(argv[4])});
    const auto report = r.stop(2s);
    ::close(fd);
    return report.clean() ? 0 : 1;
}

// One replica of the peer suite's work on sked's public API (benchmarks/peers/README.md):
//
//     sked_peer PORT JOBS THREADS WORK_MS LOG NAME
//
// JOBS jobs, each every second, exactly once across the replicas that share the Redis on
// 127.0.0.1:PORT (default lease, thread pool of THREADS); each run sleeps WORK_MS. Every
// start and end is appended to LOG as "S|E <job> <slot ms> <now ms> <NAME>", flushed at
// once, so a replica that is SIGKILLed leaves what it did. Runs until SIGTERM or SIGINT.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "sked/redis/store.hpp"
#include "sked/runner.hpp"
#include "sked/scheduler.hpp"
#include "sked/thread_pool.hpp"

namespace {

long long ms_of(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

class run_log {
public:
    explicit run_log(const char* path) : file_(std::fopen(path, "a")) {}
    ~run_log() {
        if (file_ != nullptr) std::fclose(file_);
    }
    run_log(const run_log&) = delete;
    run_log& operator=(const run_log&) = delete;

    [[nodiscard]] bool open() const noexcept { return file_ != nullptr; }

    void line(char what, const std::string& job, std::chrono::sys_seconds slot, const std::string& name) {
        const auto now = ms_of(std::chrono::system_clock::now());
        std::lock_guard hold{mutex_};
        std::fprintf(file_, "%c %s %lld %lld %s\n", what, job.c_str(), ms_of(slot), now, name.c_str());
        std::fflush(file_);
    }

private:
    std::mutex mutex_;
    std::FILE* file_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 7) {
        std::fprintf(stderr, "usage: sked_peer PORT JOBS THREADS WORK_MS LOG NAME\n");
        return 2;
    }
    const int port = std::atoi(argv[1]);
    const auto jobs = std::strtoul(argv[2], nullptr, 10);
    const auto threads = std::strtoul(argv[3], nullptr, 10);
    const auto work = std::chrono::milliseconds{std::atol(argv[4])};
    const std::string name = argv[6];
    run_log log{argv[5]};
    if (port <= 0 || jobs == 0 || threads == 0 || !log.open()) {
        std::fprintf(stderr, "sked_peer: bad arguments, or cannot open %s\n", argv[5]);
        return 2;
    }
    // Blocked before any thread starts, so every thread inherits the mask and the main
    // thread alone takes the signal in sigwait.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    sked::redis::keys store{{.port = port, .prefix = "peers"}};
    sked::thread_pool pool{threads};
    sked::scheduler engine{
        {.backend = store, .replica = name, .executor = pool.executor(), .executor_threads = pool.size()}};
    for (std::size_t i = 0; i < jobs; ++i) {
        const auto job = "j" + std::to_string(i);
        auto added = engine.add({job,
                                 sked::schedule::every(std::chrono::seconds{1}),
                                 [&log, &name, job, work](const sked::job_context& c) {
                                     log.line('S', job, c.nominal, name);
                                     if (work.count() > 0) std::this_thread::sleep_for(work);
                                     log.line('E', job, c.nominal, name);
                                 },
                                 {.mode = sked::distribution::exactly_once}});
        if (!added) {
            std::fprintf(stderr, "sked_peer: %s\n", added.error().message.c_str());
            return 1;
        }
    }
    sked::runner runner{engine};
    int signal = 0;
    sigwait(&stop_signals, &signal);
    (void)runner.stop(std::chrono::seconds{5});
    return 0;
}

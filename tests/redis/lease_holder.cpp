// Takes a Redis lock and holds it until killed: the "replica that dies mid-run" of
// the fault tests. Usage: sked_lease_holder PORT PREFIX NAME TTL_MS
// Prints the lease's fencing token on a line of its own once it holds the lock.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "sked/redis/store.hpp"

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s PORT PREFIX NAME TTL_MS\n", argv[0]);
        return 2;
    }
    sked::redis::options settings;
    settings.port = std::stoi(argv[1]);
    settings.prefix = argv[2];
    sked::redis::locks locks{settings};
    auto held = locks.try_lock(argv[3], std::chrono::milliseconds{std::stol(argv[4])});
    if (!held || !held->acquired()) {
        std::fprintf(stderr, "not acquired: %s\n", held ? "held elsewhere" : held.error().message().c_str());
        return 1;
    }
    std::printf("%llu\n", static_cast<unsigned long long>(held->lease.fence));
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::minutes{1});  // "working" until SIGKILL
    return 0;
}

// Runs an every(1s) job from an io_context for 1.5 s, stops, and prints how often it ran.
#include <sked/asio.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>

int main() {
    using namespace std::chrono_literals;
    namespace net = sked::asio::net;
    net::io_context io;
    sked::scheduler s;
    std::atomic<int> runs{0};
    if (!s.add({"tick", sked::schedule::every(1s), [&](const sked::job_context&) { ++runs; }})) return 1;
    sked::asio::driver d{io.get_executor(), s};
    d.start();
    io.run_for(1500ms);
    bool clean = false;
    d.async_stop(1s, [&](sked::shutdown_report r) { clean = r.clean(); });
    io.restart();
    io.run_for(1s);
    std::printf("%d %s\n", runs.load(), clean ? "clean" : "unclean");
    return clean ? 0 : 1;
}

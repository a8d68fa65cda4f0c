// Serves sked's endpoints for a scheduler with jobs that succeed, fail, time out, skip
// and are paused, for tests/http/dashboard_in_chromium.py:
//     sked_dashboard_server SECONDS     prints "http://127.0.0.1:PORT/scheduler", serves, exits
#include <sked/asio.hpp>
#include <sked/http/server.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    namespace net = boost::asio;
    const int seconds = argc > 1 ? std::atoi(argv[1]) : 10;
    net::io_context io;
    net::thread_pool pool{4};
    sked::http::run_history history;
    sked::scheduler s{{.replica = "web-1", .executor = sked::asio::post_to(pool), .hooks = {history.hook()}}};
    const auto add = [&s](sked::job_spec spec) {
        if (!s.add(std::move(spec))) throw std::logic_error("a demo job was refused");
    };
    add({"daily_reward", sked::schedule::cron(sked::cron::parse("0 0 * * *").value()),
         [](const sked::job_context&) {}});
    add({"drop_tick", sked::schedule::every(1s), [](const sked::job_context&) {}});
    std::atomic<int> n{0};
    add({"flaky_sync", sked::schedule::every(1s), [&n](const sked::job_context&) {
             if (++n % 2 == 0) throw std::runtime_error{"upstream 503"};
         }});
    add({"slow_sweep",
         sked::schedule::every(1s),
         [](const sked::job_context& c) {
             for (int i = 0; i < 150 && !c.stop_requested(); ++i)
                 std::this_thread::sleep_for(10ms);
         },
         {.on_overlap = sked::overlap::skip, .timeout = 1200ms}});
    add({"paused_report", sked::schedule::cron(sked::cron::parse("30 9 * * 1-5").value()),
         [](const sked::job_context&) {}});
    (void)s.pause("paused_report");

    sked::asio::driver d{io.get_executor(), s};
    sked::http::server web{
        io.get_executor(), s, {.handler = {.dashboard = {.history = &history, .refresh_seconds = 5}}}};
    d.start();
    web.start();
    std::printf("http://127.0.0.1:%u/scheduler\n", static_cast<unsigned>(web.port()));
    std::fflush(stdout);
    io.run_for(std::chrono::seconds{seconds});
    web.stop();
    bool clean = false;
    d.async_stop(3s, [&clean](sked::shutdown_report r) { clean = r.clean(); });
    io.restart();
    io.run_for(4s);
    pool.join();
    return clean ? 0 : 1;
}

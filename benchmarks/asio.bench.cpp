// sked on an io_context (sked::asio::driver) and its endpoints (sked::http):
//   dispatch_direct/N        N local jobs every second on a virtual clock, run_due called
//                            directly: the baseline, measured in the same run
//   dispatch_driver/N        the same jobs, each pass made by the driver (its timer on a
//                            strand, next_wakeup, the re-arm): the driver's overhead
//   timer_round_trip         the bound for that overhead, in the same run: a steady_timer
//                            on a strand armed to expire at once and waited for, no scheduler
//   driver_wakeup_latency/P  real time: one-off jobs due on whole milliseconds, how late
//                            the body starts with the driver on an io thread (p50, p99, max);
//                            P 0: passes on the pool (the default), 1: on the io thread
//   driver_idle_cpu          CPU the process uses while 1,000 jobs wait an hour away
//   metrics_render/N         GET /metrics through sked::http::handle for N jobs (bytes)
//   metrics_status/N         its first half: scheduler::status(), a copy of every job
//   metrics_text/N           its second half: to_prometheus() of that status
//   metrics_copy/N           the bound for the text, in the same run: copying a string as
//                            long as the rendered text
//   metrics_served/N         GET /metrics from the Beast server on one io thread, over one
//                            keep-alive connection; health_served the same for /health
#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <thread>

#include "sked/asio.hpp"
#include "sked/http/server.hpp"
#include "wakeup_probe.hpp"

namespace {

using namespace std::chrono_literals;
namespace net = boost::asio;

std::string job_name(std::size_t i) { return "job-" + std::to_string(1'000'000 + i).substr(1); }

sked::instant monday() { return sked::instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 23}}; }

void add_local_jobs(sked::scheduler& s, std::size_t jobs, std::size_t& runs) {
    for (std::size_t i = 0; i < jobs; ++i)
        (void)s.add({job_name(i),
                     sked::schedule::every(1s),
                     [&runs](const sked::job_context&) { ++runs; },
                     {.mode = sked::distribution::local}});
}

void dispatch_direct(benchmark::State& state) {
    sked::virtual_clock clock{monday()};
    sked::scheduler s{{.clock = clock.source(), .steady = clock.steady_source()}};
    std::size_t runs = 0;
    add_local_jobs(s, static_cast<std::size_t>(state.range(0)), runs);
    s.run_due(clock.now());
    for (auto _ : state) {
        clock.advance(1s);
        benchmark::DoNotOptimize(s.run_due(clock.now()));
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(runs));
}
BENCHMARK(dispatch_direct)->Arg(10)->Arg(1'000)->Arg(10'000)->Unit(benchmark::kMicrosecond);

// max_wait 0: the timer is due at once after every pass, so each io.run_one() is one pass.
void dispatch_driver(benchmark::State& state) {
    sked::virtual_clock clock{monday()};
    sked::scheduler s{{.clock = clock.source(), .steady = clock.steady_source()}};
    std::size_t runs = 0;
    add_local_jobs(s, static_cast<std::size_t>(state.range(0)), runs);
    net::io_context io;
    sked::asio::driver d{io.get_executor(), s, {.max_wait = 0ms}};
    d.start();
    while (d.passes() == 0)
        io.run_one();
    for (auto _ : state) {
        clock.advance(1s);
        const auto before = d.passes();
        while (d.passes() == before)
            io.run_one();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(runs));
}
BENCHMARK(dispatch_driver)->Arg(10)->Arg(1'000)->Arg(10'000)->Unit(benchmark::kMicrosecond);

void timer_round_trip(benchmark::State& state) {
    net::io_context io;
    auto work = net::make_work_guard(io);  // else io stops once a run_one finds nothing left to do
    net::steady_timer timer{net::make_strand(io)};
    bool fired = false;
    for (auto _ : state) {
        timer.expires_after(0ms);
        timer.async_wait([&fired](boost::system::error_code) { fired = true; });
        while (!fired)
            io.run_one();
        fired = false;
    }
}
BENCHMARK(timer_round_trip)->Unit(benchmark::kMicrosecond);

void driver_wakeup_latency(benchmark::State& state) {
    for (auto _ : state) {
        net::io_context io;
        auto work = net::make_work_guard(io);
        net::thread_pool pool{2};
        sked::scheduler s{{.executor = sked::asio::post_to(pool)}};
        bench::wakeup_probe probe{s, 400};
        // Arg 0: passes on the pool (the default); 1: on the io thread (no backend round trips here).
        sked::asio::driver_options options{};
        if (state.range(0) == 1) options.pass_executor = [](std::function<void()> pass) { pass(); };
        sked::asio::driver d{io.get_executor(), s, options};
        d.start();
        std::jthread runs_io{[&io] { io.run(); }};
        probe.wait();
        d.async_stop(1s, net::use_future).get();
        work.reset();
        pool.join();
        probe.report(state);
    }
}
BENCHMARK(driver_wakeup_latency)->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

void driver_idle_cpu(benchmark::State& state) {
    for (auto _ : state) {
        net::io_context io;
        net::thread_pool pool{2};
        sked::scheduler s{{.executor = sked::asio::post_to(pool)}};
        const auto later = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) + 1h;
        for (std::size_t i = 0; i < 1000; ++i)
            (void)s.add({job_name(i), sked::schedule::once(later), [](const sked::job_context&) {}});
        sked::asio::driver d{io.get_executor(), s};
        d.start();
        std::jthread runs_io{[&io] { io.run_for(2500ms); }};
        std::this_thread::sleep_for(300ms);  // let it settle into its wait
        const double before = process_cpu_seconds();
        std::this_thread::sleep_for(2s);
        state.counters["cpu_ms_per_s"] = (process_cpu_seconds() - before) * 1000.0 / 2.0;
        state.counters["passes"] = static_cast<double>(d.passes());
        runs_io.join();
        pool.join();
    }
}
BENCHMARK(driver_idle_cpu)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// A scheduler whose N jobs have each run once, so every series has values.
struct ran_jobs {
    sked::virtual_clock clock{monday()};
    sked::scheduler s{{.clock = clock.source(), .steady = clock.steady_source(), .replica = "bench-1"}};
    std::size_t runs = 0;
    explicit ran_jobs(std::size_t n) {
        add_local_jobs(s, n, runs);
        s.run_due(clock.now());
        clock.advance(1s);
        s.run_due(clock.now());
    }
};

void metrics_render(benchmark::State& state) {
    ran_jobs jobs{static_cast<std::size_t>(state.range(0))};
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto r = sked::http::handle(jobs.s, "GET", "/metrics", {});
        bytes = r.body.size();
        benchmark::DoNotOptimize(r);
    }
    state.counters["bytes"] = static_cast<double>(bytes);
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
}
BENCHMARK(metrics_render)->Arg(100)->Arg(10'000)->Unit(benchmark::kMillisecond);

void metrics_status(benchmark::State& state) {
    ran_jobs jobs{static_cast<std::size_t>(state.range(0))};
    for (auto _ : state)
        benchmark::DoNotOptimize(jobs.s.status());
}
BENCHMARK(metrics_status)->Arg(100)->Arg(10'000)->Unit(benchmark::kMillisecond);

void metrics_text(benchmark::State& state) {
    ran_jobs jobs{static_cast<std::size_t>(state.range(0))};
    const auto status = jobs.s.status();
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto text = sked::to_prometheus(status);
        bytes = text.size();
        benchmark::DoNotOptimize(text);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
}
BENCHMARK(metrics_text)->Arg(100)->Arg(10'000)->Unit(benchmark::kMillisecond);

void metrics_copy(benchmark::State& state) {
    ran_jobs jobs{static_cast<std::size_t>(state.range(0))};
    const auto text = sked::to_prometheus(jobs.s.status());
    for (auto _ : state) {
        std::string copy = text;
        benchmark::DoNotOptimize(copy);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(text.size()) * state.iterations());
}
BENCHMARK(metrics_copy)->Arg(100)->Arg(10'000)->Unit(benchmark::kMillisecond);

// GET `target` over one keep-alive connection to a server on one io thread.
void served(benchmark::State& state, const char* target) {
    ran_jobs jobs{static_cast<std::size_t>(state.range(0))};
    net::io_context io;
    auto work = net::make_work_guard(io);
    sked::http::server web{io.get_executor(), jobs.s, {.max_body_bytes = 1024}};
    web.start();
    std::jthread server_thread{[&io] { io.run(); }};  // the one core the server has
    net::io_context client_io;
    boost::beast::tcp_stream stream{client_io};
    stream.connect({net::ip::make_address("127.0.0.1"), web.port()});
    boost::beast::flat_buffer buffer;
    namespace bhttp = boost::beast::http;
    bhttp::request<bhttp::empty_body> request{bhttp::verb::get, target, 11};
    request.set(bhttp::field::host, "127.0.0.1");
    for (auto _ : state) {
        bhttp::write(stream, request);
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(256 * 1024 * 1024);
        bhttp::read(stream, buffer, parser);
        benchmark::DoNotOptimize(parser.get().body().size());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    web.stop();
    work.reset();
}
void metrics_served(benchmark::State& state) { served(state, "/metrics"); }
void health_served(benchmark::State& state) { served(state, "/health"); }
BENCHMARK(metrics_served)->Arg(100)->Arg(10'000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(health_served)->Arg(10'000)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

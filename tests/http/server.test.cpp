#include "sked/http/server.hpp"

#include <doctest/doctest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <sked/asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/eventually.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using json = nlohmann::json;

// A scheduler with a few jobs, driven on an io_context, and the server on the same one:
// once per test binary, as the suite starts no server per case.
struct service {
    net::io_context io;
    net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(io);
    net::thread_pool pool{2};
    http::run_history history;
    scheduler s{{.replica = "web-1", .executor = asio::post_to(pool), .hooks = {history.hook()}}};
    asio::driver<net::io_context::executor_type> driver{io.get_executor(), s};
    http::server web{io.get_executor(),
                     s,
                     {.handler = {.token = "s3cret", .dashboard = {.history = &history}},
                      .max_connections = 32,
                      .read_timeout = 400ms,
                      .max_header_bytes = 4096,
                      .max_body_bytes = 1024}};
    std::vector<std::jthread> threads;

    service() {
        (void)s.add({"daily_reward", schedule::cron(cron::parse("0 0 * * *").value()), [](const job_context&) {}});
        (void)s.add({"tick", schedule::every(1s), [](const job_context&) {}});
        (void)s.add(
            {"broken \"one\"", schedule::every(1s), [](const job_context&) { throw std::runtime_error{"no table"}; }});
        driver.start();
        web.start();
        for (int i = 0; i < 2; ++i)
            threads.emplace_back([this] { io.run(); });
        // Ready when the driver has made its first pass: before it, /health says "not driven yet".
        if (!eventually([this] { return s.since_last_pass().has_value(); }))
            throw std::runtime_error{"the driver made no pass in 10 s"};
    }
    ~service() {
        web.stop();
        driver.async_stop(1s, net::use_future).get();
        work.reset();
        for (auto& t : threads)
            t.join();
        pool.join();
    }
};

service& the_service() {
    static service one;
    return one;
}

struct reply {
    unsigned status = 0;
    std::string content_type, body, allow, authenticate;
};

// One request on a fresh connection, with Beast's client side.
reply fetch(bhttp::verb method, const std::string& target, const std::string& authorization = {},
            const std::string& body = {}) {
    net::io_context io;
    beast::tcp_stream stream{io};
    stream.connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), the_service().web.port()});
    stream.expires_after(5s);
    bhttp::request<bhttp::string_body> request{method, target, 11};
    request.set(bhttp::field::host, "127.0.0.1");
    if (!authorization.empty()) request.set(bhttp::field::authorization, authorization);
    if (!body.empty()) request.body() = body;
    request.prepare_payload();
    bhttp::write(stream, request);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(method == bhttp::verb::head);
    bhttp::read(stream, buffer, parser);
    const auto& r = parser.get();
    return {r.result_int(), std::string{r[bhttp::field::content_type]}, r.body(), std::string{r[bhttp::field::allow]},
            std::string{r[bhttp::field::www_authenticate]}};
}

reply get(const std::string& target) { return fetch(bhttp::verb::get, target); }

// Sends raw bytes and reads what comes back until the server closes (or 3 s pass).
std::string raw_exchange(const std::string& bytes) {
    net::io_context io;
    tcp::socket socket{io};
    socket.connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), the_service().web.port()});
    net::write(socket, net::buffer(bytes));
    std::string got;
    boost::system::error_code ec;
    char chunk[4096];
    const auto until = std::chrono::steady_clock::now() + 3s;
    socket.non_blocking(true);
    while (std::chrono::steady_clock::now() < until) {
        const auto n = socket.read_some(net::buffer(chunk), ec);
        if (ec == net::error::would_block) {
            std::this_thread::sleep_for(5ms);
            continue;
        }
        if (ec) break;
        got.append(chunk, n);
    }
    return got;
}

unsigned status_of(const std::string& raw) {
    unsigned code = 0;
    return std::sscanf(raw.c_str(), "HTTP/1.1 %u", &code) == 1 ? code : 0;
}

TEST_SUITE("http") {
    TEST_CASE("http: GET /metrics is Prometheus 0.0.4, and promtool check metrics finds nothing wrong") {
        REQUIRE(eventually([] { return the_service().s.status().jobs.size() == 3; }));
        const auto r = get("/metrics");
        CHECK(r.status == 200);
        CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
        CHECK(r.body.find("sked_up 1") != std::string::npos);
        CHECK(r.body.find("sked_job=\"daily_reward\"") != std::string::npos);
        const std::string file = "http_metrics.prom";
        std::ofstream{file} << r.body;
        const auto out = std::string{"promtool check metrics < "} + file + " > http_promtool.out 2>&1";
        CHECK(std::system(out.c_str()) == 0);
        std::ifstream said{"http_promtool.out"};
        const std::string complaints{std::istreambuf_iterator<char>{said}, {}};
        CHECK_MESSAGE(complaints.empty(), complaints);
    }

    TEST_CASE("http: GET /scheduler/status is the JSON status, which parses") {
        const auto r = get("/scheduler/status?pretty=1");  // a query is ignored
        CHECK(r.status == 200);
        CHECK(r.content_type == "application/json");
        const auto status = json::parse(r.body);
        CHECK(status["running"] == true);
        CHECK(status["replica"] == "web-1");
        REQUIRE(status["jobs"].size() == 3);
        std::vector<std::string> names;
        for (const auto& j : status["jobs"])
            names.push_back(j["name"]);
        CHECK(std::find(names.begin(), names.end(), "broken \"one\"") != names.end());
    }

    TEST_CASE("http: GET /health is 200 with a short JSON body while the driver passes") {
        const auto r = get("/health");
        CHECK(r.status == 200);
        const auto health = json::parse(r.body);
        CHECK(health["healthy"] == true);
        CHECK(health["backend_reachable"] == true);
        CHECK(health["last_pass_ms_ago"].get<int>() <= 2000);
        const auto head = fetch(bhttp::verb::head, "/health");
        CHECK(head.status == 200);
        CHECK(head.body.empty());
    }

    TEST_CASE("http: the control routes need the bearer token -- 401 without, 403 wrong, then pause, resume, run") {
        auto& svc = the_service();
        const auto none = fetch(bhttp::verb::post, "/scheduler/jobs/tick/pause");
        CHECK(none.status == 401);
        CHECK(none.authenticate == "Bearer realm=\"sked\"");
        CHECK(fetch(bhttp::verb::post, "/scheduler/jobs/tick/pause", "Bearer wrong").status == 403);
        CHECK(fetch(bhttp::verb::post, "/scheduler/jobs/tick/pause", "Basic czNjcmV0").status == 401);
        const auto job_paused = [&svc](std::string_view name) {
            for (const auto& j : svc.s.status().jobs)
                if (j.name == name) return j.paused;
            return false;
        };
        CHECK_FALSE(job_paused("tick"));
        const auto paused = fetch(bhttp::verb::post, "/scheduler/jobs/tick/pause", "Bearer s3cret");
        CHECK(paused.status == 200);
        CHECK(json::parse(paused.body) == json{{"job", "tick"}, {"action", "pause"}});
        CHECK(job_paused("tick"));
        CHECK(fetch(bhttp::verb::post, "/scheduler/jobs/tick/resume", "bearer s3cret").status == 200);
        CHECK_FALSE(job_paused("tick"));
        // A name with a space and quotes, percent-encoded.
        CHECK(fetch(bhttp::verb::post, "/scheduler/jobs/broken%20%22one%22/pause", "Bearer s3cret").status == 200);
        CHECK(job_paused("broken \"one\""));
        CHECK(fetch(bhttp::verb::post, "/scheduler/jobs/broken%20%22one%22/resume", "Bearer s3cret").status == 200);
        CHECK(fetch(bhttp::verb::post, "/scheduler/jobs/daily_reward/run", "Bearer s3cret").status == 200);
        CHECK(fetch(bhttp::verb::post, "/scheduler/jobs/nobody/run", "Bearer s3cret").status == 404);
    }

    TEST_CASE("http: the stagger switches -- for every job and for one, with the token, seen in status and metrics") {
        auto& svc = the_service();
        CHECK(fetch(bhttp::verb::post, "/scheduler/stagger-off").status == 401);
        CHECK(fetch(bhttp::verb::post, "/scheduler/stagger-off", "Bearer wrong").status == 403);
        CHECK(get("/scheduler/stagger-off").status == 405);
        const auto off = fetch(bhttp::verb::post, "/scheduler/stagger-off", "Bearer s3cret");
        CHECK(off.status == 200);
        CHECK(json::parse(off.body) == json{{"jobs", "all"}, {"action", "stagger-off"}});
        CHECK_FALSE(svc.s.status().stagger);
        CHECK(json::parse(get("/scheduler/status").body)["stagger"] == false);
        CHECK(get("/metrics").body.find("\nsked_stagger_enabled 0\n") != std::string::npos);
        CHECK(fetch(bhttp::verb::post, "/scheduler/stagger-on", "Bearer s3cret").status == 200);
        CHECK(svc.s.status().stagger);

        const auto one = fetch(bhttp::verb::post, "/scheduler/jobs/tick/stagger-off", "Bearer s3cret");
        CHECK(one.status == 200);
        CHECK(json::parse(one.body) == json{{"job", "tick"}, {"action", "stagger-off"}});
        const auto status = json::parse(get("/scheduler/status").body);
        for (const auto& j : status["jobs"])
            CHECK_MESSAGE(j["stagger"] == (j["name"] != "tick"), j["name"]);
        CHECK(get("/metrics").body.find("sked_job_stagger_enabled{sked_job=\"tick\"} 0\n") != std::string::npos);
        CHECK(fetch(bhttp::verb::post, "/scheduler/jobs/tick/stagger-on", "Bearer s3cret").status == 200);
        CHECK(fetch(bhttp::verb::post, "/scheduler/jobs/nobody/stagger-off", "Bearer s3cret").status == 404);
        CHECK(fetch(bhttp::verb::post, "/scheduler/jobs/tick/stagger", "Bearer s3cret").status == 404);
    }

    TEST_CASE("http: GET /scheduler is the dashboard -- every job, its schedule in words, results, a timeline") {
        auto& svc = the_service();
        REQUIRE(eventually([&svc] {  // the broken job has failed, and its failure is on the timeline
            return !svc.history.of("broken \"one\"", svc.s.now() - std::chrono::hours{1}).empty();
        }));
        const auto r = get("/scheduler");
        CHECK(r.status == 200);
        CHECK(r.content_type == "text/html; charset=utf-8");
        const auto has = [&r](std::string_view part) { return r.body.find(part) != std::string::npos; };
        CHECK(has("<meta http-equiv=\"refresh\" content=\"10\">"));
        CHECK(has(">daily_reward"));
        CHECK(has("At 00:00"));  // cron_explain, with the zone
        CHECK(has("Every 1s"));
        CHECK(has(">broken &quot;one&quot;"));  // escaped
        CHECK_FALSE(has("broken \"one\""));
        CHECK(has("class=\"failed\"><title>"));  // a failure mark on the timeline
        CHECK(has("<span class=\"badge failed\">failed</span>"));
        CHECK_FALSE(has("<script"));
        CHECK_FALSE(has("http://"));  // no external asset
        REQUIRE(fetch(bhttp::verb::post, "/scheduler/jobs/daily_reward/pause", "Bearer s3cret").status == 200);
        CHECK(get("/scheduler").body.find(">daily_reward <span class=\"badge paused\">paused</span>") !=
              std::string::npos);
        CHECK(fetch(bhttp::verb::post, "/scheduler/jobs/daily_reward/resume", "Bearer s3cret").status == 200);
    }

    TEST_CASE("http: the handler without a token refuses control (disabled), and reads still work") {
        auto& svc = the_service();
        const auto r = http::handle(svc.s, "POST", "/scheduler/jobs/tick/pause", {}, {});
        CHECK(r.status == 403);
        CHECK(json::parse(r.body)["error"] == "control endpoints are disabled: no token is configured");
        CHECK(http::handle(svc.s, "GET", "/health", {}, {}).status == 200);
    }

    TEST_CASE("http: bad input -- 404, 405 with Allow, 400 for a bad target or name, 431, 413, a malformed request") {
        CHECK(get("/nothing/here").status == 404);
        CHECK(get("/scheduler/jobs/tick/explode").status == 404);
        const auto post_metrics = fetch(bhttp::verb::post, "/metrics");
        CHECK(post_metrics.status == 405);
        CHECK(post_metrics.allow == "GET, HEAD");
        const auto get_pause = get("/scheduler/jobs/tick/pause");
        CHECK(get_pause.status == 405);
        CHECK(get_pause.allow == "POST");
        CHECK(fetch(bhttp::verb::post, "/scheduler/jobs/bad%2/pause", "Bearer s3cret").status == 400);
        CHECK(fetch(bhttp::verb::post, "/scheduler/jobs/a%2Fb/pause", "Bearer s3cret").status == 400);
        CHECK(status_of(raw_exchange("GET http://example.com/health HTTP/1.1\r\nHost: x\r\n\r\n")) == 400);
        CHECK(status_of(raw_exchange("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(5000, 'a') +
                                     "\r\n\r\n")) == 431);
        CHECK(fetch(bhttp::verb::post, "/scheduler/jobs/tick/run", "Bearer s3cret", std::string(2000, 'b')).status ==
              413);
        CHECK(status_of(raw_exchange("HELLO THERE\r\n\r\n")) == 400);
        CHECK(get("/health").status == 200);  // and the server still serves
    }

    TEST_CASE(
        "http: a slow client is closed after the read timeout, and 200 idle connections do not keep /health "
        "from answering") {
        const auto started = std::chrono::steady_clock::now();
        const auto slow = raw_exchange("GET /health HTTP/1.1\r\nHost: x\r\n");  // never ends its header
        CHECK(slow.empty());  // closed without an answer
        CHECK(std::chrono::steady_clock::now() - started < 2500ms);

        net::io_context io;
        std::vector<tcp::socket> idle;
        for (int i = 0; i < 200; ++i) {
            idle.emplace_back(io);
            idle.back().connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), the_service().web.port()});
        }
        std::this_thread::sleep_for(50ms);
        const auto asked = std::chrono::steady_clock::now();
        CHECK(get("/health").status == 200);
        CHECK(std::chrono::steady_clock::now() - asked < 1s);
    }

    TEST_CASE("http: /health is 503 with the reason when the scheduler does not dispatch or is not driven") {
        scheduler idle_one;
        auto r = http::handle(idle_one, "GET", "/health", {}, {});
        CHECK(r.status == 503);
        CHECK(json::parse(r.body)["reason"] == "the scheduler has not been driven yet (no run_due)");
        (void)idle_one.run_due();
        CHECK(http::handle(idle_one, "GET", "/health", {}, {}).status == 200);
        std::this_thread::sleep_for(5ms);
        r = http::handle(idle_one, "GET", "/health", {}, {.stalled_after = 1ms});
        CHECK(r.status == 503);
        CHECK(json::parse(r.body)["reason"].get<std::string>().starts_with("the loop is stalled"));
        idle_one.stop_dispatching();
        r = http::handle(idle_one, "GET", "/health", {}, {});
        CHECK(r.status == 503);
        CHECK(json::parse(r.body)["reason"] == "the scheduler does not dispatch (stopped)");
    }

    TEST_CASE("http: the server refuses an address it cannot listen on, naming it") {
        auto& svc = the_service();
        CHECK_THROWS_WITH_AS(http::server(svc.io.get_executor(), svc.s, {.address = "localhost"}),
                             "sked::http::server: 'localhost' is not an IP address", std::runtime_error);
        CHECK_THROWS_WITH_AS(
            http::server(svc.io.get_executor(), svc.s, {.port = svc.web.port()}),
            doctest::Contains(("cannot listen on 127.0.0.1:" + std::to_string(svc.web.port())).c_str()),
            std::runtime_error);
    }
}

}  // namespace
}  // namespace sked::test

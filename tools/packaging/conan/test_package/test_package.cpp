// Uses the core and each component it was built with (SKED_TEST_<COMPONENT>), so that
// every header compiles and every dependency links; prints one line per part and exits 0
// when each did what it should.
#include <sked/cron.hpp>
#include <sked/version.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#if SKED_TEST_MEMORY
#include <sked/memory_backend.hpp>
#endif
#if SKED_TEST_DATE
#include <sked/date_zone.hpp>
#include <sked/zoned.hpp>
#endif
#if SKED_TEST_REDIS
#include <sked/redis/store.hpp>
#endif
#if SKED_TEST_POSTGRES
#include <sked/postgres/store.hpp>
#endif
#if SKED_TEST_ASIO || SKED_TEST_ASIO_STANDALONE
#include <sked/asio.hpp>
#endif
#if SKED_TEST_HTTP
#include <sked/http/handler.hpp>
#if !SKED_TEST_ASIO_STANDALONE  // the server is on Boost.Asio, which does not share a file with standalone asio
#include <sked/http/server.hpp>
#endif
#endif

namespace {

using namespace std::chrono;
int failures = 0;

void check(bool ok, const char* what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) ++failures;
}

}  // namespace

int main() {
    const auto daily = sked::cron::parse("0 0 * * *");
    const sys_seconds from{seconds{1'795'000'000}};  // 2026-11-18T11:06:40Z
    check(daily && daily->next(from) == sys_seconds{seconds{1'795'046'400}}, "core: the next midnight in UTC");
    check(sked::version.major == SKED_VERSION_MAJOR, "core: sked/version.hpp");
#if SKED_TEST_MEMORY
    sked::memory_locks locks;
    check(locks.try_lock("sweep", 10s) && !locks.try_lock("sweep", 10s)->acquired(), "memory: a lease is held once");
#endif
#if SKED_TEST_DATE
    const auto manila = sked::date_zone::locate("Asia/Manila");
    check(manila && daily && sked::next(*daily, from, *manila) == sys_seconds{seconds{1'795'017'600}},
          "date: the next midnight in Asia/Manila");
#endif
#if SKED_TEST_REDIS
    sked::redis::locks redis{{.host = "127.0.0.1", .port = 1}};  // nothing listens: refused at once
    check(!redis.try_lock("sweep", 10s), "redis: hiredis linked, a refused connection is an error");
#endif
#if SKED_TEST_POSTGRES
    sked::postgres::locks postgres{{.url = "postgresql://127.0.0.1:1/none"}};
    check(!postgres.try_lock("sweep", 10s), "postgres: libpq linked, a refused connection is an error");
#endif
#if SKED_TEST_ASIO || SKED_TEST_ASIO_STANDALONE
    sked::asio::net::io_context io;
    sked::scheduler engine;
    sked::asio::driver driver{io.get_executor(), engine};
    driver.start();
    bool clean = false;
    driver.async_stop(1s, [&](sked::shutdown_report report) { clean = report.clean(); });
    io.run_for(1s);
    check(clean, "asio: a driver started and stopped cleanly");
#endif
#if SKED_TEST_HTTP
    sked::scheduler served;
    const auto health = sked::http::handle(served, "GET", "/health", {});  // never driven: not healthy
    check(health.status == 503 && health.body.find("not been driven") != std::string::npos,
          "http: /health answers 503 before the first pass");
#endif
    return failures == 0 ? 0 : 1;
}

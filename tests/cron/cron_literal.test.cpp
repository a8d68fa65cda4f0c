// Cron literals: checked at compile time, and the whole engine usable in constexpr.
#include <sked/cron.hpp>

#include <doctest/doctest.h>

#include <chrono>

using namespace sked::literals;
using std::chrono::seconds;
using std::chrono::sys_seconds;

namespace {
constexpr sys_seconds epoch{seconds{0}};
constexpr sked::cron daily = "0 0 * * *";
constexpr auto every_five = "*/5 * * * *"_cron;
}  // namespace

// These are evaluated by the compiler: a wrong answer fails the build.
static_assert(daily.next(epoch) == sys_seconds{seconds{86'400}});
static_assert(every_five.next(epoch) == sys_seconds{seconds{300}});
static_assert(every_five.prev(epoch) == sys_seconds{seconds{-300}});
static_assert(!daily.is_wild() && every_five.is_wild());
static_assert(sked::cron::parse("0 0 30 2 *").error().code == sked::cron_errc::never_fires);
static_assert(sked::cron::parse("0 0 29 2 *")->next(epoch) == sys_seconds{seconds{68'169'600}});  // 1972-02-29

TEST_CASE("a literal equals the value parse() gives at run time") {
    CHECK(daily == *sked::cron::parse("0 0 * * *"));
    CHECK(every_five == *sked::cron::parse("*/5 * * * *"));
    CHECK(daily.to_string() == "0 0 * * *");
}

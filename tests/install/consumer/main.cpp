// Prints the next daily run in Asia/Manila after a fixed instant.
#include <sked/cron.hpp>
#include <sked/date_zone.hpp>
#include <sked/zoned.hpp>

#include <cstdio>

int main() {
    using namespace std::chrono;
    const auto daily = sked::cron::parse("0 0 * * *");
    const auto manila = sked::date_zone::locate("Asia/Manila");
    if (!daily || !manila) return 1;
    const auto next = sked::next(*daily, sys_seconds{seconds{1'795'000'000}}, *manila);
    std::printf("%lld\n", static_cast<long long>(next->time_since_epoch().count()));
    return 0;
}

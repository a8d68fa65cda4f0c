// expect: time_zone
// A type without segment(sys_seconds) -> zone_segment is not a zone: the error names
// the sked::time_zone concept rather than failing deep inside the search.
#include <sked/zoned.hpp>
struct not_a_zone {
    int offset_minutes = 60;
};
int main() {
    constexpr sked::cron daily = "0 0 * * *";
    return sked::next(daily, std::chrono::sys_seconds{}, not_a_zone{}).has_value();
}

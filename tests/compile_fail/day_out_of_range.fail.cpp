// expect: value_out_of_range
// A cron literal with day-of-month 32 must not compile.
#include <sked/cron.hpp>
constexpr sked::cron bad = "0 0 32 * *";
int main() { return bad.is_wild(); }

// expect: invalid_step
#include <sked/cron.hpp>
constexpr sked::cron bad = "*/0 * * * *";
int main() { return bad.is_wild(); }

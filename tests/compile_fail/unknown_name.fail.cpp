// expect: unknown_name
#include <sked/cron.hpp>
constexpr sked::cron bad = "0 0 * * FUNDAY";
int main() { return bad.is_wild(); }

// expect: never_fires
// February 30th never happens: the literal must not compile.
#include <sked/cron.hpp>
using namespace sked::literals;
constexpr auto bad = "0 0 30 2 *"_cron;
int main() { return bad.is_wild(); }

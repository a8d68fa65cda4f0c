// The control for the compile-fail cases: the same harness compiles a valid literal.
#include <sked/cron.hpp>
using namespace sked::literals;
constexpr sked::cron ok = "0 0 * * *";
constexpr auto also_ok = "*/5 * * * *"_cron;
int main() { return ok.is_wild() + also_ok.is_wild(); }

// expect: wrong_field_count
#include <sked/cron.hpp>
constexpr sked::cron bad = "* * * *";
int main() { return bad.is_wild(); }

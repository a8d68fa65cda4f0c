// expect: (constant expression|consteval)
// A string known only at run time cannot become a cron literal: call cron::parse().
#include <sked/cron.hpp>
int main(int argc, char** argv) {
    const char text[] = "0 0 * * *";
    const char* p = argc > 1 ? argv[1] : text;
    sked::cron c = sked::literals::operator""_cron(p, 9);
    return c.is_wild();
}

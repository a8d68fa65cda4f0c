// expect: hash_needs_job_name
// 'H' needs a job name, which a literal cannot carry: use cron::parse with parse_options.
#include <sked/cron.hpp>
constexpr sked::cron bad = "H * * * *";
int main() { return bad.is_wild(); }

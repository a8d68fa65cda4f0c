// expect: referral_tier2.*badge_unlock
// Two jobs that start at second 0 of every minute: the table does not compile, and the
// message names both jobs.
#include <sked/stagger.hpp>

constexpr sked::stagger_job table[] = {
    {.name = "referral_tier2", .period = 60, .duration = 3},
    {.name = "badge_unlock", .period = 300, .duration = 10},
    {.name = "live_stats", .period = 60, .offset = 45, .pinned = true},
};
static_assert(sked::no_collisions(table));

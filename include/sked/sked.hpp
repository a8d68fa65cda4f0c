// sked/sked.hpp — the whole dependency-free core. Adapters (sked/date_zone.hpp, ...)
// are never included from here: include them yourself and link their CMake targets.
#pragma once

#include "cron.hpp"  // IWYU pragma: export
#include "cron_error_code.hpp"  // IWYU pragma: export
#include "cron_explain.hpp"  // IWYU pragma: export
#include "hash.hpp"  // IWYU pragma: export
#include "idempotency.hpp"  // IWYU pragma: export
#include "lease_guard.hpp"  // IWYU pragma: export
#include "lock.hpp"  // IWYU pragma: export
#include "stagger.hpp"  // IWYU pragma: export
#include "stagger_cron.hpp"  // IWYU pragma: export
#include "stagger_lint.hpp"  // IWYU pragma: export
#include "stagger_plan.hpp"  // IWYU pragma: export
#include "stagger_switch.hpp"  // IWYU pragma: export
#include "zone.hpp"  // IWYU pragma: export
#include "zoned.hpp"  // IWYU pragma: export

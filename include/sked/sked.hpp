// sked/sked.hpp — the whole dependency-free core. Adapters (sked/date_zone.hpp, ...)
// are never included from here: include them yourself and link their CMake targets.
#pragma once

#include "cron.hpp"  // IWYU pragma: export
#include "cron_error_code.hpp"  // IWYU pragma: export
#include "cron_explain.hpp"  // IWYU pragma: export
#include "hash.hpp"  // IWYU pragma: export
#include "zone.hpp"  // IWYU pragma: export
#include "zoned.hpp"  // IWYU pragma: export

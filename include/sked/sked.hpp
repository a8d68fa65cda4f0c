// sked/sked.hpp — the whole dependency-free core, every public header in include/sked/
// (tests/headers/umbrella.test.sh keeps the list whole). Adapters (sked/date_zone.hpp,
// sked/memory_backend.hpp, sked/redis/...) are never included from here: include them
// yourself and link their CMake targets.
#pragma once

#include "version.hpp"  // IWYU pragma: export

// Cron expressions and time zones
#include "any_zone.hpp"  // IWYU pragma: export
#include "cron.hpp"  // IWYU pragma: export
#include "cron_error.hpp"  // IWYU pragma: export
#include "cron_error_code.hpp"  // IWYU pragma: export
#include "cron_explain.hpp"  // IWYU pragma: export
#include "cron_options.hpp"  // IWYU pragma: export
#include "hash.hpp"  // IWYU pragma: export
#include "zone.hpp"  // IWYU pragma: export
#include "zoned.hpp"  // IWYU pragma: export

// Stagger tables
#include "stagger.hpp"  // IWYU pragma: export
#include "stagger_cron.hpp"  // IWYU pragma: export
#include "stagger_lint.hpp"  // IWYU pragma: export
#include "stagger_plan.hpp"  // IWYU pragma: export
#include "stagger_switch.hpp"  // IWYU pragma: export

// Leases, run keys and the backend concepts
#include "backend_error.hpp"  // IWYU pragma: export
#include "backend_ref.hpp"  // IWYU pragma: export
#include "idempotency.hpp"  // IWYU pragma: export
#include "lease_guard.hpp"  // IWYU pragma: export
#include "lock.hpp"  // IWYU pragma: export
#include "one_off.hpp"  // IWYU pragma: export

// The engine and its drivers
#include "calendar.hpp"  // IWYU pragma: export
#include "clock.hpp"  // IWYU pragma: export
#include "executor.hpp"  // IWYU pragma: export
#include "job.hpp"  // IWYU pragma: export
#include "runner.hpp"  // IWYU pragma: export
#include "schedule.hpp"  // IWYU pragma: export
#include "schedule_words.hpp"  // IWYU pragma: export
#include "scheduler.hpp"  // IWYU pragma: export
#include "thread_pool.hpp"  // IWYU pragma: export

// Events, status, and the text they are written in
#include "duration.hpp"  // IWYU pragma: export
#include "event.hpp"  // IWYU pragma: export
#include "job_stats.hpp"  // IWYU pragma: export
#include "json.hpp"  // IWYU pragma: export
#include "log_hook.hpp"  // IWYU pragma: export
#include "result.hpp"  // IWYU pragma: export
#include "rfc3339.hpp"  // IWYU pragma: export
#include "status_format.hpp"  // IWYU pragma: export
#include "text_error.hpp"  // IWYU pragma: export

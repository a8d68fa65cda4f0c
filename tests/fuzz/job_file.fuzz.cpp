// libFuzzer target for the job file of `sked check` / `sked plan`: any input must be
// read or refused with a line and column inside it, and what is read must be a table
// the library accepts (durations within periods, offsets within periods), whose check
// and plan then run cleanly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <sked/stagger.hpp>
#include <sked/stagger_plan.hpp>

#include "../../tools/sked/job_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    sked::tool::job_file_parser parser;
    std::size_t number = 0;
    for (std::size_t from = 0; from <= text.size();) {
        const auto end = std::min(text.find('\n', from), text.size());
        const auto line = text.substr(from, end - from);
        if (auto bad = parser.parse_line(line, ++number)) {
            if (bad->line != number || bad->column == 0 || bad->column > line.size() + 1 || bad->reason.empty()) {
                std::abort();
            }
            return 0;
        }
        from = end + 1;
    }
    const auto table = sked::tool::expand_table(parser.jobs());
    for (const auto& row : table.rows) {
        if (row.period == 0 || row.duration == 0 || row.duration > row.period || row.offset >= row.period) std::abort();
    }
    const auto report = sked::check(table.rows);
    // Planning costs up to hyperperiod x duration per job: keep each run short.
    if (table.rows.size() <= 64 && report.hyperperiod != 0 && report.hyperperiod <= 100'000) {
        (void)sked::plan(table.rows);
    }
    return 0;
}

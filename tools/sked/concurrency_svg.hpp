// The picture `sked plan --svg` draws: jobs running per second, unstaggered above and
// planned below, on the same axes. Hovering a bar lists the jobs running then.
#pragma once

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <sked/stagger.hpp>

#include "job_file.hpp"

namespace sked::tool {

namespace svg_detail {

inline constexpr int width = 960, panel_height = 180, left = 60, right = 20, top = 40, gap = 70;

inline std::string clock_text(std::uint64_t s) {
    char text[32];
    if (s >= 3600) {
        std::snprintf(text, sizeof text, "%llu:%02llu:%02llu", static_cast<unsigned long long>(s / 3600),
                      static_cast<unsigned long long>(s % 3600 / 60), static_cast<unsigned long long>(s % 60));
    } else {
        std::snprintf(text, sizeof text, "%llu:%02llu", static_cast<unsigned long long>(s / 60),
                      static_cast<unsigned long long>(s % 60));
    }
    return text;
}

inline std::string escaped(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '<') {
            out += "&lt;";
        } else if (c == '&') {
            out += "&amp;";
        } else {
            out += c;
        }
    }
    return out;
}

// One panel: a bar per run of seconds with the same set of running jobs.
inline void panel(std::ostringstream& svg, const expanded_table& table, const std::vector<std::uint32_t>& load,
                  std::uint64_t span, std::uint32_t scale_max, int y0, const std::string& title, const char* colour) {
    const auto hyper = load.size();
    const int plot_width = width - left - right;
    std::uint32_t peak = 0;
    for (std::uint64_t s = 0; s < span; ++s)
        peak = std::max(peak, load[s % hyper]);
    svg << "<text x='" << left << "' y='" << y0 - 12 << "' font-size='14' font-weight='bold'>" << escaped(title)
        << " — peak " << peak << " at once</text>\n";
    // Axes and horizontal grid lines at each whole count.
    const std::uint32_t step = std::max<std::uint32_t>(1, (scale_max + 5) / 6);
    for (std::uint32_t c = 0; c <= scale_max; c += step) {
        const int y = y0 + panel_height - static_cast<int>(c * panel_height / scale_max);
        svg << "<line x1='" << left << "' x2='" << width - right << "' y1='" << y << "' y2='" << y
            << "' stroke='#ddd'/>\n<text x='" << left - 6 << "' y='" << y + 4 << "' font-size='11' text-anchor='end'>"
            << c << "</text>\n";
    }
    svg << "<text x='14' y='" << y0 + panel_height / 2 << "' font-size='11' transform='rotate(-90 14 "
        << y0 + panel_height / 2 << ")' text-anchor='middle'>jobs running</text>\n";
    for (int t = 0; t <= 6; ++t) {
        const std::uint64_t second = span * static_cast<std::uint64_t>(t) / 6;
        const int x = left + static_cast<int>(second * static_cast<std::uint64_t>(plot_width) / span);
        svg << "<text x='" << x << "' y='" << y0 + panel_height + 16 << "' font-size='11' text-anchor='middle'>"
            << clock_text(second) << "</text>\n";
    }
    svg << "<text x='" << left + plot_width / 2 << "' y='" << y0 + panel_height + 32
        << "' font-size='11' text-anchor='middle'>time into the cycle (" << (span > 3600 ? "h:mm:ss" : "m:ss")
        << ")</text>\n";
    for (std::uint64_t from = 0; from < span;) {
        std::uint64_t to = from + 1;
        while (to < span && load[to % hyper] == load[from % hyper])
            ++to;
        if (load[from % hyper] > 0) {
            std::string running;
            for (const auto& row : table.rows) {
                if (running_at(row, from % hyper)) running += (running.empty() ? "" : ", ") + std::string(row.name);
            }
            const double x = left + static_cast<double>(from) * plot_width / static_cast<double>(span);
            const double w = std::max(0.8, static_cast<double>(to - from) * plot_width / static_cast<double>(span));
            const int h = static_cast<int>(load[from % hyper] * panel_height / scale_max);
            svg << "<rect x='" << x << "' y='" << y0 + panel_height - h << "' width='" << w << "' height='" << h
                << "' fill='" << colour << "'><title>" << clock_text(from) << "-" << clock_text(to) << ": "
                << load[from % hyper] << " running: " << escaped(running) << "</title></rect>\n";
        }
        from = to;
    }
    svg << "<line x1='" << left << "' x2='" << width - right << "' y1='" << y0 + panel_height << "' y2='"
        << y0 + panel_height << "' stroke='#333'/>\n<line x1='" << left << "' x2='" << left << "' y1='" << y0
        << "' y2='" << y0 + panel_height << "' stroke='#333'/>\n";
}

}  // namespace svg_detail

inline std::string concurrency_svg(const expanded_table& before, const expanded_table& after, std::uint64_t hyperperiod,
                                   std::uint64_t window) {
    using namespace svg_detail;
    const auto cycle = std::max<std::uint64_t>(hyperperiod, 1);
    const std::uint64_t span = window != 0 ? window : cycle;
    const auto load_before = load_over(before.rows, cycle), load_after = load_over(after.rows, cycle);
    const std::uint32_t scale_max =
        std::max<std::uint32_t>({1, *std::max_element(load_before.begin(), load_before.end()),
                                 *std::max_element(load_after.begin(), load_after.end())});
    std::ostringstream svg;
    const int height = top + 2 * panel_height + gap + 60;
    svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
        << "' font-family='sans-serif'>\n<rect width='100%' height='100%' fill='white'/>\n";
    panel(svg, before, load_before, span, scale_max, top, "Unstaggered (every job at offset 0)", "#d9534f");
    panel(svg, after, load_after, span, scale_max, top + panel_height + gap, "Planned by sked plan", "#2e7d32");
    svg << "<text x='" << left << "' y='" << height - 8
        << "' font-size='11' fill='#555'>Hover a bar for the jobs running then. Drawn: " << clock_text(span) << " of a "
        << clock_text(hyperperiod) << " cycle.</text>\n</svg>\n";
    return svg.str();
}

}  // namespace sked::tool

// The dashboard page's files, compiled in (cmake/EmbedAssets.cmake) so the
// binary serves them with nothing on disk and nothing from the network.
#pragma once

#include <string_view>
#include <vector>

namespace qtopology::cli::dashboard {

struct Asset {
  std::string_view path;  // "/dashboard.js"; the page itself is "/index.html"
  std::string_view content_type;
  std::string_view content;
};

const std::vector<Asset>& assets();

}  // namespace qtopology::cli::dashboard

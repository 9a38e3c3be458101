#include "topology_file.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

#include <qtopology/bounded_json.hpp>

#include "command_line.hpp"
#include "json_type.hpp"

namespace qtopology::cli {
namespace {

std::string readAll(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) throw CommandError("cannot read " + path);
  text << file.rdbuf();
  return text.str();
}

}  // namespace

TextPosition positionOf(std::string_view text, std::size_t offset) {
  TextPosition at;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++at.line;
      at.column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++at.column;
    }
  }
  return at;
}

Json readTopologyFile(const std::string& path) {
  const std::string text = readAll(path);
  const std::string name = path == "-" ? "<stdin>" : path;
  Json config;
  try {
    config = parseBoundedJson(text, {}, true);
  } catch (const JsonInputError& e) {
    if (e.overLimit()) throw CommandError(name + ": not read: the JSON is " + e.what());
    const auto at = positionOf(text, e.byte());
    throw CommandError(name + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                       ": " + e.what());
  }
  if (!config.is_object()) {
    throw CommandError(name + ": a topology must be a JSON object, not " +
                       apps::typeWithArticle(config));
  }
  return config;
}

void writeTopologyFile(const std::string& path, const Json& config) {
  const std::string text = config.dump(2) + "\n";
  if (path == "-") {
    std::cout << text;
    return;
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!(file << text) || !file.flush()) throw CommandError("cannot write " + path);
}

}  // namespace qtopology::cli

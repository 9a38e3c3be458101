// Reading a topology definition from a JSON file, with errors a person can
// act on.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::cli {

struct TextPosition {
  std::size_t line = 1;    // 1-based
  std::size_t column = 1;  // 1-based, in characters (UTF-8 code points)
};

// Where the byte at 0-based `offset` of `text` is. An offset at or past the
// end gives the position just after the last character.
TextPosition positionOf(std::string_view text, std::size_t offset);

// Reads and parses `path` ("-" is standard input). Comments are allowed, as
// QTopology allows them in topology files. Throws CommandError: for a syntax
// error "PATH:LINE:COLUMN: <what is wrong>"; also when the file cannot be
// read or does not hold a JSON object. Weight and affinity are checked by
// the storage, which says which field is wrong.
Json readTopologyFile(const std::string& path);

// Writes `config` pretty-printed to `path` ("-" is standard output).
void writeTopologyFile(const std::string& path, const Json& config);

}  // namespace qtopology::cli

// How the programs' error messages name a JSON value's type without showing
// the value (which may be hostile or huge).
#pragma once

#include <string>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::apps {

// "an object", "an array", "a string", "a number", "a boolean", "null".
std::string typeWithArticle(const Json& value);

}  // namespace qtopology::apps

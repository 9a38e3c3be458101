#include <qtopology/bounded_json.hpp>

namespace qtopology {
namespace {

// Thrown from the parser's callback to end parsing; caught below.
struct LimitReached {
  std::string what;
};

// nlohmann's message: "[json.exception.parse_error.101] parse error at line
// 1, column 5: syntax error while parsing value - invalid literal; last read:
// 'tru'". The reason is kept; the id, the position (given by byte()) and
// the text last read (the input itself, possibly hostile) are not.
std::string reasonOf(const Json::parse_error& e) {
  std::string what = e.what();
  const auto start = what.find("syntax error");
  if (start != std::string::npos) what = what.substr(start);
  const auto last_read = what.find("; last read");
  if (last_read != std::string::npos) what.erase(last_read);
  return what;
}

}  // namespace

Json parseBoundedJson(std::string_view text, const JsonLimits& limits, bool allow_comments) {
  std::size_t values = 0;
  const auto count = [&] {
    if (++values > limits.max_values) {
      throw LimitReached{"more than " + std::to_string(limits.max_values) + " values"};
    }
  };
  // Called as each container opens (before it is entered) and after each
  // scalar is read, so a limit ends the parse at once, with nothing deep or
  // huge built yet. Containers pass no "value" event of their own.
  const Json::parser_callback_t guard = [&](int depth, Json::parse_event_t event, Json& parsed) {
    using Event = Json::parse_event_t;
    if (event == Event::object_start || event == Event::array_start) {
      // `depth` counts the containers already open around this one.
      if (static_cast<std::size_t>(depth) >= limits.max_depth) {
        throw LimitReached{"nested deeper than " + std::to_string(limits.max_depth) + " levels"};
      }
      count();
    } else if (event == Event::value && !parsed.is_structured()) {
      count();
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), guard, true, allow_comments);
  } catch (const LimitReached& e) {
    throw JsonInputError(e.what, text.size(), true);
  } catch (const Json::parse_error& e) {
    // e.byte counts the bytes read, the offending one included.
    throw JsonInputError(reasonOf(e), e.byte > 0 ? e.byte - 1 : 0, false);
  }
}

}  // namespace qtopology

#include "sql_script.hpp"

#include <cctype>
#include <stdexcept>

namespace qtopology::detail {
namespace {

bool isBlank(std::string_view s) {
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "DELIMITER x" is a client command, recognised only at the start of a line.
bool parseDelimiterCommand(std::string_view line, std::string& delimiter) {
  line = trim(line);
  constexpr std::string_view keyword = "delimiter";
  if (line.size() < keyword.size()) return false;
  for (std::size_t i = 0; i < keyword.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != keyword[i]) return false;
  }
  if (line.size() == keyword.size()) throw std::invalid_argument("DELIMITER without a value");
  if (!std::isspace(static_cast<unsigned char>(line[keyword.size()]))) return false;
  std::string_view value = trim(line.substr(keyword.size()));
  if (value.empty()) throw std::invalid_argument("DELIMITER without a value");
  delimiter.assign(value);
  return true;
}

class Splitter {
 public:
  explicit Splitter(std::string_view script) : src_(script) {}

  std::vector<SqlStatement> run() {
    while (pos_ < src_.size()) {
      if (atLineStart() && tryDelimiterLine()) continue;
      if (startsWith(delimiter_)) {
        pos_ += delimiter_.size();
        finishStatement();
        continue;
      }
      const char c = src_[pos_];
      if (c == '\'' || c == '"' || c == '`') {
        copyQuoted(c);
      } else if (startsWith("--") && (pos_ + 2 >= src_.size() ||
                                      std::isspace(static_cast<unsigned char>(src_[pos_ + 2])))) {
        skipLineComment();
      } else if (c == '#') {
        skipLineComment();
      } else if (startsWith("/*")) {
        skipBlockComment();
      } else {
        append(c);
        ++pos_;
      }
    }
    finishStatement();
    return std::move(out_);
  }

 private:
  bool atLineStart() const { return pos_ == 0 || src_[pos_ - 1] == '\n'; }

  bool startsWith(std::string_view s) const { return src_.compare(pos_, s.size(), s) == 0; }

  bool tryDelimiterLine() {
    std::size_t end = src_.find('\n', pos_);
    if (end == std::string_view::npos) end = src_.size();
    if (!isBlank(current_) || !parseDelimiterCommand(src_.substr(pos_, end - pos_), delimiter_)) {
      return false;
    }
    advanceTo(end);
    return true;
  }

  void append(char c) {
    if (current_.empty() && std::isspace(static_cast<unsigned char>(c))) {
      if (c == '\n') ++line_;
      return;
    }
    if (current_.empty()) start_line_ = line_;
    if (c == '\n') ++line_;
    current_.push_back(c);
  }

  void advanceTo(std::size_t end) {
    for (; pos_ < end; ++pos_) {
      if (src_[pos_] == '\n') ++line_;
    }
  }

  void copyQuoted(char quote) {
    const int opened_at = line_;
    append(src_[pos_++]);
    while (pos_ < src_.size()) {
      const char c = src_[pos_];
      if (c == '\\' && quote != '`' && pos_ + 1 < src_.size()) {
        append(c);
        append(src_[pos_ + 1]);
        pos_ += 2;
        continue;
      }
      append(c);
      ++pos_;
      if (c == quote) {
        if (pos_ < src_.size() && src_[pos_] == quote) {  // doubled quote escapes itself
          append(src_[pos_++]);
          continue;
        }
        return;
      }
    }
    throw std::invalid_argument("unterminated quoted text opened on line " +
                                std::to_string(opened_at));
  }

  void skipLineComment() {
    std::size_t end = src_.find('\n', pos_);
    advanceTo(end == std::string_view::npos ? src_.size() : end);
  }

  void skipBlockComment() {
    const int opened_at = line_;
    const std::size_t end = src_.find("*/", pos_ + 2);
    if (end == std::string_view::npos) {
      throw std::invalid_argument("unterminated comment opened on line " +
                                  std::to_string(opened_at));
    }
    advanceTo(end + 2);
    append(' ');  // a comment separates tokens
  }

  void finishStatement() {
    std::string_view text = trim(current_);
    if (!text.empty()) out_.push_back({std::string(text), start_line_});
    current_.clear();
  }

  std::string_view src_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int start_line_ = 1;
  std::string delimiter_ = ";";
  std::string current_;
  std::vector<SqlStatement> out_;
};

}  // namespace

std::vector<SqlStatement> splitSqlScript(std::string_view script) { return Splitter(script).run(); }

}  // namespace qtopology::detail

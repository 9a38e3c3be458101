// Not compiled: what apps_include_check_finds_src_include shows the apps/
// include check refusing (a program reaching into the library's src/).
#include <qtopology/worker.hpp>

#include "core/validation.hpp"

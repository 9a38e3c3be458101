// Links against the component's targets: the imported libraries exist.
#include <qtopology/text.hpp>

int main() { return qtopology::escapeControl("a\nb") == "a\\nb" ? 0 : 1; }

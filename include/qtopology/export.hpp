// QTOPOLOGY_EXPORT marks what the shared libraries export. They are built
// with -fvisibility=hidden and -fvisibility-inlines-hidden: a declaration
// without the mark (every detail:: helper among them) stays out of the
// dynamic symbol table, so it is not part of the ABI and may change freely.
// Classes with virtual functions or out-of-line members carry the mark on
// the class, so that their vtables and type information (an exception caught
// in the host) are shared; free functions carry it on the declaration.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define QTOPOLOGY_EXPORT __attribute__((visibility("default")))
#else
#define QTOPOLOGY_EXPORT
#endif

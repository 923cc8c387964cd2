// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <string>

namespace poplar {
/** The Poplar version, e.g. "3.3.0". */
std::string versionString();
/** The hash of the Poplar package build. */
std::string packageHash();
}  // namespace poplar

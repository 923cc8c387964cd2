// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <poplar/Graph.hpp>

namespace poplin {
/** Adds this library's vertices (codelets) to the graph. */
void addCodelets(poplar::Graph& graph);
}  // namespace poplin

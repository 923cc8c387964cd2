// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <initializer_list>

#include <poplar/DataStream.hpp>
#include <poplar/DebugContext.hpp>
#include <poplar/Tensor.hpp>

namespace poplar {
namespace program {
/** A control program; the subclasses below are the ones native/ builds. */
class Program {
  public:
    Program();
    Program(const Program& other);
    Program& operator=(const Program& other);
    virtual ~Program();
};

class Sequence : public Program {
  public:
    Sequence(const DebugContext& debugContext = {});
    Sequence(std::initializer_list<Program> programs, const DebugContext& debugContext = {});
    void add(const Program& p);
};

class Copy : public Program {
  public:
    Copy(const Tensor& src, const Tensor& dst, bool dontOutline = false, const DebugContext& debugContext = {});
    Copy(const DataStream& stream, const Tensor& dst, bool optimiseMemory = false,
         const DebugContext& debugContext = {});
    Copy(const Tensor& src, const DataStream& stream, bool optimiseMemory = false,
         const DebugContext& debugContext = {});
};

class Repeat : public Program {
  public:
    Repeat(unsigned count, const Program& body, const DebugContext& debugContext = {});
};
}  // namespace program
}  // namespace poplar

// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <memory>
#include <type_traits>

#include <poplar/Type.hpp>

namespace popops {
namespace expr {
/** An element-wise expression tree for popops::map; placeholders _1, _2, ... name map's inputs. */
class Expr {
  public:
    virtual ~Expr();
    virtual std::unique_ptr<Expr> clone() const = 0;
};

template <class T>
class ExprType : public Expr {
  public:
    std::unique_ptr<Expr> clone() const override;
};

class Const : public ExprType<Const> {
  public:
    template <typename T, typename = typename std::enable_if<std::is_arithmetic<T>::value>::type>
    Const(T value);
    Const(const Const& other);
};

class PlaceHolder : public ExprType<PlaceHolder> {
  public:
    PlaceHolder(unsigned index);
    PlaceHolder(const PlaceHolder& other);
};
extern const PlaceHolder _1, _2, _3, _4, _5, _6;

class Cast : public ExprType<Cast> {
  public:
    Cast(const Expr& a, const poplar::Type type);
    Cast(const Cast& other);
};

class UnaryOp : public ExprType<UnaryOp> {
  public:
    UnaryOp(const UnaryOp& other);

  protected:
    UnaryOp();
};
class BinaryOp : public ExprType<BinaryOp> {
  public:
    BinaryOp(const BinaryOp& other);

  protected:
    BinaryOp();
};
class TernaryOp : public ExprType<TernaryOp> {
  public:
    TernaryOp(const TernaryOp& other);

  protected:
    TernaryOp();
};

#define STANDIN_UNARY(Name)           \
    class Name : public UnaryOp {     \
      public:                         \
        explicit Name(const Expr& a); \
    };
#define STANDIN_BINARY(Name)                \
    class Name : public BinaryOp {          \
      public:                               \
        Name(const Expr& a, const Expr& b); \
    };
#define STANDIN_BINARY_SYMBOL(Name, Sym)                                                                       \
    STANDIN_BINARY(Name)                                                                                       \
    Name operator Sym(const Expr& a, const Expr& b);                                                           \
    template <typename T>                                                                                      \
    typename std::enable_if<std::is_arithmetic<T>::value, Name>::type operator Sym(const T& a, const Expr& b); \
    template <typename T>                                                                                      \
    typename std::enable_if<std::is_arithmetic<T>::value, Name>::type operator Sym(const Expr& a, const T& b);

STANDIN_UNARY(Abs)
STANDIN_UNARY(IsFinite)
STANDIN_UNARY(Neg)
STANDIN_UNARY(Not)
STANDIN_UNARY(Sqrt)
STANDIN_UNARY(Square)
STANDIN_UNARY(Rsqrt)
STANDIN_BINARY_SYMBOL(Add, +)
STANDIN_BINARY_SYMBOL(Sub, -)
STANDIN_BINARY_SYMBOL(Mul, *)
STANDIN_BINARY_SYMBOL(Divide, /)
STANDIN_BINARY_SYMBOL(Equal, ==)
STANDIN_BINARY_SYMBOL(NotEqual, !=)
STANDIN_BINARY_SYMBOL(Gt, >)
STANDIN_BINARY_SYMBOL(Gte, >=)
STANDIN_BINARY_SYMBOL(Lt, <)
STANDIN_BINARY_SYMBOL(Lte, <=)
STANDIN_BINARY_SYMBOL(And, &&)
STANDIN_BINARY_SYMBOL(Or, ||)
STANDIN_BINARY(Max)
STANDIN_BINARY(Min)
STANDIN_BINARY(Pow)

/** Select(a, b, c) is c ? a : b, element by element. */
class Select : public TernaryOp {
  public:
    Select(const Expr& a, const Expr& b, const Expr& c);
};
class Clamp : public TernaryOp {
  public:
    Clamp(const Expr& a, const Expr& b, const Expr& c);
};

#undef STANDIN_UNARY
#undef STANDIN_BINARY
#undef STANDIN_BINARY_SYMBOL
}  // namespace expr
}  // namespace popops

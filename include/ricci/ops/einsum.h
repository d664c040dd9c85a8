#pragma once
// einsum: Einstein summation, torch.einsum's grammar and semantics.
//
//   einsum("ij,jk->ik", {A, B})        == A @ B
//   einsum("bij,bjk->bik", {A, B})     batched matmul
//   einsum("btd,bsd->bts", {Q, K})     == Q @ K.mT()
//   einsum("i,j->ij", {a, b})          outer product
//   einsum("ii->", {M})                trace;  "ii->i": the diagonal (a view)
//   einsum("...ij,...jk", {A, B})      ellipsis: broadcast batch dims
//
// Grammar: one subscript term per operand, separated by commas; each term is letters (a-z, A-Z)
// and at most one "..."; spaces are ignored. With "->" the output is given explicitly (each
// letter at most once; ellipsis dims not named in it are summed). Without it the output is the
// ellipsis dims followed by the letters that appear exactly once, in alphabetical (ASCII) order.
// A letter repeated within one operand takes that operand's diagonal. Dims of size 1 broadcast
// against the same letter's size in other operands.
//
// How it runs: letters that only one operand has and the output lacks are summed first; the
// operands are then contracted two at a time in the cheapest order (an exhaustive search for up
// to 4 operands, greedy beyond; the path is cached per equation and shapes), each contraction a
// permute + reshape + bmm. So einsum is differentiable through those ops' gradients, and as fast
// as the GEMM behind bmm.
//
// All operands must share one dtype (not bool) and one device. Errors (ValueError unless noted):
// malformed equation, operand count mismatch, subscript count vs ndim mismatch (ShapeError),
// sizes of one letter that do not broadcast (ShapeError, "[einsum] operands do not broadcast:
// subscript 'j' has size 3 for operand 0 but size 4 for operand 1").
#include <string_view>
#include <vector>

#include "ricci/tensor.h"

namespace ricci {

Tensor einsum(std::string_view equation, const std::vector<Tensor>& operands);

}  // namespace ricci

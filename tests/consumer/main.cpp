#include <ricci/ricci.h>

#include <iostream>

int main() {
  ricci::Tensor a = ricci::tensor(2.0).requires_grad_();
  ricci::Tensor b = ricci::tensor(3.0).requires_grad_();
  ricci::Tensor e = (a * b) * (a + b);
  e.pow(2).backward();
  std::cout << a.grad() << " " << b.grad() << "\n";
  return a.grad().item<double>() == 1260.0 && b.grad().item<double>() == 960.0 ? 0 : 1;
}

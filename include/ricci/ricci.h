#pragma once
// ricci: tensors, eager autograd and function transforms in C++20. This header includes them all.
#include "ricci/allocator.h"
#include "ricci/autograd.h"
#include "ricci/device.h"
#include "ricci/dtype.h"
#include "ricci/error.h"
#include "ricci/factories.h"
#include "ricci/half.h"
#include "ricci/parallel.h"
#include "ricci/random.h"
#include "ricci/scalar.h"
#include "ricci/tensor.h"
